package progrun

import (
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
// cannot do).
var (
	// ErrNotRunnable: the kernel has no test runner for the program type
	// (LWT_SEG6LOCAL, KPROBE, ...).
	ErrNotRunnable = &kindError{"program type cannot be test-run", ebpf.ErrNotSupported}
	// ErrPacketTooShort: a packet shorter than an Ethernet header (14 bytes).
	ErrPacketTooShort = &kindError{"packet shorter than an Ethernet header", os.ErrInvalid}
	// ErrPacketTooLong: a packet longer than the kernel's test-run buffer.
	ErrPacketTooLong = &kindError{"packet longer than the test-run buffer", os.ErrInvalid}
	// ErrNoPacket: a packet given to a type that takes none (SK_LOOKUP,
	// RAW_TRACEPOINT, SYSCALL, STRUCT_OPS), or none given to one that needs it.
	ErrNoPacket = &kindError{"packet given or missing", os.ErrInvalid}
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
)

// kindError is a sentinel that also matches a broader os or ebpf error.
type kindError struct {
	msg  string
	also error
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.also }

// RunError is a failed run: the kernel's errno, what xdpkit makes of it,
// and the sentinel it matches.
type RunError struct {
	Type   ebpf.ProgramType
	Reason string // a sentence: the problem and the fix
	Kind   error  // one of the Err* sentinels, or nil
	Errno  error  // the kernel's answer, nil when xdpkit refused before asking
}

func (e *RunError) Error() string {
	if e.Errno != nil {
		return fmt.Sprintf("run %s program: %s (kernel: %v)", typeName(e.Type), e.Reason, errnoName(e.Errno))
	}
	return fmt.Sprintf("run %s program: %s", typeName(e.Type), e.Reason)
}

// Unwrap returns the sentinel and the errno.
func (e *RunError) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Errno != nil {
		out = append(out, e.Errno)
	}
	return out
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
	case errors.Is(err, unix.ENOSPC):
		e.Reason = fmt.Sprintf("the output needs %d bytes, more than the %d-byte buffer", r.req.DataSizeOut, len(r.req.DataOut))
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO) && t != ebpf.RawTracepoint:
		e.Kind = ErrNoDevice
		e.Reason = fmt.Sprintf("context ifindex %d: no such interface in this network namespace; "+
			"use the index `ip link` shows (or 0 for none)", r.ifindex(in))
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

func (r *Runner) ifindex(in *Input) uint32 {
	switch c := in.Context.(type) {
	case *XDPContext:
		return c.IngressIfindex
	case XDPContext:
		return c.IngressIfindex
	case *SKBContext:
		return max(c.Ifindex, c.IngressIfindex)
	case SKBContext:
		return max(c.Ifindex, c.IngressIfindex)
	}
	return 0
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
