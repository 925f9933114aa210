package cli

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/trafficgen"
)

func newGenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate traffic at the kernel's own rate with XDP live frames",
		Long: `Send frames out of an interface with BPF_PROG_RUN in XDP live-frames mode:
the kernel fills a page pool once with the frame and runs xdpkit's XDP
program over its pages in a loop, and every frame the program returns
XDP_TX for leaves the interface. Each --threads worker is an OS thread
pinned to its CPU making one long call; the program counts what it sends,
paces to --pps with a token bucket, and varies ports and source addresses
per frame.

  xdpkit gen udp|tcp|icmp IFACE   frames built from flags (addresses, ports, size, ...)
  xdpkit gen pcap IFACE FILE      the frames of a pcap file, in order, looped
  xdpkit gen probe IFACE          can IFACE transmit XDP frames? (exit 0 yes, 4 no)

A veth drops every XDP frame sent to it unless its peer has an XDP
program: --peer-prog attaches one to the peer for the run (also in another
network namespace) and removes it afterwards: pass-through (the default,
or =pass) or one that counts and drops the frames (=drop).

Exit codes: 0 done, 2 bad input, 3 missing privileges, 4 the interface
cannot transmit XDP frames, 5 no such interface or file, 130 interrupted
by Ctrl-C or SIGTERM (the final report is printed first).`,
	}
	cmd.AddCommand(
		newGenTemplateCmd(g, trafficgen.UDP),
		newGenTemplateCmd(g, trafficgen.TCP),
		newGenTemplateCmd(g, trafficgen.ICMP),
		newGenPcapCmd(g),
		newGenProbeCmd(g),
	)
	return cmd
}

// genTemplateFlags are the flags that build the frame of gen udp, tcp and
// icmp.
type genTemplateFlags struct {
	srcMAC, dstMAC   string
	srcAddr, dstAddr string
	ipv6             bool
	srcPort, dstPort string
	dynPorts         int
	size             int
	ttl, hopLimit    int
	tcpFlags         string
	vlan             int
}

// genRunFlags are the flags of every gen command that sends.
type genRunFlags struct {
	count      uint64
	duration   time.Duration
	pps        uint64
	threads    int
	cpus       []int
	batch      int
	interval   time.Duration
	peerProg   string
	rewrite    string
	action     string
	redirectTo string
	quiet      bool
}

// Defaults of the template flags.
const (
	genDefaultSrcPort = 1024
	genDefaultDstPort = 9 // discard
)

func newGenTemplateCmd(g *globals, proto trafficgen.Proto) *cobra.Command {
	var tf genTemplateFlags
	var rf genRunFlags
	name := proto.String()
	what := map[trafficgen.Proto]string{
		trafficgen.UDP:  "UDP datagrams",
		trafficgen.TCP:  "TCP segments (SYN by default: a SYN flood)",
		trafficgen.ICMP: "ICMP echo requests (ICMPv6 over IPv6)",
	}[proto]
	ports := ""
	if proto != trafficgen.ICMP {
		ports = `
Ports: --src-port and --dst-port take a port or a range P-Q; --dyn-ports N
(xdp-trafficgen's name) is the destination range --dst-port to
--dst-port+N-1. With ranges the destination port changes fastest, then the
source port, then the source address: frame n goes to port base+n%N.
`
	}
	cmd := &cobra.Command{
		Use:   name + " IFACE",
		Short: "Send " + what + " out of IFACE",
		Long: `Send ` + what + ` out of IFACE with XDP live frames, as
fast as the kernel goes or at --pps, for --count frames, for --duration or
until Ctrl-C.

Addresses: the family is that of --src-addr/--dst-addr, else IPv4 when
IFACE has an IPv4 address (-6 chooses IPv6). --src-addr defaults to IFACE's
address of the family and takes an address, a range A-B or a CIDR (frames
then come from every address of it in turn; only the last 32 bits vary, so
at most 2^32-1 addresses). --dst-addr defaults to the veth peer's address
of the family. --src-mac defaults to IFACE's MAC; --dst-mac to the
neighbour entry of the destination address, else the veth peer's MAC, else
broadcast. With --redirect-to T these defaults come from T, the interface
the frames leave by. With --action pass the frame arrives on IFACE, so they
turn round: the destination is IFACE's MAC and address of the family, the
source the veth peer's MAC (else 02:00:00:00:00:01) and address.
` + ports + `
--size is the frame's length without the 4-byte FCS: 60 (the Ethernet
minimum) to the MTU + 14 (the Ethernet header; + 4 with --vlan), and at
most ` + strconv.Itoa(trafficgen.MaxFrameLen) + ` (what one live-frames page holds).

` + genRunHelp,
		Example: genTemplateExample(name),
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenTemplate(cmd, g, proto, args[0], &tf, &rf)
		},
	}
	tcpFlags := ""
	if proto == trafficgen.TCP {
		tcpFlags = "TCP `FLAGS`: "
	}
	addTemplateFlags(cmd, &tf, templateFlagSet{
		srcMAC:   "source `MAC` (default: IFACE's; see Addresses above for --redirect-to and --action pass)",
		ports:    proto != trafficgen.ICMP,
		ranges:   true,
		tcpFlags: tcpFlags,
		size: fmt.Sprintf("frame length in `BYTES` without the FCS, 60 to the MTU + 14 and at most %d "+
			"(default 60, or the headers' length when longer: TCP over IPv6 is 74)", trafficgen.MaxFrameLen),
	})
	addGenRunFlags(cmd, &rf)
	return cmd
}

