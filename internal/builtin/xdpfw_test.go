package builtin_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpkit/xdpkit/internal/builtin"
	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/progrun"
	"github.com/xdpkit/xdpkit/xdp"
	"github.com/xdpkit/xdpkit/xdptest"
)

// The XDP actions, which index xdp_fw_verdicts.
const (
	xdpAborted = iota
	xdpDrop
	xdpPass
	xdpTX
	xdpRedirect
	xdpActions
)

// TestXDPFirewallSpec checks the object without a kernel: one XDP program
// and a per-CPU array of 5 counters whose value has BTF (a 64-bit
// integer), so that map dump prints numbers.
func TestXDPFirewallSpec(t *testing.T) {
	spec, err := builtin.XDPFirewallSpec()
	if err != nil {
		t.Fatal(err)
	}
	if p := spec.Programs["xdp_fw"]; p == nil || p.Type != ebpf.XDP || len(spec.Programs) != 1 {
		t.Fatalf("want one XDP program xdp_fw, got %v", spec.Programs)
	}
	m := spec.Maps["xdp_fw_verdicts"]
	if m == nil || m.Type != ebpf.PerCPUArray || m.MaxEntries != xdpActions || m.KeySize != 4 || m.ValueSize != 8 {
		t.Fatalf("want per-CPU array xdp_fw_verdicts of %d u32 -> u64, got %+v", xdpActions, m)
	}
	if i, ok := btf.UnderlyingType(m.Value).(*btf.Int); !ok || i.Size != 8 || i.Encoding == btf.Signed {
		t.Errorf("xdp_fw_verdicts value BTF is %v, want an unsigned 64-bit integer", m.Value)
	}
	if !bytes.Equal(builtin.XDPFirewallObject()[:4], []byte("\x7fELF")) {
		t.Errorf("XDPFirewallObject is not an ELF object")
	}
}

