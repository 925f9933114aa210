package progrun_test

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/progrun"
)

var lwtTypes = []ebpf.ProgramType{ebpf.LWTIn, ebpf.LWTOut, ebpf.LWTXmit, ebpf.LWTSeg6Local}

func TestVerdictNames(t *testing.T) {
	type named struct {
		code uint32
		name string // "" for none
	}
	tables := map[ebpf.ProgramType][]named{
		ebpf.XDP: {{0, "XDP_ABORTED"}, {1, "XDP_DROP"}, {2, "XDP_PASS"}, {3, "XDP_TX"}, {4, "XDP_REDIRECT"}, {5, ""}},
		ebpf.SchedCLS: {{0, "TC_ACT_OK"}, {1, "TC_ACT_RECLASSIFY"}, {2, "TC_ACT_SHOT"}, {3, "TC_ACT_PIPE"},
			{4, "TC_ACT_STOLEN"}, {5, "TC_ACT_QUEUED"}, {6, "TC_ACT_REPEAT"}, {7, "TC_ACT_REDIRECT"},
			{8, "TC_ACT_TRAP"}, {9, ""}, {0xffffffff, "TC_ACT_UNSPEC"}},
		ebpf.FlowDissector: {{0, "BPF_OK"}, {2, "BPF_DROP"}, {7, ""}, {128, ""}, {129, "BPF_FLOW_DISSECTOR_CONTINUE"}},
		ebpf.SkLookup:      {{0, "SK_DROP"}, {1, "SK_PASS"}, {2, ""}},
		ebpf.CGroupSKB:     {{0, "drop"}, {1, "allow"}, {2, "drop+cn"}, {3, "allow+cn"}, {4, ""}},
		ebpf.SocketFilter:  {{0, "drop"}, {28, "keep 28"}, {0xffffffff, "keep 4294967295"}},
		ebpf.RawTracepoint: {{0, ""}, {7, ""}},
		ebpf.Syscall:       {{0, ""}},
		ebpf.StructOps:     {{1, ""}},
	}
	tables[ebpf.SchedACT] = tables[ebpf.SchedCLS]
	for _, lwt := range lwtTypes {
		tables[lwt] = []named{{0, "BPF_OK"}, {2, "BPF_DROP"}, {7, "BPF_REDIRECT"}, {128, "BPF_LWT_REROUTE"}, {129, ""}}
	}
	for typ, table := range tables {
		for _, n := range table {
			v := progrun.Verdict{Type: typ, Code: n.code}
			if got := v.Name(); got != n.name {
				t.Errorf("%v %d: Name() = %q, want %q", typ, n.code, got, n.name)
			}
			want := n.name
			if want == "" {
				want = strconv.FormatUint(uint64(n.code), 10)
			}
			if got := v.String(); got != want {
				t.Errorf("%v %d: String() = %q, want %q", typ, n.code, got, want)
			}
			// What String prints, ParseVerdict reads back.
			back, err := progrun.ParseVerdict(typ, v.String())
			if err != nil || back != v {
				t.Errorf("%v: ParseVerdict(%q) = %v, %v; want %d", typ, v.String(), back, err, n.code)
			}
		}
	}
}

func TestVerdictDropped(t *testing.T) {
	for _, tc := range []struct {
		typ     ebpf.ProgramType
		dropped []uint32
		kept    []uint32
	}{
		{ebpf.XDP, []uint32{0, 1}, []uint32{2, 3, 4}},
		{ebpf.SchedCLS, []uint32{2}, []uint32{0, 1, 3, 7, 0xffffffff}},
		{ebpf.SchedACT, []uint32{2}, []uint32{0, 3}},
		{ebpf.LWTIn, []uint32{2}, []uint32{0, 7, 128}},
		{ebpf.LWTXmit, []uint32{2}, []uint32{0}},
		{ebpf.FlowDissector, []uint32{2}, []uint32{0, 129}},
		{ebpf.SkLookup, []uint32{0}, []uint32{1}},
		{ebpf.CGroupSKB, []uint32{0, 2}, []uint32{1, 3}},
		{ebpf.SocketFilter, []uint32{0}, []uint32{1, 28, 0xffffffff}},
		{ebpf.Syscall, nil, []uint32{0, 1}},
		{ebpf.RawTracepoint, nil, []uint32{0}},
	} {
		for _, c := range tc.dropped {
			if !(progrun.Verdict{Type: tc.typ, Code: c}).Dropped() {
				t.Errorf("%v %d: not Dropped()", tc.typ, c)
			}
		}
		for _, c := range tc.kept {
			if (progrun.Verdict{Type: tc.typ, Code: c}).Dropped() {
				t.Errorf("%v %d: Dropped()", tc.typ, c)
			}
		}
	}
}

