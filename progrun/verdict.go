package progrun

import (
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// Verdict is a program's return value read the way its program type
// defines it: 3 is XDP_TX for XDP and TC_ACT_PIPE for SCHED_CLS.
type Verdict struct {
	Type ebpf.ProgramType
	Code uint32
}

var xdpVerdicts = []string{"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"}

var tcVerdicts = []string{"TC_ACT_OK", "TC_ACT_RECLASSIFY", "TC_ACT_SHOT", "TC_ACT_PIPE",
	"TC_ACT_STOLEN", "TC_ACT_QUEUED", "TC_ACT_REPEAT", "TC_ACT_REDIRECT", "TC_ACT_TRAP"}

// Return codes shared by LWT and flow dissector programs (enum bpf_ret_code).
var bpfRetCodes = map[uint32]string{0: "BPF_OK", 2: "BPF_DROP", 7: "BPF_REDIRECT",
	128: "BPF_LWT_REROUTE", 129: "BPF_FLOW_DISSECTOR_CONTINUE"}

// Name returns the symbolic name of the verdict, or "" when the program
// type gives its return value no names (RAW_TRACEPOINT, SYSCALL, ...) or
// the code is not one of them.
func (v Verdict) Name() string {
	c := v.Code
	switch v.Type {
	case ebpf.XDP:
		if c < uint32(len(xdpVerdicts)) {
			return xdpVerdicts[c]
		}
	case ebpf.SchedCLS, ebpf.SchedACT:
		if c == 0xffffffff {
			return "TC_ACT_UNSPEC"
		}
		if c < uint32(len(tcVerdicts)) {
			return tcVerdicts[c]
		}
	case ebpf.LWTIn, ebpf.LWTOut, ebpf.LWTXmit, ebpf.LWTSeg6Local:
		if c != 129 {
			return bpfRetCodes[c]
		}
	case ebpf.FlowDissector:
		if c != 7 && c != 128 {
			return bpfRetCodes[c]
		}
	case ebpf.SkLookup:
		switch c {
		case 0:
			return "SK_DROP"
		case 1:
			return "SK_PASS"
		}
	case ebpf.CGroupSKB:
		// Bit 0 allows the packet; egress programs may set bit 1 to ask
		// for congestion notification.
		switch c {
		case 0:
			return "drop"
		case 1:
			return "allow"
		case 2:
			return "drop+cn"
		case 3:
			return "allow+cn"
		}
	case ebpf.SocketFilter:
		if c == 0 {
			return "drop"
		}
		return "keep " + strconv.FormatUint(uint64(c), 10)
	}
	return ""
}

// String returns Name, or the number when there is no name: signed for
// the types whose programs return an int (RAW_TRACEPOINT, SYSCALL,
// STRUCT_OPS, ...), so that -1 reads as -1.
func (v Verdict) String() string {
	if n := v.Name(); n != "" {
		return n
	}
	if len(knownCodes(v.Type)) == 0 {
		return strconv.FormatInt(int64(int32(v.Code)), 10)
	}
	return strconv.FormatUint(uint64(v.Code), 10)
}

// Dropped reports whether the verdict drops the packet: XDP_DROP and
// XDP_ABORTED, TC_ACT_SHOT, BPF_DROP, SK_DROP, a CGROUP_SKB deny and a
// SOCKET_FILTER keeping 0 bytes.
func (v Verdict) Dropped() bool {
	switch v.Type {
	case ebpf.XDP:
		return v.Code <= 1
	case ebpf.SchedCLS, ebpf.SchedACT:
		return v.Code == 2
	case ebpf.LWTIn, ebpf.LWTOut, ebpf.LWTXmit, ebpf.LWTSeg6Local, ebpf.FlowDissector:
		return v.Code == 2
	case ebpf.SkLookup, ebpf.SocketFilter:
		return v.Code == 0
	case ebpf.CGroupSKB:
		return v.Code&1 == 0
	}
	return false
}

// ParseVerdict reads a verdict given by name (XDP_TX, tc_act_shot, pass)
// or number for programs of type t; it reads back what Verdict.String
// prints. A short name without the type's prefix is accepted when it is
// unambiguous ("tx" for XDP_TX). Numbers are unsigned 32-bit values, in
// decimal or 0x hex; for the types whose programs return a signed int
// (those without named verdicts, and SCHED_CLS and SCHED_ACT, whose
// TC_ACT_UNSPEC is -1) also negative ones down to -2147483648, taken as
// the int32 they are ("-1" is 4294967295).
func ParseVerdict(t ebpf.ProgramType, s string) (Verdict, error) {
	if n, err := strconv.ParseUint(s, 0, 32); err == nil {
		return Verdict{Type: t, Code: uint32(n)}, nil
	}
	if signedReturn(t) {
		if n, err := strconv.ParseInt(s, 0, 32); err == nil {
			return Verdict{Type: t, Code: uint32(int32(n))}, nil
		}
	}
	// A socket filter's verdict is a length, printed as "keep N".
	if n, ok := strings.CutPrefix(strings.ToLower(s), "keep "); ok && t == ebpf.SocketFilter {
		if k, err := strconv.ParseUint(strings.TrimSpace(n), 0, 32); err == nil {
			return Verdict{Type: t, Code: uint32(k)}, nil
		}
	}
	for _, c := range knownCodes(t) {
		v := Verdict{Type: t, Code: c}
		if matchVerdictName(v.Name(), s) {
			return v, nil
		}
	}
	return Verdict{}, verdictNameError(t, s)
}

// signedReturn reports whether programs of type t return a signed int
// that a negative number may give: String prints the types without named
// verdicts signed, and TC's TC_ACT_UNSPEC is -1.
func signedReturn(t ebpf.ProgramType) bool {
	return len(knownCodes(t)) == 0 || t == ebpf.SchedCLS || t == ebpf.SchedACT
}

// knownCodes lists the return values that have names for type t.
func knownCodes(t ebpf.ProgramType) []uint32 {
	var codes []uint32
	for _, c := range []uint32{0, 1, 2, 3, 4, 5, 6, 7, 8, 128, 129, 0xffffffff} {
		if n := (Verdict{Type: t, Code: c}).Name(); n != "" && (t != ebpf.SocketFilter || c == 0) {
			codes = append(codes, c)
		}
	}
	return codes
}

// VerdictNames lists the names of type t's verdicts, for help texts.
func VerdictNames(t ebpf.ProgramType) []string {
	var names []string
	for _, c := range knownCodes(t) {
		names = append(names, Verdict{Type: t, Code: c}.Name())
	}
	return names
}

func matchVerdictName(name, s string) bool {
	if name == "" {
		return false
	}
	if strings.EqualFold(name, s) {
		return true
	}
	_, short, ok := strings.Cut(name, "_ACT_")
	if !ok {
		_, short, ok = strings.Cut(name, "_")
	}
	return ok && strings.EqualFold(short, s)
}

func verdictNameError(t ebpf.ProgramType, s string) error {
	names := VerdictNames(t)
	if len(names) == 0 {
		return errs.Markf(os.ErrInvalid, "verdict %q: %s programs have no named return values; give a number", s, typeName(t))
	}
	if t == ebpf.SocketFilter {
		return errs.Markf(os.ErrInvalid, "verdict %q is not one of %s's: drop, \"keep N\" (bytes to keep), or a number", s, typeName(t))
	}
	return errs.Markf(os.ErrInvalid, "verdict %q is not one of %s's: %s, or a number", s, typeName(t), strings.Join(names, ", "))
}
