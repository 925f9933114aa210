// Package netenv builds test environments for XDP: a veth pair with IPv4
// and IPv6 addresses whose inner end lives in a new network namespace, in
// the spirit of the xdp-tutorial's testenv.sh.
//
// An env named NAME is made of
//
//	netns  xk-NAME      pinned at /run/netns/xk-NAME, so "ip netns exec
//	                    xk-NAME CMD" works from any process
//	veth   xk-NAME      the outer end, in the current namespace (normally
//	                    the root one), or with Spec.Isolated in its own
//	                    namespace xko-NAME
//	veth   xk-NAME-in   the inner end, in xk-NAME, with lo up beside it
//
// with the outer end at 10.11.N.1/24 and fc00:dead:cafe:N::1/64 and the
// inner end at .2 and ::2 by default, N picked per env so that envs never
// share a subnet. The kernel holds all of that, so List, Open and Teardown
// work across processes: an env made by "xdpkit env setup" stays until
// "xdpkit env teardown". See StateDir for the little state kept beside.
//
// Setup, Teardown and the functions that read envs need CAP_NET_ADMIN and
// CAP_SYS_ADMIN (namespaces and mounts).
package netenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// ErrIncomplete is matched (errors.Is) by Open's error for an env whose
// namespace exists but whose veth pair does not, such as one left by a
// setup that was killed halfway. Teardown removes such envs.
var ErrIncomplete = errors.New("env is incomplete")

// End is one end of an env's veth pair.
type End struct {
	// Netns is the name of the end's network namespace under NetnsDir,
	// or "" for the current namespace (normally the root one).
	Netns string
	// Interface is the veth device's name and Ifindex its index, both
	// valid inside Netns.
	Interface string
	Ifindex   int
	MAC       net.HardwareAddr
	// IPv4 and IPv6 are the end's address with its prefix length; the
	// zero Prefix when the env has no address of that family.
	IPv4, IPv6 netip.Prefix
}

// Env is a live test environment, made by Setup or found by Open. Close
// removes its veth pair and namespaces.
type Env struct {
	// Name is the env's name, as given to Open and Teardown.
	Name string
	// Outer is the end in the current namespace (or in xko-NAME when
	// Isolated); Inner is the end in the namespace xk-NAME.
	Outer, Inner End
	// Queues is the number of TX and RX queues of each end.
	Queues int
	// MTU of both ends.
	MTU int
	// Isolated reports that the outer end has a namespace of its own.
	Isolated bool
	// Temporary reports that the env belongs to a process (see
	// Spec.Temporary).
	Temporary bool
	// Notes says, one sentence each, where Setup made the env differently
	// from what the spec asked by default, such as without IPv6 on a
	// machine that disables it. Empty for an env found by Open.
	Notes []string

	mu     sync.Mutex
	closed bool
	owner  *os.File // flock'ed owner file of a Temporary env we set up
}

// setupHook, when set, is called after each step of Setup with the env's
// name and the step; an error it returns makes the step fail. Tests use it
// to check that a failed setup leaves nothing behind.
var setupHook atomic.Pointer[func(name, step string) error]

func step(name, s string) error {
	if h := setupHook.Load(); h != nil {
		return (*h)(name, s)
	}
	return nil
}