func TestParseVerdict(t *testing.T) {
	for _, tc := range []struct {
		typ  ebpf.ProgramType
		in   string
		code uint32
	}{
		{ebpf.XDP, "XDP_TX", 3},
		{ebpf.XDP, "xdp_tx", 3},
		{ebpf.XDP, "tx", 3},
		{ebpf.XDP, "Tx", 3},
		{ebpf.XDP, "drop", 1},
		{ebpf.XDP, "aborted", 0},
		{ebpf.XDP, "redirect", 4},
		{ebpf.XDP, "3", 3},
		{ebpf.XDP, "0x2", 2},
		{ebpf.XDP, "17", 17}, // numbers need no name
		{ebpf.SchedCLS, "shot", 2},
		{ebpf.SchedCLS, "TC_ACT_SHOT", 2},
		{ebpf.SchedCLS, "tc_act_ok", 0},
		{ebpf.SchedCLS, "ok", 0},
		{ebpf.SchedCLS, "unspec", 0xffffffff},
		{ebpf.SchedCLS, "redirect", 7},
		{ebpf.SchedACT, "pipe", 3},
		{ebpf.LWTIn, "ok", 0},
		{ebpf.LWTOut, "drop", 2},
		{ebpf.LWTXmit, "BPF_LWT_REROUTE", 128},
		{ebpf.LWTXmit, "lwt_reroute", 128},
		{ebpf.LWTSeg6Local, "redirect", 7},
		{ebpf.FlowDissector, "flow_dissector_continue", 129},
		{ebpf.FlowDissector, "BPF_DROP", 2},
		{ebpf.SkLookup, "pass", 1},
		{ebpf.SkLookup, "SK_DROP", 0},
		{ebpf.CGroupSKB, "allow", 1},
		{ebpf.CGroupSKB, "DROP", 0},
		{ebpf.CGroupSKB, "drop+cn", 2},
		{ebpf.SocketFilter, "drop", 0},
		{ebpf.SocketFilter, "keep 28", 28},
		{ebpf.SocketFilter, "Keep 0x40", 64},
		{ebpf.Syscall, "42", 42},
	} {
		v, err := progrun.ParseVerdict(tc.typ, tc.in)
		if err != nil {
			t.Errorf("%v %q: %v", tc.typ, tc.in, err)
			continue
		}
		if v != (progrun.Verdict{Type: tc.typ, Code: tc.code}) {
			t.Errorf("%v %q: %+v, want code %d", tc.typ, tc.in, v, tc.code)
		}
	}
}

func TestParseVerdictErrors(t *testing.T) {
	for _, tc := range []struct {
		typ ebpf.ProgramType
		in  string
		msg string
	}{
		{ebpf.XDP, "bogus", `verdict "bogus" is not one of XDP's: XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT, or a number`},
		{ebpf.XDP, "", `verdict "" is not one of XDP's`},
		{ebpf.XDP, "shot", `is not one of XDP's`},
		{ebpf.XDP, "-1", `is not one of XDP's`},
		{ebpf.SchedCLS, "tx", `verdict "tx" is not one of SCHED_CLS's: TC_ACT_OK, TC_ACT_RECLASSIFY, TC_ACT_SHOT`},
		{ebpf.SchedCLS, "act_shot", `is not one of SCHED_CLS's`},
		{ebpf.LWTIn, "continue", `is not one of LWT_IN's: BPF_OK, BPF_DROP, BPF_REDIRECT, BPF_LWT_REROUTE, or a number`},
		{ebpf.FlowDissector, "redirect", `is not one of FLOW_DISSECTOR's: BPF_OK, BPF_DROP, BPF_FLOW_DISSECTOR_CONTINUE`},
		{ebpf.SkLookup, "allow", `is not one of SK_LOOKUP's: SK_DROP, SK_PASS`},
		{ebpf.CGroupSKB, "cn", `is not one of CGROUP_SKB's: drop, allow, drop+cn, allow+cn`},
		{ebpf.SocketFilter, "keep", `verdict "keep" is not one of SOCKET_FILTER's: drop, "keep N" (bytes to keep), or a number`},
		{ebpf.SocketFilter, "keep many", `is not one of SOCKET_FILTER's`},
		{ebpf.SocketFilter, "pass", `is not one of SOCKET_FILTER's`},
		{ebpf.Syscall, "ok", `verdict "ok": SYSCALL programs have no named return values; give a number`},
		{ebpf.RawTracepoint, "pass", `RAW_TRACEPOINT programs have no named return values`},
		{ebpf.StructOps, "ok", `STRUCT_OPS programs have no named return values`},
	} {
		_, err := progrun.ParseVerdict(tc.typ, tc.in)
		if err == nil {
			t.Errorf("%v %q: no error", tc.typ, tc.in)
			continue
		}
		if !errors.Is(err, os.ErrInvalid) {
			t.Errorf("%v %q: %v does not match os.ErrInvalid", tc.typ, tc.in, err)
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v %q: message %q does not contain %q", tc.typ, tc.in, err, tc.msg)
		}
	}
}

