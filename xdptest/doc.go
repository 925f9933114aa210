// Package xdptest tests XDP and TC programs from a plain `go test`: load an
// object, describe cases (a packet in, a context, the verdict and packet
// expected out, or a predicate), and run them in the kernel with
// BPF_PROG_RUN, each as a subtest. The packets never touch a network: the
// kernel runs the program on a copy and hands back the verdict and the
// packet as the program left it.
//
// A mismatch is reported layer by layer, not as a hex dump. Had the "dns
// ttl" case of the example below expected the TTL unchanged (WantSpec:
// "eth/ipv4(ttl=64)/udp(sport=40000,dport=53)/payload(8)"), it would fail
// with
//
//	--- FAIL: TestFirewall/dns_ttl (0.00s)
//	    firewall_test.go:12: packet out differs from want:
//	          IPv4.TTL: want 64, got 63
//	          IPv4.Checksum: want 0x66c7, got 0x67c7
//	          in:   eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 udp 40000 > 53 payload 8
//	          want: eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 udp 40000 > 53 payload 8
//	          got:  eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 udp 40000 > 53 payload 8
//	          first differing byte at offset 22 of 50: want 40 11 66 c7 0a 00 00 01 0a 00 00 02 9c 40 00 35 ..., got 3f 11 67 c7 0a 00 00 01 0a 00 00 02 9c 40 00 35 ...
//
// and a wrong verdict reads
//
//	verdict: want XDP_TX, got XDP_PASS (return 2)
//	  in:   eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 udp 40000 > 123
//
// Packets are written as SPECs (see the packet package), such as
// eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(dport=53)/payload(8), with
// lengths and checksums filled in, or given as bytes.
//
// # Example
//
// A program that answers UDP echo requests (port 7) by swapping the
// addresses and returning XDP_TX, drops TCP and decrements the TTL of DNS
// queries:
//
//	package firewall
//
//	import (
//		"testing"
//
//		"github.com/xdpkit/xdpkit/progrun"
//		"github.com/xdpkit/xdpkit/xdptest"
//	)
//
//	func TestFirewall(t *testing.T) {
//		prog := xdptest.Load(t, "firewall.o", "xdp_example")
//		prog.RunCases(t, []xdptest.Case{{
//			Name:     "echo",
//			Spec:     "eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(sport=40000,dport=7)/payload(16)",
//			Want:     "XDP_TX",
//			WantSpec: "eth(src=02:00:00:00:00:02,dst=02:00:00:00:00:01)/ipv4(src=10.0.0.2,dst=10.0.0.1)/udp(sport=7,dport=40000)/payload(16)",
//		}, {
//			Name: "tcp dropped",
//			Spec: "eth/ipv4/tcp(dport=22)",
//			Want: "drop",
//		}, {
//			Name:     "dns ttl",
//			Spec:     "eth/ipv4(ttl=64)/udp(sport=40000,dport=53)/payload(8)",
//			Want:     "XDP_PASS",
//			WantSpec: "eth/ipv4(ttl=63)/udp(sport=40000,dport=53)/payload(8)",
//		}, {
//			Name:          "other udp untouched",
//			Spec:          "eth/ipv4/udp(dport=123)",
//			Want:          "pass",
//			WantUnchanged: true,
//		}, {
//			Name:    "tagged by an earlier program",
//			Spec:    "eth/ipv4/udp(dport=7)",
//			Context: &progrun.XDPContext{Meta: []byte{1, 0, 0, 0}},
//			Want:    "XDP_DROP",
//		}, {
//			Name:    "runt frame",
//			Packet:  make([]byte, 10),
//			WantErr: progrun.ErrPacketTooShort,
//		}, {
//			Name:   "counted",
//			Spec:   "eth/ipv4/udp(dport=123)",
//			Repeat: 100,
//			Check: func(t testing.TB, res progrun.Result) {
//				var n uint64
//				if err := prog.Map(t, "verdicts").Lookup(uint32(2), &n); err != nil {
//					t.Fatal(err)
//				}
//				if n < 100 {
//					t.Errorf("XDP_PASS counted %d times, want at least 100", n)
//				}
//			},
//		}})
//	}
//
// Programs built with bpf2go load with LoadSpec (prog :=
// xdptest.LoadSpec(t, spec, "xdp_example") with spec from the generated
// loadFirewall()); a program loaded some other way runs with FromProgram.
// Program.Run runs one case in the current test and returns its Result for
// further checks.
//
// # Privileges
//
// Loading and running BPF programs needs CAP_BPF and CAP_NET_ADMIN (root
// has both). Without them, Load, LoadSpec and RequirePrivileged skip the
// test with a reason that says what is missing and how to run the tests
// (sudo, or setcap on the test binary); when the environment variable CI
// is "true", they fail it instead, so that a CI job cannot pass by
// skipping every kernel test.
package xdptest
