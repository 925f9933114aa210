package progrun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/sys"
)

// Errors a run can fail with, matchable with errors.Is. Each error's
// message says what was wrong with this input and how to fix it; the
// sentinels also match the os error the CLI maps to an exit code
// (os.ErrInvalid for bad input, ebpf.ErrNotSupported for what the kernel
// cannot do, context.Canceled for a run that was stopped).
var (
	// ErrNotRunnable: the kernel has no test runner for the program type
	// (LWT_SEG6LOCAL, KPROBE, ...).
	ErrNotRunnable = &kindError{"program type cannot be test-run", ebpf.ErrNotSupported}
	// ErrPacketTooShort: a packet shorter than an Ethernet header (14 bytes).
	ErrPacketTooShort = &kindError{"packet shorter than an Ethernet header", os.ErrInvalid}
	// ErrPacketTooLong: a packet longer than the kernel's test-run buffer.
	ErrPacketTooLong = &kindError{"packet longer than the test-run buffer", os.ErrInvalid}
	// ErrNoPacket: a packet given to a type that takes none (SK_LOOKUP,
	// RAW_TRACEPOINT, SYSCALL, STRUCT_OPS). A type that needs a packet
	// and gets none (or less than 14 bytes) fails with ErrPacketTooShort.
	ErrNoPacket = &kindError{"packet given to a type that takes none", os.ErrInvalid}
	// ErrContext: a context of the wrong type, a field the kernel does not
	// accept for this type, or a value it refuses.
	ErrContext = &kindError{"context not accepted", os.ErrInvalid}
	// ErrRepeat: a repeat count for a type the kernel runs only once.
	ErrRepeat = &kindError{"repeat not allowed", os.ErrInvalid}
	// ErrLiveFrames: BPF_F_TEST_XDP_LIVE_FRAMES with an output buffer.
	ErrLiveFrames = &kindError{"live frames give no output", os.ErrInvalid}
	// ErrRefused: the kernel refused this input (EINVAL) for a reason
	// xdpkit could not check beforehand; the message names the likely ones.
	ErrRefused = &kindError{"input refused by the kernel", os.ErrInvalid}
	// ErrNoDevice: an ifindex in the context that does not exist.
	ErrNoDevice = &kindError{"no such interface", os.ErrNotExist}
	// ErrInterrupted: the run was stopped before it finished, by the
	// context of RunContext or by signals that kept interrupting it. It
	// also matches context.Canceled.
	ErrInterrupted = &kindError{"run interrupted", context.Canceled}
)

// kindError is a sentinel that also matches a broader os or ebpf error.
type kindError struct {
	msg  string
	also error
}

// Error returns the sentinel's short description ("no such interface").
func (e *kindError) Error() string { return e.msg }

// Is reports whether target is the broader error the sentinel also
// matches (os.ErrInvalid for ErrContext); errors.Is matches the sentinel
// itself by identity before asking.
func (e *kindError) Is(target error) bool { return target == e.also }

// RunError is a failed run: the kernel's errno, what xdpkit makes of it,
// and the sentinel it matches.
type RunError struct {
	Type   ebpf.ProgramType
	Reason string // a sentence: the problem and the fix
	Kind   error  // one of the Err* sentinels, or nil
	Errno  error  // the kernel's answer, nil when xdpkit refused before asking

	stop []error // what stopped an interrupted run: ctx.Err() and its cause
}

// Error returns "run TYPE program: REASON", followed by the kernel's errno
// by name ("(kernel: EINVAL)") when the kernel was asked.
func (e *RunError) Error() string {
	if e.Errno != nil {
		return fmt.Sprintf("run %s program: %s (kernel: %v)", typeName(e.Type), e.Reason, errnoName(e.Errno))
	}
	return fmt.Sprintf("run %s program: %s", typeName(e.Type), e.Reason)
}

// Unwrap returns the sentinel and the errno, and for a run its context
// stopped, the context's error (context.Canceled or
// context.DeadlineExceeded) and cause (context.Cause).
func (e *RunError) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Errno != nil {
		out = append(out, e.Errno)
	}
	return append(out, e.stop...)
}