// Setup builds the env that spec describes and returns it up and ready:
// addresses configured, both ends and the inner loopback up. The env
// persists until Close or Teardown, also after this process exits (unless
// spec.Temporary and swept by SweepOrphans).
//
// Where IPv6 is disabled (sysctl net.ipv6.conf.all.disable_ipv6=1, common
// in containers), an env with default addresses is made without IPv6 and
// Env.Notes says so; an explicit spec.IPv6 fails with an error matching
// errors.ErrUnsupported.
//
// A name in use fails with an error matching os.ErrExist; an invalid spec
// with one matching os.ErrInvalid. Setup waits while another process sets
// up or tears down an env, until ctx is done. On any failure, and when ctx
// is cancelled halfway, Setup removes whatever it had made before
// returning.
func Setup(ctx context.Context, spec Spec) (_ *Env, err error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if spec.Name == "" {
		spec.Name = generateName()
	}
	if spec.Queues == 0 {
		spec.Queues = 1
	}
	name := spec.Name
	defer func() {
		if err != nil {
			err = fmt.Errorf("set up env %q: %w", name, err)
		}
	}()

	unlock, err := lockState(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()

	var undo []func() error
	defer func() {
		if err != nil {
			var errs []error
			for i := len(undo) - 1; i >= 0; i-- {
				if uerr := undo[i](); uerr != nil {
					errs = append(errs, uerr)
				}
			}
			if len(errs) > 0 {
				err = fmt.Errorf("%w (and removing what was made failed: %w; run \"xdpkit env teardown %s\")", err, errors.Join(errs...), name)
			}
		}
	}()
	check := func(s string) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		return step(name, s)
	}

	if err := checkFree(spec); err != nil {
		return nil, err
	}
	env := &Env{
		Name:      name,
		Queues:    spec.Queues,
		Isolated:  spec.Isolated,
		Temporary: spec.Temporary,
		Outer:     End{Interface: outerIfName(name)},
		Inner:     End{Netns: innerNetnsName(name), Interface: innerIfName(name)},
	}
	if spec.Isolated {
		env.Outer.Netns = outerNetnsName(name)
	}

	if spec.Temporary {
		f, err := claimOwner(name)
		if err != nil {
			return nil, err
		}
		env.owner = f
		undo = append(undo, func() error { releaseOwner(name, f); env.owner = nil; return nil })
	}

	explicitIPv6 := spec.IPv6.IsValid()
	if err := pickAddresses(&spec); err != nil {
		return nil, err
	}
	if err := check("netns"); err != nil {
		return nil, err
	}
	for _, ns := range []string{env.Inner.Netns, env.Outer.Netns} {
		if ns == "" {
			continue
		}
		if err := createNetns(ns); err != nil {
			if errors.Is(err, os.ErrExist) {
				return nil, nameTaken(name)
			}
			return nil, fmt.Errorf("create netns %s: %w", ns, err)
		}
		undo = append(undo, func() error { return deleteNetns(ns) })
	}

	if err := check("veth"); err != nil {
		return nil, err
	}
	innerNs, err := openNetns(env.Inner.Netns)
	if err != nil {
		return nil, err
	}
	defer innerNs.Close()
	outerNs, err := openNetns(env.Outer.Netns)
	if err != nil {
		return nil, err
	}
	defer outerNs.Close()
	hOuter, err := netlink.NewHandleAt(outerNs, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink in outer netns: %w", err)
	}
	defer hOuter.Close()
	hInner, err := netlink.NewHandleAt(innerNs, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink in netns %s: %w", env.Inner.Netns, err)
	}
	defer hInner.Close()

	attrs := netlink.NewLinkAttrs()
	attrs.Name = env.Outer.Interface
	attrs.MTU = spec.MTU
	attrs.NumTxQueues = spec.Queues
	attrs.NumRxQueues = spec.Queues
	veth := netlink.NewVeth(attrs)
	veth.PeerName = env.Inner.Interface
	veth.PeerNamespace = netlink.NsFd(innerNs)
	// The pair is created with each end already in its namespace, so no
	// moment exists where the inner end sits in the outer namespace.
	if err := hOuter.LinkAdd(veth); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return nil, errs.Markf(os.ErrExist, "interface %s already exists", env.Outer.Interface)
		}
		return nil, fmt.Errorf("create veth pair %s/%s with %d queues: %w", env.Outer.Interface, env.Inner.Interface, spec.Queues, err)
	}
	undo = append(undo, func() error {
		return WithHandle(env.Outer.Netns, func(h *netlink.Handle) error { return deleteLink(h, env.Outer.Interface) })
	})

	if err := check("addresses"); err != nil {
		return nil, err
	}
	outerLink, err := hOuter.LinkByName(env.Outer.Interface)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", env.Outer.Interface, err)
	}
	innerLink, err := hInner.LinkByName(env.Inner.Interface)
	if err != nil {
		return nil, fmt.Errorf("find %s in netns %s: %w", env.Inner.Interface, env.Inner.Netns, err)
	}
	if spec.IPv6.IsValid() {
		for _, end := range []End{env.Outer, env.Inner} {
			why, err := ipv6Disabled(end)
			if err != nil {
				return nil, err
			}
			if why == "" {
				continue
			}
			if explicitIPv6 {
				return nil, errIPv6Disabled(why)
			}
			spec.IPv6 = netip.Prefix{}
			env.Notes = append(env.Notes, fmt.Sprintf("IPv6 is disabled %s: the env has no IPv6 addresses", why))
			break
		}
	}
	for _, a := range []struct {
		h    *netlink.Handle
		link netlink.Link
		p    netip.Prefix
	}{
		{hOuter, outerLink, spec.IPv4},
		{hInner, innerLink, peerOf(spec.IPv4)},
		{hOuter, outerLink, spec.IPv6},
		{hInner, innerLink, peerOf(spec.IPv6)},
	} {
		if !a.p.IsValid() {
			continue
		}
		addr := &netlink.Addr{IPNet: prefixIPNet(a.p)}
		if a.p.Addr().Is6() {
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := a.h.AddrAdd(a.link, addr); err != nil {
			if a.p.Addr().Is6() && errors.Is(err, unix.EACCES) {
				// What the kernel says when IPv6 is disabled on the link.
				return nil, errIPv6Disabled(fmt.Sprintf("on %s", a.link.Attrs().Name))
			}
			return nil, fmt.Errorf("add address %s to %s: %w", a.p, a.link.Attrs().Name, err)
		}
	}

	if err := check("up"); err != nil {
		return nil, err
	}
	if err := hInner.LinkSetUp(innerLink); err != nil {
		return nil, fmt.Errorf("set %s up: %w", env.Inner.Interface, err)
	}
	if err := hOuter.LinkSetUp(outerLink); err != nil {
		return nil, fmt.Errorf("set %s up: %w", env.Outer.Interface, err)
	}
	for _, h := range []*netlink.Handle{hInner, hOuter} {
		if h == hOuter && !spec.Isolated {
			continue // the current namespace's loopback is not ours
		}
		lo, err := h.LinkByName("lo")
		if err == nil {
			err = h.LinkSetUp(lo)
		}
		if err != nil {
			return nil, fmt.Errorf("set lo up: %w", err)
		}
	}
	if err := check("done"); err != nil {
		return nil, err
	}

	if err := readEnd(hOuter, &env.Outer); err != nil {
		return nil, err
	}
	if err := readEnd(hInner, &env.Inner); err != nil {
		return nil, err
	}
	env.MTU = innerLink.Attrs().MTU
	if spec.MTU != 0 {
		env.MTU = spec.MTU
	}
	return env, nil
}