// templateFlagSet says which of the template flags a command takes, and
// the help texts that differ between commands.
type templateFlagSet struct {
	srcMAC, size string
	// ports adds --src-port and --dst-port; ranges lets addresses and
	// ports be ranges and adds --dyn-ports.
	ports, ranges bool
	// tcpFlags, when not empty, adds --tcp-flags with this start of its
	// help.
	tcpFlags string
}

// addTemplateFlags adds the flags parseTemplate reads into tf.
func addTemplateFlags(cmd *cobra.Command, tf *genTemplateFlags, set templateFlagSet) {
	fl := cmd.Flags()
	rangeHelp := func(what string) string {
		if set.ranges {
			return what + " or range P-Q"
		}
		return what
	}
	fl.StringVar(&tf.srcMAC, "src-mac", "", set.srcMAC)
	fl.StringVar(&tf.dstMAC, "dst-mac", "", "destination `MAC` (default: the neighbour entry of --dst-addr, else the veth peer's MAC, else ff:ff:ff:ff:ff:ff)")
	if set.ranges {
		fl.StringVar(&tf.srcAddr, "src-addr", "", "source `ADDR`, range A-B or CIDR (default: IFACE's address of the family)")
	} else {
		fl.StringVar(&tf.srcAddr, "src-addr", "", "source `ADDR` (default: IFACE's address of the family)")
	}
	fl.StringVar(&tf.dstAddr, "dst-addr", "", "destination `ADDR` (default: the veth peer's address of the family)")
	fl.BoolVarP(&tf.ipv6, "ipv6", "6", false, "send IPv6 when no address says the family (default: IPv4 if IFACE has an IPv4 address)")
	if set.ports {
		fl.StringVar(&tf.srcPort, "src-port", strconv.Itoa(genDefaultSrcPort), rangeHelp("UDP or TCP source `PORT`"))
		fl.StringVar(&tf.dstPort, "dst-port", strconv.Itoa(genDefaultDstPort), rangeHelp("UDP or TCP destination `PORT`"))
	}
	if set.ports && set.ranges {
		fl.IntVar(&tf.dynPorts, "dyn-ports", 0, "vary the destination port over `N` values from --dst-port")
	}
	fl.IntVar(&tf.size, "size", 0, set.size)
	fl.IntVar(&tf.ttl, "ttl", 64, "IPv4 TTL / IPv6 hop limit, `N` from 1 to 255")
	fl.IntVar(&tf.hopLimit, "hop-limit", 64, "the same as --ttl: `N` from 1 to 255")
	if set.tcpFlags != "" {
		fl.StringVar(&tf.tcpFlags, "tcp-flags", "S", set.tcpFlags+"letters of FSRPAUEC (FIN SYN RST PSH ACK URG ECE CWR), such as SA, or none")
	}
	fl.IntVar(&tf.vlan, "vlan", 0, "add an 802.1Q tag with this VLAN `ID`, 1 to 4094")
}

func genTemplateExample(name string) string {
	switch name {
	case "udp":
		return `  xdpkit gen udp xk-demo --count 1000000 --peer-prog
  xdpkit gen udp xk-demo --dyn-ports 100 --pps 100000 --duration 10s --peer-prog
  xdpkit gen udp eth0 --dst-addr 10.0.0.2 --src-addr 10.0.0.0/24 --size 1514 --threads 2 --json
  xdpkit gen udp xk-demo -6 --src-port 1000-1009 --dst-port 53 --vlan 7`
	case "tcp":
		return `  xdpkit gen tcp xk-demo --dst-port 80 --duration 5s --peer-prog
  xdpkit gen tcp eth0 --dst-addr 10.0.0.2 --tcp-flags SA --src-port 1024-65535`
	}
	return `  xdpkit gen icmp xk-demo --count 10000 --peer-prog
  xdpkit gen icmp xk-demo -6 --hop-limit 1 --pps 1000 --duration 3s --peer-prog`
}