func refuse(t ebpf.ProgramType, kind error, format string, args ...any) error {
	return &RunError{Type: t, Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// progTypeNames are the kernel's names of the program types (enum
// bpf_prog_type less BPF_PROG_TYPE_), which messages use: the Go names
// (SchedCLS, LWTSeg6Local) are not what kernel documentation, bpftool
// and section names lead users to look for.
var progTypeNames = map[ebpf.ProgramType]string{
	ebpf.SocketFilter: "SOCKET_FILTER", ebpf.Kprobe: "KPROBE", ebpf.SchedCLS: "SCHED_CLS",
	ebpf.SchedACT: "SCHED_ACT", ebpf.TracePoint: "TRACEPOINT", ebpf.XDP: "XDP",
	ebpf.PerfEvent: "PERF_EVENT", ebpf.CGroupSKB: "CGROUP_SKB", ebpf.CGroupSock: "CGROUP_SOCK",
	ebpf.LWTIn: "LWT_IN", ebpf.LWTOut: "LWT_OUT", ebpf.LWTXmit: "LWT_XMIT", ebpf.SockOps: "SOCK_OPS",
	ebpf.SkSKB: "SK_SKB", ebpf.CGroupDevice: "CGROUP_DEVICE", ebpf.SkMsg: "SK_MSG",
	ebpf.RawTracepoint: "RAW_TRACEPOINT", ebpf.CGroupSockAddr: "CGROUP_SOCK_ADDR",
	ebpf.LWTSeg6Local: "LWT_SEG6LOCAL", ebpf.LircMode2: "LIRC_MODE2", ebpf.SkReuseport: "SK_REUSEPORT",
	ebpf.FlowDissector: "FLOW_DISSECTOR", ebpf.CGroupSysctl: "CGROUP_SYSCTL",
	ebpf.RawTracepointWritable: "RAW_TRACEPOINT_WRITABLE", ebpf.CGroupSockopt: "CGROUP_SOCKOPT",
	ebpf.Tracing: "TRACING", ebpf.StructOps: "STRUCT_OPS", ebpf.Extension: "EXT", ebpf.LSM: "LSM",
	ebpf.SkLookup: "SK_LOOKUP", ebpf.Syscall: "SYSCALL", ebpf.Netfilter: "NETFILTER",
}

// typeName returns the kernel's name of program type t ("SCHED_CLS").
func typeName(t ebpf.ProgramType) string {
	if n, ok := progTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type %d", uint32(t))
}

func errnoName(err error) string {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	if errno == sys.ENOTSUPP {
		return "ENOTSUPP"
	}
	if n := unix.ErrnoName(errno); n != "" {
		return n
	}
	return errno.Error()
}

// runnableTypes lists the program types Linux 6.x can test-run, for the
// message when one cannot be.
const runnableTypes = "SOCKET_FILTER, SCHED_CLS, SCHED_ACT, XDP, CGROUP_SKB, LWT_IN, LWT_OUT, LWT_XMIT, " +
	"FLOW_DISSECTOR, SK_LOOKUP, RAW_TRACEPOINT, SYSCALL, STRUCT_OPS (bpf_dummy_ops), TRACING (fentry/fexit) and NETFILTER"

// explain turns the kernel's errno for a run into a RunError that says
// which part of the input it most likely refused.
func (r *Runner) explain(err error, in *Input) error {
	t := r.typ
	e := &RunError{Type: t, Errno: err}
	switch {
	case errors.Is(err, sys.ENOTSUPP), errors.Is(err, unix.EOPNOTSUPP) && t == ebpf.StructOps:
		e.Kind = ErrNotRunnable
		e.Reason = fmt.Sprintf("the kernel has no test runner for %s programs; it test-runs %s", typeName(t), runnableTypes)
		if t == ebpf.StructOps {
			e.Reason = "the kernel test-runs only STRUCT_OPS programs of its test struct bpf_dummy_ops " +
				"(and not when they select a reuseport socket)"
		}
	case errors.Is(err, unix.ENOSPC) && uint64(r.req.CtxSizeOut) > uint64(len(r.req.CtxOut)):
		// bpf_ctx_finish: the kernel's context is larger than the
		// context out, which is as large as the RawContext.
		e.Kind = ErrContext
		e.Reason = fmt.Sprintf("the context needs %d bytes; give a RawContext of at least %d bytes", r.req.CtxSizeOut, r.req.CtxSizeOut)
	case errors.Is(err, unix.ENOSPC):
		e.Reason = fmt.Sprintf("the output needs %d bytes, more than the %d-byte buffer", r.req.DataSizeOut, len(r.req.DataOut))
	case errors.Is(err, unix.E2BIG):
		// bpf_ctx_init: bytes past the kernel's struct that are not zero.
		e.Kind = ErrContext
		if n, ok := kernelCtxSize(t); ok {
			e.Reason = fmt.Sprintf("the context is %d bytes; the kernel takes at most %d bytes of context for %s "+
				"(bytes past them must be zero)", len(r.req.CtxIn), n, typeName(t))
		} else {
			e.Reason = fmt.Sprintf("the context is %d bytes, larger than the kernel's context struct for %s "+
				"(bytes past it must be zero)", len(r.req.CtxIn), typeName(t))
		}
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO) && t != ebpf.RawTracepoint:
		e.Kind = ErrNoDevice
		if field, ifindex, ok := r.ifindex(in); ok {
			e.Reason = fmt.Sprintf("context %s %d: no such interface in this network namespace; "+
				"use the index `ip link` shows (or 0 for none)", field, ifindex)
		} else {
			e.Reason = "an interface index in the context names no interface in this network namespace; " +
				"use an index `ip link` shows (or 0 for none)"
		}
	case errors.Is(err, unix.ENXIO) && t == ebpf.RawTracepoint:
		e.Kind = ErrContext
		e.Reason = "the CPU in the context is not online; pick one below the number `nproc` prints"
	case errors.Is(err, unix.EAFNOSUPPORT):
		e.Kind = ErrContext
		e.Reason = "SK_LOOKUP family must be AF_INET or AF_INET6"
	case errors.Is(err, unix.ERANGE):
		e.Kind = ErrContext
		e.Reason = "SK_LOOKUP local port must fit in 16 bits"
	case errors.Is(err, unix.EOPNOTSUPP) && t == ebpf.SkLookup:
		e.Kind = ErrContext
		e.Reason = "the program selected a reuseport socket without bpf_sk_assign's BPF_SK_LOOKUP_F_NO_REUSEPORT, which a test run cannot resolve"
	case errors.Is(err, unix.EFAULT):
		e.Kind = ErrContext
		e.Reason = "the kernel could not read or write memory an argument points to: pass the state as " +
			"StructOpsContext.State (xdpkit run: --ctx state=HEX), not as an address"
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		e.Kind = os.ErrPermission
		e.Reason = "BPF_PROG_RUN needs CAP_BPF (and CAP_NET_ADMIN for network program types); run as root"
	case errors.Is(err, unix.ENOMEM) && t == ebpf.XDP && len(in.Data) > xdpMaxLinear:
		e.Kind = ErrPacketTooLong
		e.Reason = fmt.Sprintf("the packet is %d bytes; an XDP test run holds %d bytes in its first buffer and "+
			"the rest in at most MAX_SKB_FRAGS (17) pages, %d bytes in all on 4 KiB pages", len(in.Data), xdpMaxLinear, xdpMaxData)
	case errors.Is(err, unix.EINVAL):
		e.Reason, e.Kind = r.explainEINVAL(in)
		if e.Kind == nil {
			e.Kind = ErrRefused
		}
	default:
		e.Reason = "the kernel refused the run"
	}
	return e
}

// ifindex returns the context field the kernel looked an interface up by,
// and its value: XDP's ingress_ifindex, and the skb types' ifindex (their
// ingress_ifindex is taken as it is, without a lookup). ok is false for
// contexts without typed fields (a RawContext).
func (r *Runner) ifindex(in *Input) (field string, ifindex uint32, ok bool) {
	switch c := in.Context.(type) {
	case *XDPContext:
		return "ingress_ifindex", c.IngressIfindex, true
	case *SKBContext:
		return "ifindex", c.Ifindex, true
	}
	return "", 0, false
}

// kernelCtxSize returns the size of the context struct the kernel copies
// a test run's context into for programs of type t, when xdpkit knows it.
func kernelCtxSize(t ebpf.ProgramType) (int, bool) {
	switch {
	case t == ebpf.XDP:
		return xdpMDSize, true
	case isSKBType(t):
		return skBuffSize, true
	case t == ebpf.FlowDissector:
		return flowKeysSize, true
	case t == ebpf.SkLookup:
		return skLookupCtxSize, true
	}
	return 0, false
}

// interrupted returns the error of a run that ctx stopped (or signals
// kept interrupting); errno is the kernel's EINTR, nil when ctx was done
// before the call.
func (r *Runner) interrupted(ctx context.Context, errno error) error {
	e := &RunError{Type: r.typ, Kind: ErrInterrupted, Errno: errno}
	switch err := ctx.Err(); {
	case err != nil:
		cause := context.Cause(ctx)
		e.stop = []error{err}
		if cause != err {
			e.stop = append(e.stop, cause)
		}
		e.Reason = fmt.Sprintf("the run was interrupted before it finished: %v", cause)
		if errno == nil {
			e.Reason = fmt.Sprintf("the run was interrupted before it started: %v", cause)
		}
	default:
		e.Reason = "the run was interrupted before it finished: signals kept interrupting it " +
			"(an interrupted repeat starts over from its first run)"
	}
	return e
}

// explainEINVAL names what EINVAL most likely meant for this type and
// input, and the sentinel that goes with it: xdpkit checks what it can
// before the call, so what is left is what only the kernel knows.
func (r *Runner) explainEINVAL(in *Input) (reason string, kind error) {
	switch t := r.typ; {
	case t == ebpf.XDP:
		if c, ok := xdpContext(in.Context); ok && c.IngressIfindex != 0 {
			// The core registers XDP rxq info for every queue of every
			// device, so the queue index is out of range.
			name := fmt.Sprint(c.IngressIfindex)
			if ifc, err := net.InterfaceByIndex(int(c.IngressIfindex)); err == nil {
				name = ifc.Name
			}
			return fmt.Sprintf("rx_queue_index %d is not a receive queue of %s: the index must be below "+
				"its number of RX queues (see /sys/class/net/%s/queues; veth gets them with `ip link add ... numrxqueues N`)",
				c.RxQueueIndex, name, name), ErrContext
		}
		return "the XDP test run refused the program or the input: a program for a DEVMAP or CPUMAP or one bound " +
			"to a device cannot be test-run, and the kernel takes no flags but BPF_F_TEST_XDP_LIVE_FRAMES", nil
	case isSKBType(t):
		switch {
		case in.Flags != 0:
			return fmt.Sprintf("%s test runs take no flags (0x%x given)", typeName(t), in.Flags), nil
		case r.raw:
			return "the kernel refused the __sk_buff in the RawContext: only mark, priority, ingress_ifindex, " +
				"ifindex, cb, tstamp, wire_len, gso_segs, gso_size and hwtstamp may be set, and it must be at most 192 bytes", ErrContext
		}
		// The context was checked before the call; what is left is the
		// size (bpf_test_init's limit).
		return fmt.Sprintf("the packet is %d bytes; skb test runs take at most a page less headroom "+
			"and struct skb_shared_info (%d bytes on x86-64 with 4 KiB pages)", len(in.Data), skbMaxData), ErrPacketTooLong
	case t == ebpf.FlowDissector:
		if len(in.Data) > flowMaxData {
			return fmt.Sprintf("the packet is %d bytes; FLOW_DISSECTOR test runs take at most a page (%d bytes)",
				len(in.Data), flowMaxData), ErrPacketTooLong
		}
		return "the FLOW_DISSECTOR test run takes only the flags field of bpf_flow_keys, no CPU and no flags", nil
	case t == ebpf.RawTracepoint:
		return "RAW_TRACEPOINT runs take only arguments (at least as many as the program reads, at most 12), " +
			"no packet, no repeat, and a CPU only with OnCPU (xdpkit run: --ctx arg0=N ... --ctx cpu=N)", ErrContext
	case t == ebpf.Syscall:
		return "SYSCALL runs take only a context (at least as many bytes as the program reads, at most 65535), " +
			"no packet, no repeat, no flags (xdpkit run: --ctx data=HEX)", ErrContext
	case t == ebpf.SkLookup:
		return "SK_LOOKUP runs take a context only: family, protocol, addresses and ports, nothing else", ErrContext
	case t == ebpf.StructOps:
		return "STRUCT_OPS runs take exactly as many arguments as the bpf_dummy_ops member has " +
			"(test_1: 1, test_2: 5, test_sleepable: 1); the first points to a struct bpf_dummy_ops_state, which test_2 " +
			"needs (give it as State; xdpkit run: --ctx state=HEX)", ErrContext
	}
	return "the kernel refused the input for this program type", nil
}