// ipv6Disabled returns where IPv6 is disabled for end's interface, such
// as "on this machine (sysctl net.ipv6.conf.all.disable_ipv6=1)", or ""
// when it is enabled. It reads the sysctls of the end's namespace.
func ipv6Disabled(end End) (string, error) {
	var why string
	err := end.Do(func() error {
		read := func(conf string) (bool, error) {
			b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + conf + "/disable_ipv6")
			if err != nil {
				return false, err
			}
			return strings.TrimSpace(string(b)) != "0", nil
		}
		off, err := read(end.Interface)
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat("/proc/sys/net/ipv6"); errors.Is(serr, os.ErrNotExist) {
				why = "in this kernel (booted with ipv6.disable=1)"
			}
			// Else the link has no IPv6 state for another reason (an MTU
			// below 1280): adding the address says why.
			return nil
		}
		if err != nil || !off {
			return err
		}
		where := "on this machine"
		if end.Netns != "" {
			where = "in netns " + end.Netns
		}
		why = fmt.Sprintf("%s (sysctl net.ipv6.conf.%s.disable_ipv6=1)", where, end.Interface)
		for _, conf := range []string{"all", "default"} {
			if off, err := read(conf); err == nil && off {
				why = fmt.Sprintf("%s (sysctl net.ipv6.conf.%s.disable_ipv6=1)", where, conf)
				break
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("check whether IPv6 is enabled on %s: %w", end.Interface, err)
	}
	return why, nil
}

func errIPv6Disabled(why string) error {
	return errs.Markf(errors.ErrUnsupported, "IPv6 is disabled %s: use --no-ipv6 or enable it", why)
}

func peerOf(p netip.Prefix) netip.Prefix {
	if !p.IsValid() {
		return p
	}
	return peerPrefix(p)
}

func prefixIPNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), bits)}
}