// genRunHelp explains the flags every sending gen command shares.
const genRunHelp = `The run: --count sends exactly that many frames; --duration ends the run
after that long; otherwise it goes on until Ctrl-C. --pps paces the frames
in the XDP program (a token bucket per thread, bursts of at most one
--batch), so the rate is smooth. Each of --threads workers is pinned to a
CPU of its own (--cpus chooses them).

While it runs on a terminal, a line every --interval shows the elapsed
time, frames sent per second, Mbit/s (frame bytes x 8, without preamble,
inter-frame gap or FCS), frames delivered per second (the veth peer's
received count, else the interface's transmitted count) and, with several
threads, each thread's rate. Rates count from the first frame sent, not
from the kernel's set-up of the run (some 25 ms). The final report says
what the program sent and what the device the frames leave by (IFACE, or
the --redirect-to target) sent, dropped and delivered; --json prints it as
one object. Ctrl-C stops within a batch, prints the report and exits 130;
nothing stays attached.`

func addGenRunFlags(cmd *cobra.Command, rf *genRunFlags) {
	fl := cmd.Flags()
	fl.Uint64VarP(&rf.count, "count", "n", 0, "send exactly `N` frames, then stop (default: no limit)")
	fl.DurationVarP(&rf.duration, "duration", "d", 0, "stop after this long, such as 10s (default: no limit)")
	fl.Uint64Var(&rf.pps, "pps", 0, "send at most `N` frames per second in all (default: as fast as the kernel goes)")
	fl.IntVarP(&rf.threads, "threads", "t", 1, "`N` workers, each a thread pinned to a CPU of its own")
	fl.IntSliceVar(&rf.cpus, "cpus", nil, "pin the workers to these `CPUS`, one each, such as 0,2 (default: the first --threads CPUs)")
	fl.IntVar(&rf.batch, "batch", trafficgen.DefaultBatch, "frames per kernel batch, 1 to 256 (the pacer's largest burst)")
	fl.DurationVar(&rf.interval, "interval", time.Second, "print live statistics this often (on a terminal; always when given)")
	addPeerProgFlag(cmd, &rf.peerProg, "run")
	fl.StringVar(&rf.rewrite, "rewrite-headers", "auto", "write the template's headers anew for every frame: auto "+
		"(unless the frames leave by a NIC or to a veth peer running --peer-prog=drop), always, or never (about 4 % faster; "+
		"a receiver whose stack edits the kernel's recycled pages, by untagging a VLAN or forwarding, then sends edited frames back into the pool)")
	fl.StringVar(&rf.action, "action", "tx", "what the program does with each frame: tx (send out of IFACE), "+
		"pass (inject into this host's stack as if received on IFACE) or redirect (send out of --redirect-to)")
	fl.StringVar(&rf.redirectTo, "redirect-to", "", "with --action redirect, send out of this `IFACE` (implies --action redirect)")
	fl.BoolVarP(&rf.quiet, "quiet", "q", false, "print only the final report: no start line, no live statistics")
}

// addPeerProgFlag adds --peer-prog[=pass|drop] for a run or a trial.
func addPeerProgFlag(cmd *cobra.Command, p *string, what string) {
	fl := cmd.Flags()
	fl.StringVar(p, "peer-prog", "none", "attach an XDP program for the "+what+" to the veth peer of the interface the frames leave by "+
		"(a veth drops XDP frames unless its peer has one): pass (the default when the flag is given; the frames "+
		"reach the peer's stack, which limits the rate) or drop (the peer counts and drops them: measures the generator)")
	fl.Lookup("peer-prog").NoOptDefVal = "pass"
}