func TestVerdictNamesList(t *testing.T) {
	for _, tc := range []struct {
		typ  ebpf.ProgramType
		want []string
	}{
		{ebpf.XDP, []string{"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"}},
		{ebpf.SkLookup, []string{"SK_DROP", "SK_PASS"}},
		{ebpf.LWTIn, []string{"BPF_OK", "BPF_DROP", "BPF_REDIRECT", "BPF_LWT_REROUTE"}},
		{ebpf.FlowDissector, []string{"BPF_OK", "BPF_DROP", "BPF_FLOW_DISSECTOR_CONTINUE"}},
		{ebpf.SocketFilter, []string{"drop"}},
		{ebpf.Syscall, nil},
	} {
		if got := progrun.VerdictNames(tc.typ); !slices.Equal(got, tc.want) {
			t.Errorf("%v: %q, want %q", tc.typ, got, tc.want)
		}
	}
	names := progrun.VerdictNames(ebpf.SchedCLS)
	if len(names) != 10 || names[0] != "TC_ACT_OK" || names[9] != "TC_ACT_UNSPEC" {
		t.Errorf("SCHED_CLS: %q", names)
	}
}

// ParseVerdict reads back what String prints, for every code: names,
// unsigned numbers, and the signed numbers of the types without names.
func TestVerdictRoundTrip(t *testing.T) {
	codes := []uint32{0, 1, 2, 3, 4, 5, 7, 9, 128, 129, 1000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff}
	for _, typ := range []ebpf.ProgramType{ebpf.XDP, ebpf.SchedCLS, ebpf.SchedACT, ebpf.LWTIn, ebpf.LWTSeg6Local,
		ebpf.FlowDissector, ebpf.SkLookup, ebpf.CGroupSKB, ebpf.SocketFilter, ebpf.RawTracepoint, ebpf.Syscall,
		ebpf.StructOps, ebpf.Tracing, ebpf.Netfilter} {
		for _, c := range codes {
			v := progrun.Verdict{Type: typ, Code: c}
			back, err := progrun.ParseVerdict(typ, v.String())
			if err != nil || back != v {
				t.Errorf("%v %d: ParseVerdict(%q) = %+v, %v", typ, c, v.String(), back, err)
			}
		}
	}
	for _, tc := range []struct {
		typ  ebpf.ProgramType
		in   string
		code uint32
	}{
		{ebpf.Syscall, "-1", 0xffffffff},
		{ebpf.RawTracepoint, "-2147483648", 0x80000000},
		{ebpf.StructOps, "-0x10", 0xfffffff0},
		{ebpf.SchedCLS, "-1", 0xffffffff}, // TC_ACT_UNSPEC
		{ebpf.SchedACT, "-1", 0xffffffff},
	} {
		if v, err := progrun.ParseVerdict(tc.typ, tc.in); err != nil || v.Code != tc.code {
			t.Errorf("%v %q: %+v, %v; want code %#x", tc.typ, tc.in, v, err, tc.code)
		}
	}
	for _, in := range []string{"-2147483649", "-4294967295"} {
		if _, err := progrun.ParseVerdict(ebpf.Syscall, in); err == nil {
			t.Errorf("SYSCALL %q: no error for a number out of the 32-bit range", in)
		}
	}
}