func nameTaken(name string) error {
	return errs.Markf(os.ErrExist, "env %q already exists: use it, or remove it with \"xdpkit env teardown %s\"", name, name)
}

// checkFree fails with os.ErrExist when the env's name or its outer
// interface is taken. Call with the state lock held.
func checkFree(spec Spec) error {
	if netnsExists(innerNetnsName(spec.Name)) || (spec.Isolated && netnsExists(outerNetnsName(spec.Name))) {
		return nameTaken(spec.Name)
	}
	if !spec.Isolated {
		if _, err := netlink.LinkByName(outerIfName(spec.Name)); err == nil {
			return fmt.Errorf("interface %s already exists in this namespace: pick another env name, or remove it with \"ip link del %s\": %w",
				outerIfName(spec.Name), outerIfName(spec.Name), os.ErrExist)
		}
	}
	return nil
}

// pickAddresses fills in the default addresses of spec, at a slot N no
// other env nor interface of the current namespace uses and, for a
// non-isolated env, that no route of the current namespace overlaps (such
// as a VPN's 10.0.0.0/8). It checks that explicit addresses of a
// non-isolated env do not collide with the current namespace's addresses.
// Call with the state lock held.
func pickAddresses(spec *Spec) error {
	used, err := usedAddresses(!spec.Isolated)
	if err != nil {
		return err
	}
	var routes []netip.Prefix
	if !spec.Isolated {
		if routes, err = routedPrefixes(); err != nil {
			return err
		}
	}
	inUse := func(p netip.Prefix) (netip.Addr, bool) {
		for _, a := range used {
			if p.Masked().Contains(a) {
				return a, true
			}
		}
		return netip.Addr{}, false
	}
	free := func(p netip.Prefix) bool {
		if _, ok := inUse(p); ok {
			return false
		}
		for _, r := range routes {
			if r.Overlaps(p) {
				return false
			}
		}
		return true
	}
	for _, p := range []netip.Prefix{spec.IPv4, spec.IPv6} {
		if !p.IsValid() || spec.Isolated {
			continue
		}
		if a, ok := inUse(p); ok {
			return errs.Markf(os.ErrExist, "%s overlaps address %s already in use: pick another prefix", p.Masked(), a)
		}
	}
	needV4 := !spec.NoIPv4 && !spec.IPv4.IsValid()
	needV6 := !spec.NoIPv6 && !spec.IPv6.IsValid()
	if !needV4 && !needV6 {
		return nil
	}
	first := defaultSlot(spec.Name)
	for i := 0; i < 256; i++ {
		v4, v6 := slotPrefixes((first + i) % 256)
		if (needV4 && !free(v4)) || (needV6 && !free(v6)) {
			continue
		}
		if needV4 {
			spec.IPv4 = v4
		}
		if needV6 {
			spec.IPv6 = v6
		}
		return nil
	}
	return errors.New("no free default subnet left in 10.11.0.0/16 and fc00:dead:cafe::/48 (envs, addresses and routes of this namespace use them all): tear down unused envs (xdpkit env list), give addresses explicitly, or use --isolated")
}

// routedPrefixes returns the destinations of the current namespace's
// routes in the main table, but for default routes.
func routedPrefixes() ([]netip.Prefix, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	routes, err := h.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var ps []netip.Prefix
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		ip, ok := netip.AddrFromSlice(r.Dst.IP)
		ones, _ := r.Dst.Mask.Size()
		if !ok || ones == 0 {
			continue
		}
		ps = append(ps, netip.PrefixFrom(ip.Unmap(), ones).Masked())
	}
	return ps, nil
}