// genSpec checks the run flags, which need no system, and returns the
// spec they describe for iface (without frames).
func genSpec(cmd *cobra.Command, iface string, rf *genRunFlags) (trafficgen.Spec, error) {
	fl := cmd.Flags()
	spec := trafficgen.Spec{Interface: iface, Count: rf.count, Duration: rf.duration, PPS: rf.pps,
		Threads: rf.threads, Batch: rf.batch}
	pp, err := trafficgen.ParsePeerProgram(rf.peerProg)
	if err != nil {
		return spec, usagef("--peer-prog %q: use pass (the frames reach the peer's stack), drop (the peer counts and drops them) or none", rf.peerProg)
	}
	spec.PeerProgram = pp
	if spec.Rewrite, err = trafficgen.ParseRewrite(rf.rewrite); err != nil {
		return spec, usagef("--rewrite-headers %q: use auto, always or never", rf.rewrite)
	}
	if fl.Changed("count") && rf.count == 0 {
		return spec, usagef("--count 0 sends nothing: give a positive count, or leave --count out to send until Ctrl-C or --duration")
	}
	if fl.Changed("pps") && rf.pps == 0 {
		return spec, usagef("--pps 0 sends nothing: give a positive rate, or leave --pps out to send as fast as the kernel goes")
	}
	if rf.pps > trafficgen.MaxPPS {
		return spec, usagef("--pps %d: at most %d", rf.pps, uint64(trafficgen.MaxPPS))
	}
	if rf.duration < 0 {
		return spec, usagef("--duration %v: give a positive duration such as 10s", rf.duration)
	}
	if rf.interval <= 0 {
		return spec, usagef("--interval %v: give a positive period such as 1s or 500ms", rf.interval)
	}
	if rf.batch < 1 || rf.batch > trafficgen.MaxBatch {
		return spec, usagef("--batch %d out of range: the kernel runs 1 to %d frames per batch (default %d)",
			rf.batch, trafficgen.MaxBatch, trafficgen.DefaultBatch)
	}
	ncpu := runtime.NumCPU()
	if len(rf.cpus) > 0 {
		if fl.Changed("threads") && rf.threads != len(rf.cpus) {
			return spec, usagef("--threads %d with %d --cpus: give one CPU per thread, or leave --threads out", rf.threads, len(rf.cpus))
		}
		seen := map[int]bool{}
		for _, c := range rf.cpus {
			if c < 0 || c >= ncpu {
				return spec, usagef("--cpus: CPU %d out of range: this machine has CPUs 0 to %d", c, ncpu-1)
			}
			if seen[c] {
				return spec, usagef("--cpus: CPU %d given twice: each worker needs a CPU of its own", c)
			}
			seen[c] = true
		}
		spec.Threads = len(rf.cpus)
		spec.CPUs = rf.cpus
	}
	if spec.Threads < 1 {
		return spec, usagef("--threads %d: use 1 or more", spec.Threads)
	}
	if spec.Threads > ncpu {
		return spec, usagef("--threads %d but this machine has %d CPUs: use at most %d (one worker per CPU)", spec.Threads, ncpu, ncpu)
	}
	if rf.count != 0 && rf.count < uint64(spec.Threads) {
		return spec, usagef("--count %d with %d threads: each thread sends at least one frame; use fewer --threads", rf.count, spec.Threads)
	}
	if rf.pps != 0 && rf.pps < uint64(spec.Threads) {
		return spec, usagef("--pps %d with %d threads: each thread needs at least 1 pps; use fewer --threads", rf.pps, spec.Threads)
	}
	action, err := trafficgen.ParseAction(rf.action)
	if err != nil {
		return spec, usagef("--action %q: use tx, pass or redirect", rf.action)
	}
	if rf.redirectTo != "" {
		if fl.Changed("action") && action != trafficgen.Redirect {
			return spec, usagef("--redirect-to %s with --action %s: --redirect-to goes with --action redirect", rf.redirectTo, action)
		}
		action = trafficgen.Redirect
		spec.RedirectTo = rf.redirectTo
	} else if action == trafficgen.Redirect {
		return spec, usagef("--action redirect needs --redirect-to IFACE: the interface to send the frames out of")
	}
	if action == trafficgen.Pass && pp != trafficgen.PeerNone {
		return spec, usagef("--peer-prog with --action pass: the frames go into this host's stack, not to a peer; drop --peer-prog")
	}
	spec.Action = action
	return spec, nil
}

// lookupIface returns the interface a gen or xsk command works on, which
// must exist and be up. It needs no privileges. A missing interface is
// answered with a pointer to "xdpkit env setup", a veth pair to try what
// (the generator, AF_XDP) on.
func lookupIface(name, what string) (*netdev.Device, error) {
	dev, err := netdev.Lookup(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w; \"xdpkit env setup\" makes a veth pair to try %s on", err, what)
		}
		return nil, caps.Explain(err, caps.NetAdmin)
	}
	if !dev.Up {
		return nil, usagef("interface %s is down: bring it up with \"ip link set %s up\"", dev.Name, dev.Name)
	}
	return dev, nil
}

// lookupTarget returns the --redirect-to interface, which must exist and
// be up.
func lookupTarget(name string) (*netdev.Device, error) {
	dev, err := netdev.Lookup(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("--redirect-to: %w", err)
		}
		return nil, caps.Explain(err, caps.NetAdmin)
	}
	if !dev.Up {
		return nil, usagef("--redirect-to %s: the interface is down: bring it up with \"ip link set %s up\"", dev.Name, dev.Name)
	}
	return dev, nil
}

