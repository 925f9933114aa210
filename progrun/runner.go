package progrun

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/sys"
)

// Input is what one run gets. The zero value of every field is a sane
// default: no context means the kernel's default context for the type.
type Input struct {
	// Data is the packet, from the Ethernet header on, for XDP, the skb
	// types and FLOW_DISSECTOR (at least 14 bytes). Other types take none.
	//
	// An XDP packet longer than 3520 bytes (on 4 KiB pages) runs as a
	// multi-buffer packet: the first 3520 bytes between data and data_end,
	// the rest in fragments. The kernel does this for programs not loaded
	// for multi-buffer (SEC("xdp.frags")) too, which then see only the
	// first buffer. skb types take at most 3712 bytes, FLOW_DISSECTOR 4096.
	Data []byte
	// Context is the typed context in; it must fit the program's type.
	Context Context
	// Repeat runs the program this many times in one call and makes
	// Duration the average; 0 means once. RAW_TRACEPOINT, SYSCALL and
	// STRUCT_OPS run once only. The kernel does not restore the packet or
	// the context between the runs: every run works on what the one
	// before left, so what a program changes adds up (ten runs of a
	// program that decrements the TTL take ten off it), and the Result is
	// the last run's.
	//
	// For XDP, a Repeat over 1 costs about 30-50 ms per call on top of the
	// runs, whatever the count: the kernel swaps the program into its XDP
	// dispatcher and back. Repeats are for timing one packet (one call
	// with a large Repeat), not for replaying packets, which is one call
	// per packet with Repeat 0.
	Repeat uint32
	// Flags are BPF_F_TEST_* flags for the call: FlagRunOnCPU (which
	// RawTracepointContext.OnCPU sets) or FlagXDPLiveFrames. Live-frames
	// mode is for the traffic generator: a Runner always asks for output,
	// which live-frames mode does not give, and refuses it with
	// ErrLiveFrames.
	Flags uint32
}

// Flags for Input.Flags: the kernel's BPF_F_TEST_* flags.
const (
	// FlagRunOnCPU is BPF_F_TEST_RUN_ON_CPU: run a RAW_TRACEPOINT program
	// on the CPU its context names. RawTracepointContext.OnCPU sets it.
	FlagRunOnCPU = sys.TestRunOnCPU
	// FlagXDPLiveFrames is BPF_F_TEST_XDP_LIVE_FRAMES: run an XDP program
	// on live frames, sending those it returns XDP_TX or XDP_REDIRECT
	// for. It gives no output, so a Runner refuses it (ErrLiveFrames);
	// the traffic generator uses it.
	FlagXDPLiveFrames = sys.TestXDPLiveFrames
)

// Result is what one run returned. Its slices and Context point into the
// Runner's buffers and stay valid until the Runner's next Run; copy them
// (Result.Clone) to keep them longer.
type Result struct {
	// Return is the program's return value and Verdict its meaning.
	Return  uint32
	Verdict Verdict
	// Data is the packet as the program left it, from its Ethernet header
	// (XDP: after any metadata, which is in the XDPContext). Program types
	// that see the packet from the network header on (SOCKET_FILTER,
	// CGROUP_SKB, LWT_*) get the Ethernet header back zeroed, as the
	// kernel returns it. Nil for types without a packet.
	Data []byte
	// Context is the context out: *XDPContext, *SKBContext,
	// *SKLookupContext, *SyscallContext or *RawContext; nil for types the
	// kernel returns none for (RAW_TRACEPOINT, STRUCT_OPS, FLOW_DISSECTOR).
	Context Context
	// FlowKeys is a FLOW_DISSECTOR program's result, nil for other types.
	FlowKeys *FlowKeys
	// Duration is the kernel's average time per run, 0 for the types it
	// does not time (RAW_TRACEPOINT, SYSCALL, STRUCT_OPS).
	Duration time.Duration
	// Repeat is how many runs Duration averages.
	Repeat uint32
}

