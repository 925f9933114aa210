package progrun_test

import (
	"net/netip"
	"testing"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/progrun"
)

// The FLOW_DISSECTOR tests run flow_parse of bpf/testprogs/run_flow.c.
// The kernel starts the keys with nhoff = thoff = 14 and n_proto = the
// ethertype; the program fills in the rest.

func addr(b []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestFlowDissector(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_flow", "flow_parse")

	// IPv4 with MF set, offset 0: the first fragment; offset 185 (1480
	// bytes): a later one. The header checksum does not matter here.
	frag := func(fragOff uint16) []byte {
		l4 := tcp(40000, 443, nil)
		f := cat(ether(ethIPv4), ipv4(ip4A, ip4C, 6, 64, 0, len(l4)), l4)
		f[14+6], f[14+7] = byte(fragOff>>8), byte(fragOff)
		return f
	}
	// IPv6 with traffic class 0xb8 and flow label 0xabcde.
	v6 := func(next byte, l4 []byte) []byte {
		return cat(ether(ethIPv6), []byte{0x6b, 0x8a, 0xbc, 0xde}, be16(uint16(len(l4))), []byte{next, 64}, ip6A, ip6B, l4)
	}

	for _, tc := range []struct {
		name  string
		frame []byte
		flags uint32
		code  uint32
		verd  string
		want  progrun.FlowKeys
	}{
		{
			name: "ipv4 tcp", frame: tcp4Frame(ip4C, 40000, 443), verd: "BPF_OK",
			want: progrun.FlowKeys{Nhoff: 14, Thoff: 34, AddrProto: 0x0800, IPProto: 6, NProto: 0x0800,
				Sport: 40000, Dport: 443, Src: addr(ip4A), Dst: addr(ip4C)},
		},
		{
			name: "ipv4 udp", frame: udp4Frame(ip4B, 5353, 53, "q"), verd: "BPF_OK",
			want: progrun.FlowKeys{Nhoff: 14, Thoff: 34, AddrProto: 0x0800, IPProto: 17, NProto: 0x0800,
				Sport: 5353, Dport: 53, Src: addr(ip4A), Dst: addr(ip4B)},
		},
		{
			name: "ipv6 udp", frame: v6(17, udp(1234, 4789, []byte("vxlan"))), verd: "BPF_OK",
			want: progrun.FlowKeys{Nhoff: 14, Thoff: 54, AddrProto: 0x86dd, IPProto: 17, NProto: 0x86dd,
				Sport: 1234, Dport: 4789, Src: addr(ip6A), Dst: addr(ip6B), FlowLabel: 0xabcde},
		},
		{
			name: "ipv6 no next header", frame: v6(59, nil), verd: "BPF_OK",
			want: progrun.FlowKeys{Nhoff: 14, Thoff: 54, AddrProto: 0x86dd, IPProto: 59, NProto: 0x86dd,
				Src: addr(ip6A), Dst: addr(ip6B), FlowLabel: 0xabcde},
		},
		{
			name: "first fragment", frame: frag(0x2000), verd: "BPF_OK",
			want: progrun.FlowKeys{Nhoff: 14, Thoff: 34, AddrProto: 0x0800, IPProto: 6, NProto: 0x0800,
				IsFrag: true, IsFirstFrag: true, Src: addr(ip4A), Dst: addr(ip4C)},
		},
		{
			// BPF_FLOW_DISSECTOR_F_PARSE_1ST_FRAG: ports of first fragments.
			name: "first fragment, parse 1st frag", frame: frag(0x2000), flags: 1, verd: "BPF_OK",
			want: progrun.FlowKeys{Nhoff: 14, Thoff: 34, AddrProto: 0x0800, IPProto: 6, NProto: 0x0800,
				IsFrag: true, IsFirstFrag: true, Sport: 40000, Dport: 443, Src: addr(ip4A), Dst: addr(ip4C), Flags: 1},
		},
		{
			name: "later fragment", frame: frag(185), flags: 1, verd: "BPF_OK",
			want: progrun.FlowKeys{Nhoff: 14, Thoff: 34, AddrProto: 0x0800, IPProto: 6, NProto: 0x0800,
				IsFrag: true, Src: addr(ip4A), Dst: addr(ip4C), Flags: 1},
		},
		{
			name: "arp", frame: arpFrame(), code: 2, verd: "BPF_DROP",
			want: progrun.FlowKeys{Nhoff: 14, Thoff: 14, NProto: 0x0806},
		},
		{
			name: "truncated ipv4", frame: cat(ether(ethIPv4), []byte{0x45, 0, 0, 20}), code: 2, verd: "BPF_DROP",
			want: progrun.FlowKeys{Nhoff: 14, Thoff: 14, NProto: 0x0800},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ctx progrun.Context
			if tc.flags != 0 {
				ctx = &progrun.FlowDissectorContext{Flags: tc.flags}
			}
			res := run(t, r, progrun.Input{Data: tc.frame, Context: ctx})
			wantVerdict(t, res, tc.code, tc.verd)
			if res.FlowKeys == nil {
				t.Fatal("no flow keys")
			}
			if *res.FlowKeys != tc.want {
				t.Errorf("flow keys\n got %+v\nwant %+v", *res.FlowKeys, tc.want)
			}
			if res.Data != nil || res.Context != nil {
				t.Errorf("data %x context %v, want none", res.Data, res.Context)
			}
		})
	}

	res := run(t, r, progrun.Input{Data: tcp4Frame(ip4C, 1, 2), Repeat: 100})
	if res.Repeat != 100 || res.Duration <= 0 {
		t.Errorf("repeat %d duration %v, want 100 and > 0", res.Repeat, res.Duration)
	}
	if res.FlowKeys == nil || res.FlowKeys.Dport != 2 {
		t.Errorf("flow keys after 100 runs %+v", res.FlowKeys)
	}
}