// TestXDPFirewall runs xdp_fw with BPF_PROG_RUN on one frame per rule and
// edge, then checks that xdp_fw_verdicts counted each verdict once per
// case. Replies are compared with frames that the packet package builds
// from scratch (gopacket computes every checksum anew), so the program's
// incremental checksum updates are checked against full recomputation.
func TestXDPFirewall(t *testing.T) {
	testutil.RequirePrivileged(t)
	spec, err := builtin.XDPFirewallSpec()
	if err != nil {
		t.Fatal(err)
	}
	p := xdptest.LoadSpec(t, spec, "xdp_fw")

	const (
		mac1 = "02:00:00:00:00:01" // the SPEC's default eth src
		mac2 = "02:00:00:00:00:02" // and dst
		back = "eth(src=" + mac2 + ",dst=" + mac1 + ")"
	)
	echo4 := xdptest.MustBuild(t, "eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/icmp(type=echo-request,id=7,seq=1)/payload(56)")
	echo6 := xdptest.MustBuild(t, "eth/ipv6(src=fc00::1,dst=fc00::2)/icmp6(type=echo-request,id=7,seq=1)/payload(56)")

	cases := []xdptest.Case{{
		Name:     "ipv4 echo answered",
		Spec:     "eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/icmp(type=echo-request,id=7,seq=1)/payload(56)",
		Want:     "XDP_TX",
		WantSpec: back + "/ipv4(src=10.0.0.2,dst=10.0.0.1)/icmp(type=echo-reply,id=7,seq=1)/payload(56)",
	}, {
		Name:     "ipv4 echo with odd payload",
		Spec:     "eth/ipv4(src=192.168.1.10,dst=192.168.1.1,ttl=17,tos=0x10,id=4321,df=true)/icmp(type=echo-request,id=0xbeef,seq=65535)/payload(13)",
		Want:     "XDP_TX",
		WantSpec: back + "/ipv4(src=192.168.1.1,dst=192.168.1.10,ttl=17,tos=0x10,id=4321,df=true)/icmp(type=echo-reply,id=0xbeef,seq=65535)/payload(13)",
	}, {
		// The reply's words sum to zero: from scratch its checksum is
		// 0xffff (the only one that verifies), where RFC 1624 eqn. 3
		// alone would give 0x0000.
		Name:     "ipv4 echo all zeros",
		Spec:     "eth/ipv4/icmp(type=echo-request,id=0,seq=0)",
		Want:     "XDP_TX",
		WantSpec: back + "/ipv4(src=10.0.0.2,dst=10.0.0.1)/icmp(type=echo-reply,id=0,seq=0)",
	}, {
		// The reply's words sum to 0xffff (-0): its checksum is +0.
		Name:     "ipv4 echo reply checksum zero",
		Spec:     "eth/ipv4/icmp(type=echo-request,id=0xffff,seq=0)",
		Want:     "XDP_TX",
		WantSpec: back + "/ipv4(src=10.0.0.2,dst=10.0.0.1)/icmp(type=echo-reply,id=0xffff,seq=0)",
	}, {
		// The request's checksum needs an end-around carry.
		Name:     "ipv4 echo checksum carry",
		Spec:     "eth/ipv4/icmp(type=echo-request,id=0xf800,seq=0)/payload(text=x)",
		Want:     "XDP_TX",
		WantSpec: back + "/ipv4(src=10.0.0.2,dst=10.0.0.1)/icmp(type=echo-reply,id=0xf800,seq=0)/payload(text=x)",
	}, {
		Name:       "ipv4 echo with IP options answered",
		Packet:     withIPv4Options(t, "eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/icmp(type=echo-request,id=9,seq=3)/payload(21)"),
		Want:       "XDP_TX",
		WantPacket: withIPv4Options(t, back+"/ipv4(src=10.0.0.2,dst=10.0.0.1)/icmp(type=echo-reply,id=9,seq=3)/payload(21)"),
	}, {
		Name:          "ipv4 echo reply passes",
		Spec:          "eth/ipv4/icmp(type=echo-reply,id=7,seq=1)/payload(8)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "ipv4 dest unreachable passes",
		Spec:          "eth/ipv4/icmp(type=dest-unreachable,code=3)/payload(28)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "ipv4 echo to broadcast left to the kernel",
		Spec:          "eth(dst=ff:ff:ff:ff:ff:ff)/ipv4(dst=10.0.0.255)/icmp(type=echo-request,id=1,seq=1)/payload(8)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "ipv4 echo to multicast left to the kernel",
		Spec:          "eth(dst=01:00:5e:00:00:01)/ipv4(dst=224.0.0.1)/icmp(type=echo-request,id=1,seq=1)/payload(8)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "ipv4 echo fragment left to the kernel",
		Packet:        patchIPv4(t, "eth/ipv4/icmp(type=echo-request,id=1,seq=1)/payload(8)", func(ip []byte) { ip[6] |= 0x20 }), // MF
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:     "ipv6 echo answered",
		Spec:     "eth/ipv6(src=fc00::1,dst=fc00::2)/icmp6(type=echo-request,id=7,seq=1)/payload(56)",
		Want:     "XDP_TX",
		WantSpec: back + "/ipv6(src=fc00::2,dst=fc00::1)/icmp6(type=echo-reply,id=7,seq=1)/payload(56)",
	}, {
		Name:     "ipv6 echo with odd payload",
		Spec:     "eth/ipv6(src=2001:db8::1:2:3,dst=fe80::42,hlim=3,tc=8,flow=12345)/icmp6(type=echo-request,id=65535,seq=0)/payload(13)",
		Want:     "XDP_TX",
		WantSpec: back + "/ipv6(src=fe80::42,dst=2001:db8::1:2:3,hlim=3,tc=8,flow=12345)/icmp6(type=echo-reply,id=65535,seq=0)/payload(13)",
	}, {
		Name:     "ipv6 echo without payload",
		Spec:     "eth/ipv6/icmp6(type=echo-request)",
		Want:     "XDP_TX",
		WantSpec: back + "/ipv6(src=fc00::2,dst=fc00::1)/icmp6(type=echo-reply)",
	}, {
		Name:          "ipv6 echo to multicast left to the kernel",
		Spec:          "eth(dst=33:33:00:00:00:01)/ipv6(dst=ff02::1)/icmp6(type=echo-request,id=1,seq=1)/payload(8)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "ipv6 neighbor solicitation passes",
		Spec:          "eth/ipv6/icmp6(type=neighbor-solicitation)/payload(16)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name: "ipv4 telnet dropped",
		Spec: "eth/ipv4/tcp(sport=40000,dport=23,flags=S)",
		Want: "XDP_DROP",
	}, {
		Name: "ipv6 telnet dropped",
		Spec: "eth/ipv6/tcp(sport=40000,dport=23,flags=S)/payload(10)",
		Want: "XDP_DROP",
	}, {
		Name:          "ipv4 http passes",
		Spec:          "eth/ipv4/tcp(sport=40000,dport=80,flags=S)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "ipv6 http passes",
		Spec:          "eth/ipv6/tcp(sport=40000,dport=80,flags=PA)/payload(100)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "telnet server's answer passes",
		Spec:          "eth/ipv4/tcp(sport=23,dport=40000,flags=SA)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name: "ipv4 udp discard dropped",
		Spec: "eth/ipv4/udp(sport=5000,dport=9)/payload(32)",
		Want: "XDP_DROP",
	}, {
		Name: "ipv6 udp discard dropped",
		Spec: "eth/ipv6/udp(sport=5000,dport=9)",
		Want: "XDP_DROP",
	}, {
		Name:          "ipv4 dns passes",
		Spec:          "eth/ipv4/udp(sport=40000,dport=53)/payload(40)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "ipv6 dns passes",
		Spec:          "eth/ipv6/udp(sport=40000,dport=53)/payload(40)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "udp from port 9 passes",
		Spec:          "eth/ipv4/udp(sport=9,dport=5000)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		// A later fragment has no UDP header where the first one has it:
		// its first bytes are payload, here 00 09 in the dport's place.
		Name: "ipv4 later fragment passes",
		Packet: patchIPv4(t, "eth/ipv4/udp(sport=5000,dport=9)/payload(16)", func(ip []byte) {
			binary.BigEndian.PutUint16(ip[6:], 185) // fragment offset 1480
		}),
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "arp passes",
		Spec:          "eth/arp(op=request,tpa=10.0.0.2)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "other ethertype passes",
		Spec:          "eth/payload(46)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "vlan-tagged echo passes",
		Spec:          "eth/vlan(id=100)/ipv4/icmp(type=echo-request,id=7,seq=1)/payload(8)",
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "truncated ipv4 header passes",
		Packet:        echo4[:20],
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "truncated ipv6 header passes",
		Packet:        echo6[:30],
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		// The headers are all there, but the IPv4 total length claims
		// 20 bytes more than the frame holds.
		Name:          "ipv4 echo shorter than its total length passes",
		Packet:        echo4[:len(echo4)-20],
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "ipv6 echo shorter than its payload length passes",
		Packet:        echo6[:len(echo6)-20],
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "ipv4 telnet shorter than its total length passes",
		Packet:        xdptest.MustBuild(t, "eth/ipv4/tcp(dport=23)/payload(10)")[:14+20+20],
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:          "ipv4 header length below 5 passes",
		Packet:        patchIPv4(t, "eth/ipv4/udp(dport=9)", func(ip []byte) { ip[0] = 0x44 }),
		Want:          "XDP_PASS",
		WantUnchanged: true,
	}, {
		Name:   "ethernet padding is kept",
		Packet: append(xdptest.MustBuild(t, "eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/icmp(type=echo-request,id=7,seq=1)"), make([]byte, 18)...),
		Want:   "XDP_TX",
		WantPacket: append(xdptest.MustBuild(t, back+"/ipv4(src=10.0.0.2,dst=10.0.0.1)/icmp(type=echo-reply,id=7,seq=1)"),
			make([]byte, 18)...),
	}}
	p.RunCases(t, cases)

	var want [xdpActions]uint64
	for _, c := range cases {
		v, err := progrun.ParseVerdict(ebpf.XDP, c.Want)
		if err != nil {
			t.Fatal(err)
		}
		want[v.Code]++
	}
	got := readVerdicts(t, p.Map(t, "xdp_fw_verdicts"))
	if got != want {
		t.Errorf("xdp_fw_verdicts after %d cases: %s, want %s", len(cases), formatVerdicts(got), formatVerdicts(want))
	}
	if want[xdpTX] == 0 || want[xdpDrop] == 0 || want[xdpPass] == 0 {
		t.Fatalf("the cases miss a verdict: %s", formatVerdicts(want))
	}
}