// usedAddresses returns the addresses of all envs and, with current, of
// the current namespace.
func usedAddresses(current bool) ([]netip.Addr, error) {
	var used []netip.Addr
	add := func(h *netlink.Handle) error {
		addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return fmt.Errorf("list addresses: %w", err)
		}
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok {
				used = append(used, ip.Unmap())
			}
		}
		return nil
	}
	if current {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return nil, fmt.Errorf("netlink: %w", err)
		}
		err = add(h)
		h.Close()
		if err != nil {
			return nil, err
		}
	}
	entries, err := os.ReadDir(NetnsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", NetnsDir, err)
	}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, innerNetnsPrefix) && !strings.HasPrefix(n, outerNetnsPrefix) {
			continue
		}
		if !isNetns(n) {
			continue // being made or torn down
		}
		ns, err := openNetns(n)
		if err != nil {
			continue // being torn down
		}
		h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
		ns.Close()
		if err != nil {
			continue
		}
		err = add(h)
		h.Close()
		if err != nil {
			return nil, err
		}
	}
	return used, nil
}

// deleteLink deletes the named link if it exists; for a veth that removes
// both ends.
func deleteLink(h *netlink.Handle, name string) error {
	link, err := h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := h.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// readEnd fills in end's ifindex, MAC and addresses from the kernel.
func readEnd(h *netlink.Handle, end *End) error {
	link, err := h.LinkByName(end.Interface)
	if err != nil {
		return fmt.Errorf("find %s: %w", end.Interface, err)
	}
	end.Ifindex = link.Attrs().Index
	end.MAC = link.Attrs().HardwareAddr
	addrs, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("list addresses of %s: %w", end.Interface, err)
	}
	end.IPv4, end.IPv6 = netip.Prefix{}, netip.Prefix{}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || ip.IsLinkLocalUnicast() {
			continue
		}
		ip = ip.Unmap()
		ones, _ := a.Mask.Size()
		p := netip.PrefixFrom(ip, ones)
		if ip.Is4() && !end.IPv4.IsValid() {
			end.IPv4 = p
		} else if ip.Is6() && !end.IPv6.IsValid() {
			end.IPv6 = p
		}
	}
	return nil
}