// genDevices looks up the interface of spec and, for a redirect, its
// target: out is the one the frames leave by (the interface for tx, the
// target for redirect, nil for pass); at is the one the frames are made
// for, whose addresses give the defaults and whose MTU the size limit:
// where they leave or, for pass, where they arrive (the interface).
func genDevices(spec *trafficgen.Spec) (at, out *netdev.Device, err error) {
	dev, err := lookupIface(spec.Interface, "the generator")
	if err != nil {
		return nil, nil, err
	}
	switch spec.Action {
	case trafficgen.Redirect:
		if out, err = lookupTarget(spec.RedirectTo); err != nil {
			return nil, nil, err
		}
		return out, out, nil
	case trafficgen.TX:
		return dev, dev, nil
	}
	return dev, nil, nil
}

// frameLimit returns the longest frame dev sends, by trafficgen.FrameLimit
// (which looks at the frame's VLAN tag), the sentence that explains the
// bound, and whether the bound is the page's rather than the MTU's.
func frameLimit(dev *netdev.Device, frame []byte) (limit int, why string, page bool) {
	limit = trafficgen.FrameLimit(dev.MTU, frame)
	base := dev.MTU + trafficgen.EthernetHeaderLen
	why = fmt.Sprintf("%s's MTU (%d) plus the %d-byte Ethernet header", dev.Name, dev.MTU, trafficgen.EthernetHeaderLen)
	switch limit {
	case base:
		return limit, why, false
	case base + 4:
		return limit, why + " and 4 bytes of VLAN tag", false
	}
	return limit, fmt.Sprintf("what one live-frames page holds (%d is below %s)", limit, why), true
}

// addrRange is a --src-addr: the first address and how many follow it.
type addrRange struct {
	first netip.Addr
	count uint64
}

// parseAddrRange parses an address, a range A-B or a CIDR prefix.
func parseAddrRange(flag, s string) (addrRange, error) {
	bad := func(format string, args ...any) (addrRange, error) {
		return addrRange{}, usagef("--%s %q: %s", flag, s, fmt.Sprintf(format, args...))
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return bad("not a CIDR prefix such as 10.0.0.0/24 or fc00::/120")
		}
		host := p.Addr().BitLen() - p.Bits()
		if host >= 32 {
			n := new(big.Int).Lsh(big.NewInt(1), uint(host))
			return bad("2^%d addresses (%s) are too many: only the last 32 bits of a source address vary, so at most 2^32-1 (%d); use a /%d or longer",
				host, n, maxSrcAddrs, p.Addr().BitLen()-31)
		}
		return addrRange{first: p.Masked().Addr(), count: uint64(1) << host}, nil
	}
	if a, b, ok := strings.Cut(s, "-"); ok {
		from, err1 := netip.ParseAddr(strings.TrimSpace(a))
		to, err2 := netip.ParseAddr(strings.TrimSpace(b))
		if err1 != nil || err2 != nil {
			return bad("not a range of addresses such as 10.0.0.1-10.0.0.50")
		}
		if from.Is4() != to.Is4() {
			return bad("%s is %s but %s is %s: a range is of one family", from, familyName(!from.Is4()), to, familyName(!to.Is4()))
		}
		if to.Less(from) {
			return bad("%s comes after %s: write the lower address first", from, to)
		}
		f16, t16 := from.As16(), to.As16()
		if from.Is6() && string(f16[:12]) != string(t16[:12]) {
			return bad("only the last 32 bits of an IPv6 source vary: both ends must share the first 96")
		}
		n := uint64(binary.BigEndian.Uint32(t16[12:])) - uint64(binary.BigEndian.Uint32(f16[12:])) + 1
		if n > maxSrcAddrs {
			return bad("%d addresses (2^32) are too many: the source varies over at most 2^32-1 addresses (%d); leave one out", n, maxSrcAddrs)
		}
		return addrRange{first: from, count: n}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return bad("not an IPv4 or IPv6 address")
	}
	return addrRange{first: a, count: 1}, nil
}

// maxSrcAddrs is the most source addresses a run varies over: the count
// is a 32-bit field of trafficgen.Flows.
const maxSrcAddrs = 1<<32 - 1

// familyName names an address family: IPv6 when v6, else IPv4.
func familyName(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}

// parsePortRange parses a port or a range P-Q into its first port and the
// number of ports.
func parsePortRange(flag, s string) (uint16, uint32, error) {
	parse := func(p string) (uint16, error) {
		n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 32)
		if err != nil || n == 0 || n > 65535 {
			return 0, usagef("--%s %q: a port is 1 to 65535 (or a range such as 1000-1999)", flag, s)
		}
		return uint16(n), nil
	}
	a, b, isRange := strings.Cut(s, "-")
	from, err := parse(a)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return from, 1, nil
	}
	to, err := parse(b)
	if err != nil {
		return 0, 0, err
	}
	if to < from {
		return 0, 0, usagef("--%s %q: %d comes after %d: write the lower port first", flag, s, from, to)
	}
	return from, uint32(to-from) + 1, nil
}