// TestXDPFirewallPing attaches xdp_fw to the inner end of a test env and
// pings it from the outer end over IPv4 and IPv6: every echo request must
// be answered, by XDP_TX (the program's TX counter grows by at least the
// replies) and not by the kernel (the inner namespace's ICMP counters of
// echo replies sent do not move).
func TestXDPFirewallPing(t *testing.T) {
	testutil.RequirePrivileged(t)
	env := testutil.NewEnv(t, netenv.Spec{Name: testutil.UniqueName("fw")[:netenv.MaxNameLen], Isolated: true})

	spec, err := builtin.XDPFirewallSpec()
	if err != nil {
		t.Fatal(err)
	}
	attach := func(end netenv.End, opts xdp.AttachOptions) *xdp.Attachment {
		t.Helper()
		opts.Interface = end.Interface
		var a *xdp.Attachment
		err := end.Do(func() (err error) {
			a, err = xdp.Attach(opts)
			return err
		})
		if err != nil {
			t.Fatalf("attach to %s: %v", end, err)
		}
		t.Cleanup(func() {
			if err := a.Close(); err != nil {
				t.Error(err)
			}
		})
		return a
	}
	// A veth drops frames sent to it with XDP_TX unless it runs XDP
	// itself (or GRO): xdp_pass on the outer end lets the replies in.
	attach(env.Outer, xdp.AttachOptions{Object: builtin.XDPPassObject(), Mode: xdp.ModeNative})
	fw := attach(env.Inner, xdp.AttachOptions{Spec: spec, Mode: xdp.ModeNative})
	verdicts := fw.Map("xdp_fw_verdicts")
	if verdicts == nil {
		t.Fatal("attachment has no map xdp_fw_verdicts")
	}

	for _, v6 := range []bool{false, true} {
		family, snmp, counter := "IPv4", "snmp", "Icmp.OutEchoReps"
		if v6 {
			family, snmp, counter = "IPv6", "snmp6", "Icmp6OutEchoReplies"
		}
		t.Run(family, func(t *testing.T) {
			if v6 && !env.Inner.IPv6.IsValid() {
				testutil.SkipOrFail(t, "env %s has no IPv6 (%v)", env.Name, env.Notes)
			}
			before := readVerdicts(t, verdicts)
			kernelBefore := innerCounter(t, env, snmp, counter)
			res, err := env.Ping(t.Context(), netenv.PingOptions{From: netenv.Outer, IPv6: v6, Count: 3})
			if err != nil {
				t.Fatalf("ping through xdp_fw: %v", err)
			}
			t.Logf("ping %s from the outer end: %d of %d answered", res.Target, res.Received, res.Sent)
			after := readVerdicts(t, verdicts)
			kernelAfter := innerCounter(t, env, snmp, counter)
			if tx := after[xdpTX] - before[xdpTX]; tx < uint64(res.Received) {
				t.Errorf("XDP_TX counted %d frames during the ping, want at least the %d replies ping got (verdicts before %s, after %s)",
					tx, res.Received, formatVerdicts(before), formatVerdicts(after))
			}
			if kernelAfter != kernelBefore {
				t.Errorf("the inner namespace's kernel sent %d echo replies itself (%s): the requests reached the stack", kernelAfter-kernelBefore, counter)
			}
		})
	}
}