// Open returns the existing env name, read from the kernel. It fails with
// an error matching os.ErrNotExist when there is no such env, and with one
// matching ErrIncomplete when its veth pair is missing.
//
// Closing the returned Env tears the env down; an Env that is only read
// can simply be dropped.
func Open(name string) (*Env, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	inner := innerNetnsName(name)
	if !netnsExists(inner) {
		return nil, notFound(name)
	}
	env := &Env{
		Name:      name,
		Isolated:  netnsExists(outerNetnsName(name)),
		Temporary: ownerPID(name) != 0,
		Outer:     End{Interface: outerIfName(name)},
		Inner:     End{Netns: inner, Interface: innerIfName(name)},
	}
	if env.Isolated {
		env.Outer.Netns = outerNetnsName(name)
	}
	for _, ns := range []string{env.Inner.Netns, env.Outer.Netns} {
		if ns != "" && !isNetns(ns) {
			return nil, fmt.Errorf("open env %q: %s is not a network namespace: remove the env with \"xdpkit env teardown %s\": %w",
				name, netnsPath(ns), name, ErrIncomplete)
		}
	}
	for _, end := range []*End{&env.Inner, &env.Outer} {
		err := WithHandle(end.Netns, func(h *netlink.Handle) error {
			if err := readEnd(h, end); err != nil {
				var nf netlink.LinkNotFoundError
				if errors.As(err, &nf) {
					return fmt.Errorf("env %q has no interface %s: remove it with \"xdpkit env teardown %s\": %w", name, end.Interface, name, ErrIncomplete)
				}
				return err
			}
			if end == &env.Inner {
				link, err := h.LinkByName(end.Interface)
				if err != nil {
					return fmt.Errorf("find %s: %w", end.Interface, err)
				}
				env.Queues = link.Attrs().NumTxQueues
				env.MTU = link.Attrs().MTU
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("open env %q: %w", name, err)
		}
	}
	return env, nil
}

func notFound(name string) error {
	return errs.Markf(os.ErrNotExist, "env %q does not exist (\"xdpkit env list\" shows the envs)", name)
}

// WithHandle calls fn with an rtnetlink handle in the named namespace
// under NetnsDir, or in the calling thread's own for "" (which needs no
// privileges: no setns).
func WithHandle(nsName string, fn func(*netlink.Handle) error) error {
	var h *netlink.Handle
	if nsName == "" {
		var err error
		if h, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
			return fmt.Errorf("netlink: %w", err)
		}
	} else {
		ns, err := openNetns(nsName)
		if err != nil {
			return err
		}
		defer ns.Close()
		if h, err = netlink.NewHandleAt(ns, unix.NETLINK_ROUTE); err != nil {
			return fmt.Errorf("netlink in netns %q: %w", nsName, err)
		}
	}
	defer h.Close()
	return fn(h)
}

// List returns the names of the existing envs, sorted: every namespace
// named xk-NAME under NetnsDir, complete or not.
func List() ([]string, error) {
	entries, err := os.ReadDir(NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list envs: read %s: %w", NetnsDir, err)
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), innerNetnsPrefix)
		if ok && ValidateName(name) == nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Teardown removes the env name: its veth pair and namespaces, complete or
// not. It fails with an error matching os.ErrNotExist when there is no
// such env. Processes still running inside the namespace keep it alive
// (unnamed) until they exit, but without the veth pair. It gives up after
// a minute if another process holds the netenv lock that long.
func Teardown(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	unlock, err := lockState(ctx)
	if err != nil {
		return fmt.Errorf("tear down env %q: %w", name, err)
	}
	defer unlock()
	return teardownLocked(name)
}

func teardownLocked(name string) error {
	inner, outer := innerNetnsName(name), outerNetnsName(name)
	if !netnsExists(inner) && !netnsExists(outer) {
		return notFound(name)
	}
	var errs []error
	// Deleting one end of a veth deletes both: try from the inner side,
	// then the outer one in case the inner end is gone.
	if isNetns(inner) {
		if err := WithHandle(inner, func(h *netlink.Handle) error {
			return deleteLink(h, innerIfName(name))
		}); err != nil {
			errs = append(errs, err)
		}
	}
	outerNs := ""
	if netnsExists(outer) {
		outerNs = outer
	}
	if outerNs == "" || isNetns(outerNs) {
		if err := WithHandle(outerNs, func(h *netlink.Handle) error {
			link, err := h.LinkByName(outerIfName(name))
			if err != nil || link.Type() != "veth" {
				return nil // gone, or not ours
			}
			return deleteLink(h, outerIfName(name))
		}); err != nil {
			errs = append(errs, err)
		}
	}
	for _, ns := range []string{inner, outer} {
		if err := deleteNetns(ns); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tear down env %q: %w", name, err)
	}
	if isOrphan(name) {
		os.Remove(ownerPath(name)) // its owner died: nobody else will
	}
	return nil
}

// Close tears the env down (see Teardown). It is idempotent, and an env
// already removed by someone else is not an error.
func (e *Env) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	err := Teardown(e.Name)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if err != nil {
		return err
	}
	e.closed = true
	releaseOwner(e.Name, e.owner)
	e.owner = nil
	return nil
}

// End returns the end on side.
func (e *Env) End(side Side) End {
	if side == Outer {
		return e.Outer
	}
	return e.Inner
}

// Side names one end of an env.
type Side int

// The two ends of an env.
const (
	Inner Side = iota // the end in the namespace xk-NAME
	Outer             // the end in the current namespace (or xko-NAME)
)

// String returns "inner" or "outer".
func (s Side) String() string {
	if s == Outer {
		return "outer"
	}
	return "inner"
}

// OpenNetns returns a handle to the end's network namespace, for
// netns.Set or netlink.NewHandleAt. The caller closes it.
func (e End) OpenNetns() (netns.NsHandle, error) {
	return openNetns(e.Netns)
}

// String describes the end on one line, such as
// "xk-foo-in (netns xk-foo, ifindex 2, 02:5e:..., 10.11.7.2/24, fc00:dead:cafe:7::2/64)".
func (e End) String() string {
	ns := e.Netns
	if ns == "" {
		ns = "current"
	}
	s := fmt.Sprintf("%s (netns %s, ifindex %d, %s", e.Interface, ns, e.Ifindex, e.MAC)
	for _, p := range []netip.Prefix{e.IPv4, e.IPv6} {
		if p.IsValid() {
			s += ", " + p.String()
		}
	}
	return s + ")"
}