// parseMAC parses a 6-byte Ethernet address.
func parseMAC(flag, s string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	if err != nil || len(mac) != 6 {
		return nil, usagef("--%s %q: not an Ethernet address; write 6 bytes such as 02:00:00:00:00:01", flag, s)
	}
	return mac, nil
}

// genTemplate is a template and its flows, checked against the flags
// alone; complete fills in what the interface decides.
type genTemplate struct {
	t        trafficgen.Template
	flows    trafficgen.Flows
	src      addrRange // zero: the interface's address
	dst      netip.Addr
	v6       bool // the family, when fixed by the flags
	fixed    bool // whether the flags fixed the family
	dstMACBy string
}

// parseTemplate checks the template flags that need no system.
func parseTemplate(cmd *cobra.Command, proto trafficgen.Proto, tf *genTemplateFlags) (*genTemplate, error) {
	fl := cmd.Flags()
	gt := &genTemplate{t: trafficgen.Template{Proto: proto, TCPFlags: tf.tcpFlags}}
	var err error
	if tf.srcMAC != "" {
		if gt.t.SrcMAC, err = parseMAC("src-mac", tf.srcMAC); err != nil {
			return nil, err
		}
	}
	if tf.dstMAC != "" {
		if gt.t.DstMAC, err = parseMAC("dst-mac", tf.dstMAC); err != nil {
			return nil, err
		}
		gt.dstMACBy = "--dst-mac"
	}
	if tf.srcAddr != "" {
		if gt.src, err = parseAddrRange("src-addr", tf.srcAddr); err != nil {
			return nil, err
		}
		gt.v6, gt.fixed = gt.src.first.Is6(), true
		gt.flows.SrcAddrs = uint32(gt.src.count)
	}
	if tf.dstAddr != "" {
		if strings.ContainsAny(tf.dstAddr, "/-") {
			return nil, usagef("--dst-addr %q: give one address; only the source address varies (--src-addr takes a range or a CIDR)", tf.dstAddr)
		}
		if gt.dst, err = netip.ParseAddr(tf.dstAddr); err != nil {
			return nil, usagef("--dst-addr %q: not an IPv4 or IPv6 address", tf.dstAddr)
		}
		if gt.fixed && gt.dst.Is6() != gt.v6 {
			return nil, usagef("--src-addr %s is %s but --dst-addr %s is %s: a frame has one IP family; give both as IPv4 or both as IPv6",
				tf.srcAddr, familyName(!gt.src.first.Is4()), gt.dst, familyName(!gt.dst.Is4()))
		}
		gt.v6, gt.fixed = gt.dst.Is6(), true
	}
	if tf.ipv6 && gt.fixed && !gt.v6 {
		return nil, usagef("-6/--ipv6 asks for IPv6 but the addresses given are IPv4: drop -6 or give IPv6 addresses")
	}
	if tf.ipv6 {
		gt.v6, gt.fixed = true, true
	}

	if proto == trafficgen.ICMP {
		// gen icmp has no port flags.
	} else {
		var sports, dports uint32
		if gt.t.SrcPort, sports, err = parsePortRange("src-port", tf.srcPort); err != nil {
			return nil, err
		}
		if gt.t.DstPort, dports, err = parsePortRange("dst-port", tf.dstPort); err != nil {
			return nil, err
		}
		if fl.Changed("dyn-ports") {
			switch {
			case tf.dynPorts < 1:
				return nil, usagef("--dyn-ports %d: give the number of destination ports to vary over (2 or more), or leave it out", tf.dynPorts)
			case dports > 1:
				return nil, usagef("--dyn-ports %d with the range --dst-port %s: both vary the destination port; give --dst-port a single first port, or drop --dyn-ports",
					tf.dynPorts, tf.dstPort)
			case uint64(gt.t.DstPort)+uint64(tf.dynPorts)-1 > 65535:
				return nil, usagef("--dyn-ports %d from --dst-port %d goes past port 65535: start lower or use at most %d",
					tf.dynPorts, gt.t.DstPort, 65536-int(gt.t.DstPort))
			}
			dports = uint32(tf.dynPorts)
		}
		gt.flows.SrcPorts, gt.flows.DstPorts = sports, dports
	}

	if fl.Changed("size") {
		if tf.size < trafficgen.MinFrameLen {
			return nil, usagef("--size %d: frames are at least %d bytes, the Ethernet minimum without the 4-byte FCS", tf.size, trafficgen.MinFrameLen)
		}
		gt.t.Size = tf.size
	}
	ttl, ttlFlag := tf.ttl, "ttl"
	switch {
	case fl.Changed("ttl") && fl.Changed("hop-limit") && tf.ttl != tf.hopLimit:
		return nil, usagef("--ttl %d and --hop-limit %d: they are the same field; give one", tf.ttl, tf.hopLimit)
	case fl.Changed("hop-limit"):
		ttl, ttlFlag = tf.hopLimit, "hop-limit"
	}
	switch {
	case ttl == 0:
		return nil, usagef("--%s 0: the first router drops such a frame; use 1 to 255", ttlFlag)
	case ttl < 0 || ttl > 255:
		return nil, usagef("--%s %d: out of range: use 1 to 255 (an 8-bit field)", ttlFlag, ttl)
	}
	gt.t.TTL = uint8(ttl)
	if fl.Changed("vlan") && (tf.vlan < 1 || tf.vlan > 4094) {
		return nil, usagef("--vlan %d: VLAN ids are 1 to 4094", tf.vlan)
	}
	gt.t.VLAN = uint16(tf.vlan)
	return gt, nil
}