// readVerdicts sums the per-CPU counters of xdp_fw_verdicts.
func readVerdicts(t testing.TB, m *ebpf.Map) [xdpActions]uint64 {
	t.Helper()
	var sums [xdpActions]uint64
	for action := range uint32(xdpActions) {
		var perCPU []uint64
		if err := m.Lookup(action, &perCPU); err != nil {
			t.Fatalf("look up verdict %d in %v: %v", action, m, err)
		}
		for _, n := range perCPU {
			sums[action] += n
		}
	}
	return sums
}

func formatVerdicts(v [xdpActions]uint64) string {
	names := [xdpActions]string{"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"}
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = fmt.Sprintf("%s=%d", names[i], n)
	}
	return strings.Join(parts, " ")
}

// innerCounter reads a counter of /proc/net/snmp ("Icmp.OutEchoReps",
// group and field) or /proc/net/snmp6 ("Icmp6OutEchoReplies") in the
// env's inner namespace.
func innerCounter(t testing.TB, env *netenv.Env, file, name string) uint64 {
	t.Helper()
	var n uint64
	err := env.Do(func() error {
		// thread-self: Do switches the namespace of this thread only.
		b, err := os.ReadFile("/proc/thread-self/net/" + file)
		if err != nil {
			return err
		}
		n, err = snmpCounter(b, name)
		return err
	})
	if err != nil {
		t.Fatalf("read %s in env %s: %v", name, env.Name, err)
	}
	return n
}

