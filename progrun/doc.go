// Package progrun runs BPF programs from userspace with BPF_PROG_RUN: a
// program gets a packet and a context, the kernel runs it with no side
// effects on the network, and the Result holds the return value (decoded to
// a name such as XDP_TX or TC_ACT_SHOT), the output packet, the output
// context and the kernel's average run time.
//
// Inputs and outputs are typed per program type:
//
//	XDP                                   XDPContext (xdp_md: ingress_ifindex, rx_queue_index, metadata)
//	SOCKET_FILTER, SCHED_CLS, SCHED_ACT,
//	CGROUP_SKB, LWT_IN, LWT_OUT, LWT_XMIT SKBContext (the __sk_buff fields a test run accepts)
//	FLOW_DISSECTOR                        FlowDissectorContext in, FlowKeys out
//	SK_LOOKUP                             SKLookupContext in, the selected socket's cookie out
//	RAW_TRACEPOINT                        RawTracepointContext (arguments), optionally on one CPU
//	SYSCALL                               SyscallContext (bytes in, bytes out)
//	STRUCT_OPS                            StructOpsContext (arguments; the kernel runs bpf_dummy_ops only)
//
// The kernel refuses test runs of LWT_SEG6LOCAL and of most tracing types;
// Run says so with ErrNotRunnable rather than leaving the caller with the
// kernel's ENOTSUPP.
//
// A Runner owns its buffers: Run allocates nothing once the buffers have
// grown to fit, and a Result's slices stay valid until the next Run on the
// same Runner. A Runner is not safe for concurrent use, nor is the Kernel
// backend under it. RunContext stops a long repeat when its context is
// done, with ErrInterrupted.
//
// Programs run on a Backend: the kernel (NewKernel) or, later, xdpkit's
// userspace emulator, both taking the same BPF_PROG_RUN-shaped Request.
package progrun