// complete fills in the defaults that come from dev, the interface the
// frames leave by (IFACE, or the --redirect-to target): family,
// addresses and MACs. With pass, the frames arrive on dev instead, so the
// defaults turn round: the destination is dev itself, the source its veth
// peer.
func (gt *genTemplate) complete(dev *netdev.Device, pass bool) error {
	if !gt.fixed {
		gt.v6 = !hasFamily(dev.Addrs, false) && hasFamily(dev.Addrs, true)
	}
	fam := familyName(gt.v6)
	local, hasLocal := pickAddr(dev.Addrs, gt.v6)
	switch {
	case gt.src.first.IsValid():
		gt.t.Src = gt.src.first
	case pass:
		a, err := peerAddr(dev, gt.v6, "source", "--src-addr")
		if err != nil {
			return err
		}
		gt.t.Src = a
	case !hasLocal:
		return usagef("%s has no %s address to send from: give --src-addr", dev.Name, fam)
	default:
		gt.t.Src = local
	}
	switch {
	case gt.dst.IsValid():
		gt.t.Dst = gt.dst
	case pass && !hasLocal:
		return usagef("%s has no %s address to pass the frames to: give --dst-addr", dev.Name, fam)
	case pass:
		gt.t.Dst = local
	default:
		a, err := peerAddr(dev, gt.v6, "destination", "--dst-addr")
		if err != nil {
			return err
		}
		gt.t.Dst = a
	}

	hasPeerMAC := dev.Peer != nil && len(dev.Peer.MAC) == 6
	if gt.t.SrcMAC == nil {
		switch {
		case pass && hasPeerMAC:
			gt.t.SrcMAC = dev.Peer.MAC
		case pass:
			gt.t.SrcMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
		case len(dev.MAC) != 6:
			return usagef("%s has no Ethernet address: give --src-mac", dev.Name)
		default:
			gt.t.SrcMAC = dev.MAC
		}
	}
	if gt.t.DstMAC == nil {
		if pass {
			if len(dev.MAC) != 6 {
				return usagef("%s has no Ethernet address to pass the frames to: give --dst-mac", dev.Name)
			}
			gt.t.DstMAC, gt.dstMACBy = dev.MAC, dev.Name+"'s own"
		} else if mac, ok := dev.Neighbour(gt.t.Dst); ok && len(mac) == 6 {
			gt.t.DstMAC, gt.dstMACBy = mac, "neighbour entry of "+gt.t.Dst.String()
		} else if hasPeerMAC {
			gt.t.DstMAC, gt.dstMACBy = dev.Peer.MAC, "veth peer "+dev.Peer.Name
		} else {
			gt.t.DstMAC, gt.dstMACBy = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "broadcast: no neighbour entry for "+gt.t.Dst.String()
		}
	}
	return nil
}

// peerAddr returns the address of dev's veth peer of the family, the
// default source or destination (role) of a frame, or an error naming
// flag, which gives it instead.
func peerAddr(dev *netdev.Device, v6 bool, role, flag string) (netip.Addr, error) {
	if dev.Peer != nil {
		if a, ok := pickAddr(dev.Peer.Addrs, v6); ok {
			return a, nil
		}
	}
	if dev.Peer == nil && dev.Kind == "veth" {
		// Its peer lives in a namespace Lookup could not enter.
		if err := caps.Require(caps.SysAdmin); err != nil {
			return netip.Addr{}, cliTextError{err: err, msg: fmt.Sprintf("no %s address: the veth peer of %s is in another network namespace, "+
				"which only CAP_SYS_ADMIN lets xdpkit read: give %s, or run as root (sudo xdpkit ...)", role, dev.Name, flag)}
		}
	}
	why := fmt.Sprintf("%s is not a veth with a peer xdpkit can see", dev.Name)
	if dev.Peer != nil {
		why = fmt.Sprintf("%s's veth peer %s has no %s address", dev.Name, dev.Peer.Name, familyName(v6))
	}
	return netip.Addr{}, usagef("no %s address: %s, so give %s", role, why, flag)
}