// Clone returns a copy of res that no later Run overwrites.
func (res Result) Clone() Result {
	out := res
	out.Data = cloneBytes(res.Data)
	switch c := res.Context.(type) {
	case *XDPContext:
		cp := *c
		cp.Meta = cloneBytes(c.Meta)
		out.Context = &cp
	case *SKBContext:
		cp := *c
		out.Context = &cp
	case *SKLookupContext:
		cp := *c
		out.Context = &cp
	case *SyscallContext:
		out.Context = &SyscallContext{Data: cloneBytes(c.Data)}
	case *StructOpsContext:
		out.Context = &StructOpsContext{Args: append([]uint64(nil), c.Args...), State: cloneBytes(c.State)}
	case *RawContext:
		out.Context = &RawContext{Data: cloneBytes(c.Data)}
	}
	if res.FlowKeys != nil {
		k := *res.FlowKeys
		out.FlowKeys = &k
	}
	return out
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// Runner runs one program again and again, reusing its buffers.
type Runner struct {
	backend Backend
	typ     ebpf.ProgramType
	req     Request

	dataIn  []byte // XDP: metadata followed by the packet
	dataOut []byte
	ctxIn   []byte // typed contexts, encoded; never shorter than skBuffSize
	ctxOut  []byte
	rawIn   []byte // a RawContext's bytes

	xdpOut  XDPContext
	skbOut  SKBContext
	sklOut  SKLookupContext
	sysOut  SyscallContext
	rawOut  RawContext
	opsOut  StructOpsContext
	state   []byte // STRUCT_OPS: the state the first argument points to
	flowOut FlowKeys
	raw     bool // the input context is a RawContext
}

// New returns a Runner that runs prog in the kernel. prog stays the
// caller's to close, after the Runner's last Run.
func New(prog *ebpf.Program) *Runner { return NewRunner(NewKernel(prog)) }

// NewRunner returns a Runner on any Backend.
func NewRunner(b Backend) *Runner {
	return &Runner{
		backend: b,
		typ:     b.Type(),
		ctxIn:   make([]byte, skBuffSize),
		ctxOut:  make([]byte, skBuffSize),
	}
}

// Type returns the program type the Runner runs.
func (r *Runner) Type() ebpf.ProgramType { return r.typ }

// Sizes of the kernel's test-run buffers on x86-64 with 4 KiB pages: a
// page less the headroom (XDP_PACKET_HEADROOM; NET_SKB_PAD) and struct
// skb_shared_info (320 bytes). An XDP packet longer than its first buffer
// goes on in page fragments, at most MAX_SKB_FRAGS (17) of them.
const (
	xdpMaxLinear = 4096 - 256 - 320
	xdpMaxData   = xdpMaxLinear + 17*4096
	skbMaxData   = 4096 - 64 - 320
	flowMaxData  = 4096
	outputSlack  = 64 << 10 // room for what a program may add to a packet
)

func (r *Runner) hasPacket() bool { return TakesPacket(r.typ) }

// TakesPacket reports whether programs of type t run on a packet (XDP, the
// skb types, FLOW_DISSECTOR) rather than on a context alone.
func TakesPacket(t ebpf.ProgramType) bool {
	return t == ebpf.XDP || t == ebpf.FlowDissector || isSKBType(t)
}

func (r *Runner) runsOnce() bool {
	return r.typ == ebpf.RawTracepoint || r.typ == ebpf.Syscall || r.typ == ebpf.StructOps
}

// Run runs the program once on in (in.Repeat times for timing) and
// returns what it returned. Errors are *RunError values that say what the
// kernel refused and how to fix the input; they match the Err* sentinels.
// Run is RunContext with context.Background(): it cannot be stopped.
//
// A program that grows the packet past the output buffer (the kernel's
// ENOSPC) is run again with a buffer of the size the kernel reported, so
// it runs twice: what it does to maps happens twice.
//
// A Runner is not safe for concurrent use, and neither is the Kernel
// backend under it: two Runners on one Kernel must not run at the same
// time (New gives each Runner its own).
func (r *Runner) Run(in Input) (Result, error) {
	return r.RunContext(context.Background(), in)
}

// RunContext is Run, stopped when ctx is done: a long repeat is
// interrupted (the Kernel backend signals its thread to end the system
// call), and RunContext returns a *RunError that matches ErrInterrupted,
// context.Canceled and ctx's cause. A ctx done before the call runs
// nothing. With a ctx that cannot be done (context.Background()),
// RunContext allocates no more than Run.
func (r *Runner) RunContext(ctx context.Context, in Input) (Result, error) {
	done := ctx.Done()
	if done != nil && ctx.Err() != nil {
		return Result{}, r.interrupted(ctx, nil)
	}
	in.Context = pointerContext(in.Context)
	if err := r.check(&in); err != nil {
		return Result{}, err
	}
	req := &r.req
	*req = Request{Repeat: in.Repeat, Flags: in.Flags, Done: done}
	if r.runsOnce() {
		req.Repeat = 0
	}
	r.prepare(&in)

	err := r.backend.Run(req)
	if errors.Is(err, unix.ENOSPC) && r.hasPacket() && uint64(req.DataSizeOut) > uint64(len(req.DataOut)) {
		// The program grew the packet past the output buffer: grow the
		// buffer to the size the kernel reported and run again.
		r.dataOut = make([]byte, int(req.DataSizeOut)+outputSlack)
		r.prepare(&in)
		err = r.backend.Run(req)
	}
	req.Done = nil
	if err != nil {
		if errors.Is(err, unix.EINTR) {
			return Result{}, r.interrupted(ctx, err)
		}
		return Result{}, r.explain(err, &in)
	}
	return r.result(), nil
}

// check refuses, before the kernel is asked, what xdpkit knows the kernel
// would refuse, with a sentence instead of EINVAL.
func (r *Runner) check(in *Input) error {
	t := r.typ
	if in.Context != nil && !in.Context.accepts(t) {
		return refuse(t, ErrContext, "%s programs take %s, not %s", typeName(t), contextFor(t), contextName(in.Context))
	}
	if in.Flags&FlagXDPLiveFrames != 0 {
		return refuse(t, ErrLiveFrames, "BPF_F_TEST_XDP_LIVE_FRAMES cannot be combined with data_out or ctx_out, "+
			"which a run needs to return the packet and context; send live frames with the traffic generator (xdpkit gen)")
	}
	switch {
	case r.hasPacket() && len(in.Data) < 14:
		return refuse(t, ErrPacketTooShort, "the packet is %d bytes, shorter than an Ethernet header (14 bytes): "+
			"%s test runs start at the Ethernet header, so give the whole frame", len(in.Data), typeName(t))
	case !r.hasPacket() && isKnownType(t) && len(in.Data) > 0:
		return refuse(t, ErrNoPacket, "%s programs take no packet, only a context (%s)", typeName(t), contextFor(t))
	case r.runsOnce() && in.Repeat > 1:
		return refuse(t, ErrRepeat, "the kernel runs %s programs once per call: drop the repeat count (%d)", typeName(t), in.Repeat)
	case t == ebpf.SkLookup && in.Context == nil:
		return refuse(t, ErrContext, "SK_LOOKUP programs need a context, the connection to find a socket for: "+
			"family, protocol, remote and local address and port (an SKLookupContext; xdpkit run: --ctx local_ip=A --ctx local_port=N ...)")
	}
	switch c := in.Context.(type) {
	case *XDPContext:
		return checkXDP(c, len(in.Data))
	case *SKBContext:
		return checkSKB(t, c, len(in.Data))
	case *RawTracepointContext:
		return checkArgs(t, len(c.Args))
	case *StructOpsContext:
		return checkArgs(t, len(c.Args))
	case *SyscallContext:
		return checkSyscall(len(c.Data))
	case *SKLookupContext:
		return checkSKLookup(c)
	}
	return nil
}

func checkXDP(c *XDPContext, dataLen int) error {
	switch {
	case len(c.Meta)%4 != 0 || len(c.Meta) > maxXDPMetaLen:
		return refuse(ebpf.XDP, ErrContext, "metadata is %d bytes; the kernel takes a multiple of 4 bytes, at most %d",
			len(c.Meta), maxXDPMetaLen)
	case c.RxQueueIndex != 0 && c.IngressIfindex == 0:
		return refuse(ebpf.XDP, ErrContext, "rx_queue_index %d needs ingress_ifindex: a queue belongs to an interface",
			c.RxQueueIndex)
	}
	return nil
}

func checkSKB(t ebpf.ProgramType, c *SKBContext, dataLen int) error {
	// The kernel compares wire_len with the skb's length, which for the
	// types that see the packet from the network header on does not count
	// the Ethernet header (and is what it reports back as wire_len).
	minLen, what := dataLen, "the packet's length"
	if t != ebpf.SchedCLS && t != ebpf.SchedACT {
		minLen, what = dataLen-14, "the packet's length less the Ethernet header"
	}
	if c.WireLen != 0 && (int(c.WireLen) < minLen || c.WireLen > 65536) {
		return refuse(t, ErrContext, "wire_len %d must be 0 or between %s (%d) and 65536",
			c.WireLen, what, minLen)
	}
	if c.GSOSegs > 65535 {
		return refuse(t, ErrContext, "gso_segs %d is over the kernel's limit of 65535", c.GSOSegs)
	}
	return nil
}

func checkArgs(t ebpf.ProgramType, n int) error {
	if n > maxFuncArgs {
		return refuse(t, ErrContext, "%d arguments given; %s programs take at most %d", n, typeName(t), maxFuncArgs)
	}
	return nil
}

func checkSyscall(n int) error {
	if n > 65535 {
		return refuse(ebpf.Syscall, ErrContext, "context of %d bytes; SYSCALL programs take at most 65535", n)
	}
	return nil
}

func checkSKLookup(c *SKLookupContext) error {
	f := c.family()
	if f != unix.AF_INET && f != unix.AF_INET6 {
		return refuse(ebpf.SkLookup, ErrContext, "family %d: SK_LOOKUP takes AF_INET (2) or AF_INET6 (10)", f)
	}
	if p := c.protocol(); p != unix.IPPROTO_TCP && p != unix.IPPROTO_UDP {
		return refuse(ebpf.SkLookup, ErrContext, "protocol %d: SK_LOOKUP looks up TCP (6) or UDP (17) sockets", c.Protocol)
	}
	if err := checkSKLookupAddr(f, "local_ip", c.LocalIP); err != nil {
		return err
	}
	return checkSKLookupAddr(f, "remote_ip", c.RemoteIP)
}

// checkSKLookupAddr refuses an address of the other family than f: the
// kernel would take it as one of f's, and the lookup would mix families.
// An IPv4-mapped IPv6 address is an IPv4 address for AF_INET, an IPv6
// one for AF_INET6; a zero netip.Addr is the unspecified address of
// either.
func checkSKLookupAddr(f uint32, name string, ip netip.Addr) error {
	switch {
	case !ip.IsValid():
	case f == unix.AF_INET && !ip.Is4() && !ip.Is4In6():
		return refuse(ebpf.SkLookup, ErrContext, "%s %s is an IPv6 address, but the family is AF_INET: "+
			"give IPv4 addresses, or family inet6 (both addresses of a lookup are of its family)", name, ip)
	case f == unix.AF_INET6 && ip.Is4():
		return refuse(ebpf.SkLookup, ErrContext, "%s %s is an IPv4 address, but the family is AF_INET6: "+
			"give IPv6 addresses (::ffff:%s for an IPv4-mapped one), or family inet "+
			"(both addresses of a lookup are of its family)", name, ip, ip)
	}
	return nil
}

// prepare lays the input out in the Request for the program's type.
func (r *Runner) prepare(in *Input) {
	req := &r.req
	req.DataIn, req.DataOut, req.CtxIn, req.CtxOut = nil, nil, nil, nil
	t := r.typ
	switch {
	case t == ebpf.XDP:
		c, _ := xdpContext(in.Context)
		req.DataIn = in.Data
		if len(c.Meta) > 0 {
			r.dataIn = append(append(r.dataIn[:0], c.Meta...), in.Data...)
			req.DataIn = r.dataIn
		}
		c.encode(r.ctxIn, len(in.Data))
		req.CtxIn, req.CtxOut = r.ctxIn[:xdpMDSize], r.ctxOut[:xdpMDSize]
		req.DataOut = r.outBuffer(len(req.DataIn))
	case isSKBType(t):
		var c SKBContext
		switch v := in.Context.(type) {
		case *SKBContext:
			c = *v
		}
		c.encode(r.ctxIn)
		req.DataIn = in.Data
		req.CtxIn, req.CtxOut = r.ctxIn[:skBuffSize], r.ctxOut[:skBuffSize]
		req.DataOut = r.outBuffer(len(in.Data))
	case t == ebpf.FlowDissector:
		req.DataIn = in.Data
		req.DataOut = r.outBuffer(flowKeysSize)
		switch v := in.Context.(type) {
		case *FlowDissectorContext:
			v.encode(r.ctxIn)
			req.CtxIn = r.ctxIn[:flowKeysSize]
		}
	case t == ebpf.SkLookup:
		switch v := in.Context.(type) {
		case *SKLookupContext:
			v.encode(r.ctxIn)
		}
		req.CtxIn, req.CtxOut = r.ctxIn[:skLookupCtxSize], r.ctxOut[:skLookupCtxSize]
	case t == ebpf.RawTracepoint:
		switch v := in.Context.(type) {
		case *RawTracepointContext:
			r.rawTracepoint(v)
		}
	case t == ebpf.StructOps:
		r.opsOut.Args, r.opsOut.State = r.opsOut.Args[:0], nil
		switch v := in.Context.(type) {
		case *StructOpsContext:
			r.structOps(v)
		}
	case t == ebpf.Syscall:
		// The kernel writes a SYSCALL program's context back into ctx_in
		// and refuses a ctx_out.
		var data []byte
		switch v := in.Context.(type) {
		case *SyscallContext:
			data = v.Data
		}
		r.sysOut.Data = append(r.sysOut.Data[:0], data...)
		if len(data) > 0 {
			req.CtxIn = r.sysOut.Data
		}
	default:
		req.DataIn = in.Data
		if len(in.Data) > 0 {
			req.DataOut = r.outBuffer(len(in.Data))
		}
	}
	raw, ok := rawContext(in.Context)
	r.raw = ok
	if ok {
		// A RawContext has its own buffer: ctxIn keeps the size the typed
		// contexts are encoded at.
		r.rawIn = append(r.rawIn[:0], raw...)
		r.ctxOut = grow(r.ctxOut, len(raw))
		req.CtxIn, req.CtxOut = r.rawIn, r.ctxOut[:len(raw)]
		if t == ebpf.Syscall {
			req.CtxOut = nil
		}
	}
}

// structOps lays out a STRUCT_OPS run: the arguments, the first pointing
// to the Runner's copy of the state when there is one.
func (r *Runner) structOps(c *StructOpsContext) {
	r.req.CtxIn = putArgs(r.ctxIn, c.Args)
	r.opsOut.Args = append(r.opsOut.Args[:0], c.Args...)
	r.opsOut.State = nil
	if c.State == nil || len(c.Args) == 0 {
		return
	}
	r.state = append(r.state[:0], c.State...)
	if len(r.state) == 0 {
		r.state = append(r.state, 0) // an address for an empty state
	}
	binary.NativeEndian.PutUint64(r.req.CtxIn, sys.Address(r.state))
	r.opsOut.State = r.state[:len(c.State)]
}

func (r *Runner) rawTracepoint(c *RawTracepointContext) {
	r.req.CtxIn = putArgs(r.ctxIn, c.Args)
	if c.OnCPU {
		r.req.Flags |= FlagRunOnCPU
		r.req.CPU = c.CPU
	}
}

// prefix returns the first n bytes of b, or all of b when it is shorter
// (n is a size the backend reported; on 32-bit hosts it may not fit an int).
func prefix(b []byte, n uint32) []byte {
	if uint64(n) < uint64(len(b)) {
		return b[:n]
	}
	return b
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:cap(b)]
}