// snmpCounter finds a counter in the text of /proc/net/snmp (a header
// line and a value line per group: "Icmp: InMsgs ..." / "Icmp: 3 ...",
// the counter named "Group.Field") or of /proc/net/snmp6 (a "Name value"
// line per counter).
func snmpCounter(b []byte, name string) (uint64, error) {
	group, field, grouped := strings.Cut(name, ".")
	var header []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case !grouped && len(f) == 2 && f[0] == name:
			return strconv.ParseUint(f[1], 10, 64)
		case grouped && len(f) > 0 && f[0] == group+":":
			if header == nil {
				header = f
				continue
			}
			for i := 1; i < len(header) && i < len(f); i++ {
				if header[i] == field {
					return strconv.ParseUint(f[i], 10, 64)
				}
			}
			return 0, fmt.Errorf("no field %s in group %s", field, group)
		}
	}
	return 0, errors.New("no counter " + name)
}

// patchIPv4 builds the frame spec describes (IPv4 right after the
// Ethernet header), lets patch change the IPv4 header, and recomputes the
// header checksum.
func patchIPv4(t testing.TB, spec string, patch func(ip []byte)) []byte {
	t.Helper()
	b := xdptest.MustBuild(t, spec)
	ip := b[14:]
	patch(ip)
	setIPv4Checksum(ip[:int(ip[0]&0x0f)*4])
	return b
}

// withIPv4Options builds the frame spec describes and inserts 4 bytes of
// IPv4 options (NOP, NOP, NOP, end of list) into its IPv4 header: IHL 6,
// total length and header checksum updated. Checksums of the layers above
// do not cover the IPv4 header and stay valid.
func withIPv4Options(t testing.TB, spec string) []byte {
	t.Helper()
	b := xdptest.MustBuild(t, spec)
	out := make([]byte, 0, len(b)+4)
	out = append(out, b[:14+20]...)
	out = append(out, 1, 1, 1, 0)
	out = append(out, b[14+20:]...)
	ip := out[14:]
	if ip[0] != 0x45 {
		t.Fatalf("withIPv4Options: %q has no plain IPv4 header after the Ethernet header", spec)
	}
	ip[0] = 0x46
	binary.BigEndian.PutUint16(ip[2:], binary.BigEndian.Uint16(ip[2:])+4)
	setIPv4Checksum(ip[:24])
	return out
}

// setIPv4Checksum computes the checksum of an IPv4 header from scratch.
func setIPv4Checksum(h []byte) {
	h[10], h[11] = 0, 0
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
}
