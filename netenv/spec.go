package netenv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// MaxNameLen is the longest env name: the inner interface is named
// "xk-NAME-in", which must fit IFNAMSIZ-1 (15) bytes.
const MaxNameLen = 9

// Queue and MTU limits the kernel accepts for a veth device.
const (
	MaxQueues = 4096  // rtnetlink refuses more TX or RX queues
	MinMTU    = 68    // ETH_MIN_MTU for IPv4
	MaxMTU    = 65535 // ETH_MAX_MTU, the veth maximum
)

// Spec describes a test environment: a veth pair whose inner end lives in
// a new network namespace and whose outer end lives in the current one
// (normally the root namespace) or, with Isolated, in a second new one.
// Spec is plain data; its zero value is a valid spec with defaults for
// everything. Setup turns it into a live Env.
type Spec struct {
	// Name names the env: lowercase letters, digits and '-', starting
	// with a letter or digit, at most MaxNameLen bytes. Empty means a
	// generated unique name ("e" and 8 hex digits).
	Name string

	// Queues is the number of TX and RX queues of both veth ends, for
	// multi-queue AF_XDP and RSS tests. 0 means 1.
	Queues int

	// MTU of both ends; 0 leaves the kernel default (1500).
	MTU int

	// IPv4 is the outer end's IPv4 address with its prefix length, such
	// as 10.11.5.1/24; the inner end gets the next address. The zero
	// value picks 10.11.N.1/24 with N derived from Name and moved on to
	// the next free N if another env or interface already uses it.
	IPv4 netip.Prefix

	// IPv6 is the outer end's IPv6 address with its prefix length, such
	// as fc00:dead:cafe:5::1/64; the inner end gets the next address.
	// Both are added with IFA_F_NODAD, so they are usable at once. The
	// zero value picks fc00:dead:cafe:N::1/64 with the same N as IPv4
	// (written in decimal).
	IPv6 netip.Prefix

	// NoIPv4 and NoIPv6 leave the ends without addresses of that family.
	NoIPv4, NoIPv6 bool

	// Isolated puts the outer end in a network namespace of its own
	// ("xko-NAME") instead of the current one, so that the env never
	// touches the current namespace's interfaces, addresses or routes.
	Isolated bool

	// Temporary ties the env to the process that sets it up: if that
	// process dies without tearing the env down (a killed test binary),
	// the next SweepOrphans removes it. Envs made by the CLI's "env
	// setup" are not temporary: they outlive the process on purpose.
	Temporary bool
}

// Validate reports whether s is a spec Setup can build. Errors wrap
// os.ErrInvalid and say which field is wrong and what it accepts.
func (s Spec) Validate() error {
	if s.Name != "" {
		if err := ValidateName(s.Name); err != nil {
			return err
		}
	}
	if s.Queues < 0 || s.Queues > MaxQueues {
		return invalidf("queues %d out of range: use 1 to %d", s.Queues, MaxQueues)
	}
	if s.MTU != 0 && (s.MTU < MinMTU || s.MTU > MaxMTU) {
		return invalidf("mtu %d out of range: use %d to %d, or 0 for the default", s.MTU, MinMTU, MaxMTU)
	}
	if s.IPv4.IsValid() {
		if s.NoIPv4 {
			return invalidf("ipv4 %s given together with no IPv4: choose one", s.IPv4)
		}
		if err := checkPrefix(s.IPv4, false); err != nil {
			return err
		}
	}
	if s.IPv6.IsValid() {
		if s.NoIPv6 {
			return invalidf("ipv6 %s given together with no IPv6: choose one", s.IPv6)
		}
		if err := checkPrefix(s.IPv6, true); err != nil {
			return err
		}
	}
	return nil
}

// ValidateName reports whether name can name an env. The error wraps
// os.ErrInvalid and says what a name may hold.
func ValidateName(name string) error {
	if name == "" {
		return invalidf("empty env name: use 1 to %d lowercase letters, digits or '-'", MaxNameLen)
	}
	if len(name) > MaxNameLen {
		return invalidf("env name %q is %d bytes long: use at most %d so its interface names fit IFNAMSIZ", name, len(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0:
		default:
			return invalidf("env name %q: use lowercase letters, digits and '-' (not first)", name)
		}
	}
	return nil
}

// checkPrefix checks an end address: of the right family, with room for
// the next address (the inner end) inside the prefix.
func checkPrefix(p netip.Prefix, v6 bool) error {
	family, maxBits := "ipv4", 30
	if v6 {
		family, maxBits = "ipv6", 127
	}
	addr := p.Addr()
	if addr.Is4In6() || addr.Is6() != v6 || addr.Zone() != "" {
		return invalidf("%s %s is not an %s address", family, p, family)
	}
	if p.Bits() < 1 || p.Bits() > maxBits {
		return invalidf("%s %s: use a prefix length from 1 to %d so both ends fit", family, p, maxBits)
	}
	if addr == p.Masked().Addr() {
		return invalidf("%s %s is the network address: use a host address such as %s", family, p, p.Masked().Addr().Next())
	}
	if !addr.IsGlobalUnicast() && !addr.IsPrivate() {
		return invalidf("%s %s is not a unicast address", family, p)
	}
	next := addr.Next()
	if !next.IsValid() || !p.Contains(next) || (!v6 && !p.Contains(next.Next())) {
		return invalidf("%s %s: the inner end's address %s does not fit the prefix; use a lower outer address", family, p, next)
	}
	return nil
}

// peerPrefix returns the inner end's address: the one after p's, with the
// same prefix length.
func peerPrefix(p netip.Prefix) netip.Prefix {
	return netip.PrefixFrom(p.Addr().Next(), p.Bits())
}

// defaultSlot is the first N tried for the default addresses of name.
func defaultSlot(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32() % 256)
}

// slotPrefixes returns the default outer addresses for slot n (0-255).
func slotPrefixes(n int) (v4, v6 netip.Prefix) {
	v4 = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 11, byte(n), 1}), 24)
	// The IPv6 group shows N's decimal digits (10.11.122.1 and
	// fc00:dead:cafe:122::1), which fit 16 bits for N < 256.
	g := n%10 | (n/10%10)<<4 | (n/100)<<8
	v6 = netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfc, 0x00, 0xde, 0xad, 0xca, 0xfe, byte(g >> 8), byte(g), 15: 1}), 64)
	return v4, v6
}

// generateName returns a random env name.
func generateName() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "e" + hex.EncodeToString(b)
}

func invalidf(format string, args ...any) error {
	return errs.Markf(os.ErrInvalid, "%s", fmt.Sprintf(format, args...))
}