// outBuffer returns the output buffer, big enough for what a program can
// add to an n-byte packet.
func (r *Runner) outBuffer(n int) []byte {
	if len(r.dataOut) < n+outputSlack {
		r.dataOut = make([]byte, n+outputSlack)
	}
	return r.dataOut
}

// pointerContext turns a context passed by value into a pointer to a
// copy, so that the Runner handles each context type once. (A pointer
// passed in saves that copy.)
func pointerContext(c Context) Context {
	switch v := c.(type) {
	case XDPContext:
		return &v
	case SKBContext:
		return &v
	case FlowDissectorContext:
		return &v
	case SKLookupContext:
		return &v
	case RawTracepointContext:
		return &v
	case SyscallContext:
		return &v
	case StructOpsContext:
		return &v
	case RawContext:
		return &v
	}
	return c
}

func xdpContext(c Context) (*XDPContext, bool) {
	switch v := c.(type) {
	case *XDPContext:
		return v, true
	}
	return &XDPContext{}, false
}

func rawContext(c Context) ([]byte, bool) {
	switch v := c.(type) {
	case *RawContext:
		return v.Data, true
	}
	return nil, false
}

// result decodes the Request's outputs.
func (r *Runner) result() Result {
	req := &r.req
	res := Result{
		Return:   req.Retval,
		Verdict:  Verdict{Type: r.typ, Code: req.Retval},
		Duration: time.Duration(req.Duration),
		Repeat:   max(req.Repeat, 1),
	}
	var out []byte
	if req.DataOut != nil {
		out = prefix(req.DataOut, req.DataSizeOut)
	}
	switch t := r.typ; {
	case r.raw:
		r.rawOut.Data = prefix(req.CtxOut, req.CtxSizeOut)
		if t == ebpf.Syscall {
			r.rawOut.Data = req.CtxIn
		}
		res.Context, res.Data = &r.rawOut, out
	case t == ebpf.XDP:
		ne := binary.NativeEndian
		meta := min(int(ne.Uint32(req.CtxOut[0:])), len(out))
		r.xdpOut = XDPContext{
			IngressIfindex: ne.Uint32(req.CtxOut[12:]),
			RxQueueIndex:   ne.Uint32(req.CtxOut[16:]),
			Meta:           out[:meta:meta],
		}
		res.Data, res.Context = out[meta:], &r.xdpOut
	case isSKBType(t):
		r.skbOut.decode(req.CtxOut)
		res.Data, res.Context = out, &r.skbOut
	case t == ebpf.FlowDissector:
		if len(out) >= flowKeysSize {
			r.flowOut.decode(out)
			res.FlowKeys = &r.flowOut
		}
	case t == ebpf.SkLookup:
		r.sklOut.decode(req.CtxOut)
		res.Context = &r.sklOut
	case t == ebpf.Syscall:
		res.Context = &r.sysOut
	case t == ebpf.StructOps:
		res.Context = &r.opsOut
	default:
		res.Data = out
	}
	return res
}

// isKnownType reports whether xdpkit knows what the type's test run takes.
func isKnownType(t ebpf.ProgramType) bool {
	switch t {
	case ebpf.XDP, ebpf.FlowDissector, ebpf.SkLookup, ebpf.RawTracepoint, ebpf.Syscall, ebpf.StructOps:
		return true
	}
	return isSKBType(t)
}

// contextFor names the context type programs of type t take.
func contextFor(t ebpf.ProgramType) string {
	switch {
	case t == ebpf.XDP:
		return "an XDPContext"
	case isSKBType(t):
		return "an SKBContext"
	case t == ebpf.FlowDissector:
		return "a FlowDissectorContext"
	case t == ebpf.SkLookup:
		return "an SKLookupContext"
	case t == ebpf.RawTracepoint:
		return "a RawTracepointContext"
	case t == ebpf.Syscall:
		return "a SyscallContext"
	case t == ebpf.StructOps:
		return "a StructOpsContext"
	}
	return "a RawContext"
}

func contextName(c Context) string { return fmt.Sprintf("%T", c) }