// frame builds the template's frame, first checking --size against what
// dev, the interface the frames leave by or arrive on, takes.
func (gt *genTemplate) frame(dev *netdev.Device) ([]byte, error) {
	if gt.t.Size > 0 {
		// The headers alone tell FrameLimit whether the frame has a tag.
		head := gt.t
		head.Size = 0
		h, err := head.Frame()
		if err != nil {
			return nil, usageError{err}
		}
		if limit, why, page := frameLimit(dev, h); gt.t.Size > limit {
			fix := "raise the MTU or give a smaller --size"
			if page {
				fix = "give a smaller --size"
			}
			return nil, usagef("--size %d: frames on %s are %d to %d bytes: %d is the Ethernet minimum without the 4-byte FCS, %d is %s; %s",
				gt.t.Size, dev.Name, trafficgen.MinFrameLen, limit, trafficgen.MinFrameLen, limit, why, fix)
		}
	}
	frame, err := gt.t.Frame()
	if err != nil {
		return nil, usageError{err}
	}
	return frame, nil
}

// hasFamily reports whether addrs has an address of the family.
func hasFamily(addrs []netip.Prefix, v6 bool) bool {
	_, ok := pickAddr(addrs, v6)
	return ok
}

// pickAddr returns the first address of the family, preferring a global
// one to a link-local one.
func pickAddr(addrs []netip.Prefix, v6 bool) (netip.Addr, bool) {
	var fallback netip.Addr
	for _, p := range addrs {
		a := p.Addr()
		if a.Is4() == v6 || a.Is4In6() {
			continue
		}
		if a.IsLinkLocalUnicast() {
			if !fallback.IsValid() {
				fallback = a
			}
			continue
		}
		return a, true
	}
	return fallback, fallback.IsValid()
}

func runGenTemplate(cmd *cobra.Command, g *globals, proto trafficgen.Proto, iface string, tf *genTemplateFlags, rf *genRunFlags) error {
	spec, err := genSpec(cmd, iface, rf)
	if err != nil {
		return err
	}
	gt, err := parseTemplate(cmd, proto, tf)
	if err != nil {
		return err
	}
	at, out, err := genDevices(&spec)
	if err != nil {
		return err
	}
	if err := gt.complete(at, spec.Action == trafficgen.Pass); err != nil {
		return err
	}
	frame, err := gt.frame(at)
	if err != nil {
		return err
	}
	if err := caps.Require(caps.BPF, caps.NetAdmin); err != nil {
		return err
	}
	spec.Frames = [][]byte{frame}
	spec.Flows = gt.flows
	return runGenerator(cmd, g, genJob{
		mode:     proto.String(),
		spec:     spec,
		out:      out,
		rf:       rf,
		frameLen: len(frame),
		what:     gt.describe(frame),
	})
}

// describe says what the frames are, for the start line.
func (gt *genTemplate) describe(frame []byte) string {
	s := fmt.Sprintf("%s %s > %s", gt.t.Proto, gt.t.Src, gt.t.Dst)
	if gt.t.Proto != trafficgen.ICMP {
		s = fmt.Sprintf("%s %s > %s", gt.t.Proto, netip.AddrPortFrom(gt.t.Src, gt.t.SrcPort), netip.AddrPortFrom(gt.t.Dst, gt.t.DstPort))
	}
	s += fmt.Sprintf(", %d-byte frames, %s > %s (%s)", len(frame), gt.t.SrcMAC, gt.t.DstMAC, gt.dstMACBy)
	var flows []string
	if n := gt.flows.SrcAddrs; n > 1 {
		flows = append(flows, fmt.Sprintf("%d source addresses", n))
	}
	if n := gt.flows.SrcPorts; n > 1 {
		flows = append(flows, fmt.Sprintf("source ports %d-%d", gt.t.SrcPort, uint32(gt.t.SrcPort)+n-1))
	}
	if n := gt.flows.DstPorts; n > 1 {
		flows = append(flows, fmt.Sprintf("destination ports %d-%d", gt.t.DstPort, uint32(gt.t.DstPort)+n-1))
	}
	if len(flows) > 0 {
		s += ", " + strings.Join(flows, ", ")
	}
	return s
}
