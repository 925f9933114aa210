package progrun_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/testprogs"
	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/progrun"
)

// The kernel tests run the C programs in bpf/testprogs/run_*.c, and compute
// what each must return from the input frames themselves: the frames are
// built here from byte literals and the checksums by csum below, with
// nothing from xdpkit but the Runner under test.

// loadCollection loads bpf/testprogs/NAME.c's object and closes it when the
// test ends. STRUCT_OPS programs get their target, bpf_dummy_ops:<member>,
// from their section name (struct_ops/test_1), which the ELF loader leaves
// unused as libbpf does.
func loadCollection(t *testing.T, name string) *ebpf.Collection {
	t.Helper()
	testutil.RequirePrivileged(t)
	spec, err := testprogs.Spec(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range spec.Programs {
		if p.Type == ebpf.StructOps {
			_, member, _ := strings.Cut(p.SectionName, "/")
			p.AttachTo = "bpf_dummy_ops:" + member
		}
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			t.Fatalf("load %s: %+v", name, ve)
		}
		t.Fatalf("load %s: %v", name, err)
	}
	t.Cleanup(func() { coll.Close() })
	return coll
}

// loadRunner loads program prog of object obj and returns a Runner for it.
func loadRunner(t *testing.T, obj, prog string) *progrun.Runner {
	t.Helper()
	p := loadCollection(t, obj).Programs[prog]
	if p == nil {
		t.Fatalf("object %s has no program %s", obj, prog)
	}
	return progrun.New(p)
}

// run runs in and fails the test on an error.
func run(t *testing.T, r *progrun.Runner, in progrun.Input) progrun.Result {
	t.Helper()
	res, err := r.Run(in)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

// Addresses and MACs of the test frames.
var (
	macA  = []byte{0x02, 0xaa, 0xaa, 0xaa, 0xaa, 0x01}
	macB  = []byte{0x02, 0xbb, 0xbb, 0xbb, 0xbb, 0x02}
	ip4A  = []byte{10, 0, 0, 1}
	ip4B  = []byte{198, 51, 100, 9} // TEST-NET-2: the LWT programs pass it
	ip4C  = []byte{192, 0, 2, 7}    // TEST-NET-1: the LWT programs drop it
	ip6A  = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a}
	ip6B  = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b}
	ether = func(typ uint16) []byte { return cat(macA, macB, be16(typ)) }
)

const (
	ethIPv4 = 0x0800
	ethIPv6 = 0x86dd
	ethARP  = 0x0806
	ethVLAN = 0x8100
)

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func ne32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// csum is the Internet checksum (RFC 1071) of b.
func csum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// ipv4 returns a 20-byte IPv4 header with a correct checksum for a
// payload of n bytes.
func ipv4(src, dst []byte, proto, ttl, tos byte, n int) []byte {
	h := cat([]byte{0x45, tos}, be16(uint16(20+n)), be16(0x1234), be16(0), []byte{ttl, proto, 0, 0}, src, dst)
	binary.BigEndian.PutUint16(h[10:], csum(h))
	return h
}

// setIPv4 changes byte off of the IPv4 header at frame[l3:] to v and
// recomputes the header checksum from scratch.
func setIPv4(frame []byte, l3, off int, v byte) []byte {
	out := bytes.Clone(frame)
	h := out[l3 : l3+20]
	h[off] = v
	h[10], h[11] = 0, 0
	binary.BigEndian.PutUint16(h[10:], csum(h))
	return out
}

// ipv4Valid reports whether the IPv4 header at frame[l3:] checksums to 0.
func ipv4Valid(frame []byte, l3 int) bool { return csum(frame[l3:l3+20]) == 0 }

// udp returns a UDP header and payload (checksum 0: none, as IPv4 allows).
func udp(sport, dport uint16, payload []byte) []byte {
	return cat(be16(sport), be16(dport), be16(uint16(8+len(payload))), be16(0), payload)
}

// tcp returns a 20-byte TCP header (SYN) and payload.
func tcp(sport, dport uint16, payload []byte) []byte {
	return cat(be16(sport), be16(dport), be32(1), be32(0), []byte{0x50, 0x02}, be16(0xffff), be16(0), be16(0), payload)
}

// udp4Frame is an Ethernet/IPv4/UDP frame from ip4A to dst.
func udp4Frame(dst []byte, sport, dport uint16, payload string) []byte {
	l4 := udp(sport, dport, []byte(payload))
	return cat(ether(ethIPv4), ipv4(ip4A, dst, 17, 64, 0, len(l4)), l4)
}

// tcp4Frame is an Ethernet/IPv4/TCP frame from ip4A to dst.
func tcp4Frame(dst []byte, sport, dport uint16) []byte {
	l4 := tcp(sport, dport, []byte("hello"))
	return cat(ether(ethIPv4), ipv4(ip4A, dst, 6, 64, 0, len(l4)), l4)
}

// arpFrame is an Ethernet ARP request (who has 10.0.0.2, tell 10.0.0.1).
func arpFrame() []byte {
	return cat(ether(ethARP), []byte{0, 1, 8, 0, 6, 4, 0, 1}, macB, ip4A, make([]byte, 6), []byte{10, 0, 0, 2})
}

// zeroEther returns frame with its Ethernet header zeroed: what the kernel
// hands back for the types that see the packet from the network header on.
func zeroEther(frame []byte) []byte {
	out := bytes.Clone(frame)
	clear(out[:14])
	return out
}

// wantBytes fails the test unless got equals want.
func wantBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got % x\nwant % x", what, got, want)
	}
}

// wantVerdict fails the test unless res has the return value code, named
// name.
func wantVerdict(t *testing.T, res progrun.Result, code uint32, name string) {
	t.Helper()
	if res.Return != code || res.Verdict.Code != code || res.Verdict.String() != name {
		t.Errorf("verdict %v (return %d), want %s (%d)", res.Verdict, res.Return, name, code)
	}
}
