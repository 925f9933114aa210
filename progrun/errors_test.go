package progrun_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/sys"
	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/progrun"
)

// missingIfindex returns an interface index no interface has.
func missingIfindex(t *testing.T) uint32 {
	t.Helper()
	ifcs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	highest := 0
	for _, ifc := range ifcs {
		highest = max(highest, ifc.Index)
	}
	return uint32(highest + 1000)
}

type errCase struct {
	name  string
	obj   string // object and program to run
	prog  string
	in    progrun.Input
	kind  error      // the sentinel
	also  error      // the broader error it matches
	errno unix.Errno // the kernel's answer, 0 when the Runner refuses first
	msg   []string   // substrings of the message
}

func checkErr(t *testing.T, typ ebpf.ProgramType, err error, tc errCase) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", tc.kind)
	}
	if !errors.Is(err, tc.kind) {
		t.Errorf("error %q does not match %v", err, tc.kind)
	}
	if tc.also != nil && !errors.Is(err, tc.also) {
		t.Errorf("error %q does not match %v", err, tc.also)
	}
	var re *progrun.RunError
	if !errors.As(err, &re) {
		t.Fatalf("error %q is not a *RunError", err)
	}
	if re.Type != typ || re.Kind != tc.kind {
		t.Errorf("RunError type %v kind %v, want %v and %v", re.Type, re.Kind, typ, tc.kind)
	}
	switch {
	case tc.errno == 0 && re.Errno != nil:
		t.Errorf("errno %v, want none: the Runner should refuse before asking the kernel", re.Errno)
	case tc.errno != 0 && !errors.Is(err, tc.errno):
		t.Errorf("errno %v, want %v", re.Errno, tc.errno)
	}
	for _, s := range tc.msg {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not contain %q", err, s)
		}
	}
}

func TestErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	pkt := udp4Frame(ip4C, 40000, 53, "x")
	missing := missingIfindex(t)
	lookup := &progrun.SKLookupContext{Protocol: unix.IPPROTO_TCP, LocalIP: netip.MustParseAddr("127.0.0.1"), LocalPort: 80}

	cases := []errCase{
		// Refused by the Runner before the kernel is asked.
		{name: "short packet", obj: "run_xdp", prog: "xdp_echo", in: progrun.Input{Data: pkt[:10]},
			kind: progrun.ErrPacketTooShort, also: os.ErrInvalid,
			msg: []string{"run XDP program: the packet is 10 bytes, shorter than an Ethernet header (14 bytes)"}},
		{name: "packet to SK_LOOKUP", obj: "run_sk_lookup", prog: "lookup", in: progrun.Input{Data: pkt, Context: lookup},
			kind: progrun.ErrNoPacket, also: os.ErrInvalid,
			msg: []string{"run SK_LOOKUP program: SK_LOOKUP programs take no packet, only a context (an SKLookupContext)"}},
		{name: "repeat for RAW_TRACEPOINT", obj: "run_raw_tp", prog: "record_args",
			in:   progrun.Input{Repeat: 5, Context: &progrun.RawTracepointContext{Args: []uint64{1, 2}}},
			kind: progrun.ErrRepeat, also: os.ErrInvalid,
			msg: []string{"the kernel runs RAW_TRACEPOINT programs once per call: drop the repeat count (5)"}},
		{name: "wrong context type", obj: "run_xdp", prog: "xdp_echo", in: progrun.Input{Data: pkt, Context: &progrun.SKBContext{}},
			kind: progrun.ErrContext, also: os.ErrInvalid,
			msg: []string{"XDP programs take an XDPContext, not *progrun.SKBContext"}},
		{name: "meta of 3 bytes", obj: "run_xdp", prog: "xdp_echo",
			in:   progrun.Input{Data: pkt, Context: &progrun.XDPContext{Meta: []byte{1, 2, 3}}},
			kind: progrun.ErrContext, also: os.ErrInvalid,
			msg: []string{"metadata is 3 bytes; the kernel takes a multiple of 4 bytes, at most 32"}},
		{name: "meta of 36 bytes", obj: "run_xdp", prog: "xdp_echo",
			in:   progrun.Input{Data: pkt, Context: &progrun.XDPContext{Meta: make([]byte, 36)}},
			kind: progrun.ErrContext, msg: []string{"metadata is 36 bytes"}},
		{name: "rx queue without ifindex", obj: "run_xdp", prog: "xdp_echo",
			in:   progrun.Input{Data: pkt, Context: &progrun.XDPContext{RxQueueIndex: 1}},
			kind: progrun.ErrContext, also: os.ErrInvalid,
			msg: []string{"rx_queue_index 1 needs ingress_ifindex"}},
		{name: "live frames", obj: "run_xdp", prog: "xdp_echo", in: progrun.Input{Data: pkt, Flags: progrun.FlagXDPLiveFrames},
			kind: progrun.ErrLiveFrames, also: os.ErrInvalid,
			msg: []string{"BPF_F_TEST_XDP_LIVE_FRAMES cannot be combined with data_out or ctx_out", "xdpkit gen"}},
		{name: "wire_len under the packet", obj: "run_tc", prog: "tc_mark",
			in:   progrun.Input{Data: pkt, Context: &progrun.SKBContext{WireLen: uint32(len(pkt) - 1)}},
			kind: progrun.ErrContext, msg: []string{fmt.Sprintf("wire_len %d must be 0 or between the packet's length (%d)", len(pkt)-1, len(pkt))}},
		{name: "wire_len under the L3 packet", obj: "run_skb", prog: "sock_keep",
			in:   progrun.Input{Data: pkt, Context: &progrun.SKBContext{WireLen: uint32(len(pkt) - 15)}},
			kind: progrun.ErrContext, msg: []string{"less the Ethernet header (" + fmt.Sprint(len(pkt)-14) + ")"}},
		{name: "SK_LOOKUP without context", obj: "run_sk_lookup", prog: "lookup", in: progrun.Input{},
			kind: progrun.ErrContext, msg: []string{"SK_LOOKUP programs need a context, the connection to find a socket for"}},
		{name: "13 struct_ops arguments", obj: "run_struct_ops", prog: "dummy_test_1",
			in:   progrun.Input{Context: &progrun.StructOpsContext{Args: make([]uint64, 13)}},
			kind: progrun.ErrContext, msg: []string{"13 arguments given; STRUCT_OPS programs take at most 12"}},

		// Refused by the kernel, explained by the Runner.
		{name: "no such XDP ingress ifindex", obj: "run_xdp", prog: "xdp_echo",
			in:   progrun.Input{Data: pkt, Context: &progrun.XDPContext{IngressIfindex: missing}},
			kind: progrun.ErrNoDevice, also: os.ErrNotExist, errno: unix.ENODEV,
			msg: []string{fmt.Sprintf("context ingress_ifindex %d: no such interface in this network namespace", missing), "(kernel: ENODEV)"}},
		{name: "no such skb ifindex", obj: "run_tc", prog: "tc_mark",
			in:   progrun.Input{Data: pkt, Context: &progrun.SKBContext{Ifindex: missing}},
			kind: progrun.ErrNoDevice, also: os.ErrNotExist, errno: unix.ENODEV,
			msg: []string{fmt.Sprintf("context ifindex %d: no such interface", missing)}},
		{name: "no such CPU", obj: "run_raw_tp", prog: "record_args",
			in:   progrun.Input{Context: &progrun.RawTracepointContext{Args: []uint64{1, 2}, OnCPU: true, CPU: 4096}},
			kind: progrun.ErrContext, also: os.ErrInvalid, errno: unix.ENXIO,
			msg: []string{"the CPU in the context is not online", "(kernel: ENXIO)"}},
		{name: "fewer raw tracepoint arguments than read", obj: "run_raw_tp", prog: "record_args",
			in:   progrun.Input{Context: &progrun.RawTracepointContext{Args: []uint64{1}}},
			kind: progrun.ErrContext, errno: unix.EINVAL, msg: []string{"at least as many as the program reads"}},
		{name: "SYSCALL context shorter than read", obj: "run_syscall", prog: "sum",
			in:   progrun.Input{Context: &progrun.SyscallContext{Data: make([]byte, 8)}},
			kind: progrun.ErrContext, errno: unix.EINVAL, msg: []string{"at least as many bytes as the program reads"}},
		{name: "struct_ops argument count", obj: "run_struct_ops", prog: "dummy_test_1",
			in:   progrun.Input{Context: &progrun.StructOpsContext{Args: []uint64{0, 0}}},
			kind: progrun.ErrContext, errno: unix.EINVAL,
			msg: []string{"exactly as many arguments as the bpf_dummy_ops member has (test_1: 1, test_2: 5"}},
		{name: "XDP packet over 17 fragments", obj: "run_xdp", prog: "xdp_echo", in: progrun.Input{Data: make([]byte, 73153)},
			kind: progrun.ErrPacketTooLong, also: os.ErrInvalid, errno: unix.ENOMEM,
			msg: []string{"the packet is 73153 bytes", "73152 bytes in all"}},
		{name: "skb packet over a page", obj: "run_tc", prog: "tc_mark", in: progrun.Input{Data: make([]byte, 5000)},
			kind: progrun.ErrPacketTooLong, also: os.ErrInvalid, errno: unix.EINVAL,
			msg: []string{"run SCHED_CLS program: the packet is 5000 bytes; skb test runs take at most", "3712 bytes"}},
		{name: "flow dissector packet over a page", obj: "run_flow", prog: "flow_parse", in: progrun.Input{Data: make([]byte, 4097)},
			kind: progrun.ErrPacketTooLong, errno: unix.EINVAL, msg: []string{"FLOW_DISSECTOR test runs take at most a page (4096 bytes)"}},
		{name: "XDP flags", obj: "run_xdp", prog: "xdp_echo", in: progrun.Input{Data: pkt, Flags: progrun.FlagRunOnCPU},
			kind: progrun.ErrRefused, also: os.ErrInvalid, errno: unix.EINVAL,
			msg: []string{"takes no flags but BPF_F_TEST_XDP_LIVE_FRAMES"}},
		{name: "LWT_SEG6LOCAL", obj: "run_skb", prog: "seg6_prog", in: progrun.Input{Data: pkt},
			kind: progrun.ErrNotRunnable, also: ebpf.ErrNotSupported, errno: sys.ENOTSUPP,
			msg: []string{"run LWT_SEG6LOCAL program: the kernel has no test runner for LWT_SEG6LOCAL programs"}},
	}

	colls := map[string]*ebpf.Collection{}
	for _, tc := range cases {
		if colls[tc.obj] == nil {
			colls[tc.obj] = loadCollection(t, tc.obj) // for all subtests: closed when t ends
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prog := colls[tc.obj].Programs[tc.prog]
			_, err := progrun.New(prog).Run(tc.in)
			checkErr(t, prog.Type(), err, tc)
		})
	}
}

// A queue the interface does not have: the kernel's EINVAL, explained. A
// queue it has works without an XDP program on it: the core registers
// XDP rxq info for every queue.
func TestErrRxQueueOutOfRange(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	r := loadRunner(t, "run_xdp", "xdp_echo")
	pkt := udp4Frame(ip4C, 40000, 53, "x")
	ifindex := uint32(env.Outer.Ifindex)

	if _, err := r.Run(progrun.Input{Data: pkt, Context: &progrun.XDPContext{IngressIfindex: ifindex}}); err != nil {
		t.Fatalf("queue 0 of %s: %v", env.Outer.Interface, err)
	}
	_, err := r.Run(progrun.Input{Data: pkt, Context: &progrun.XDPContext{IngressIfindex: ifindex, RxQueueIndex: 1}})
	checkErr(t, ebpf.XDP, err, errCase{kind: progrun.ErrContext, also: os.ErrInvalid, errno: unix.EINVAL,
		msg: []string{fmt.Sprintf("rx_queue_index 1 is not a receive queue of %s: the index must be below its number of RX queues",
			env.Outer.Interface), "(kernel: EINVAL)"}})
}

// wire_len may be as short as the skb the kernel makes: for the types that
// see the packet from the network header on, 14 bytes less than the frame
// (what the kernel reports back).
func TestWireLenL3(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_skb", "sock_keep")
	pkt := udp4Frame(ip4C, 40000, 53, "x")
	res := run(t, r, progrun.Input{Data: pkt, Context: &progrun.SKBContext{WireLen: uint32(len(pkt) - 14)}})
	if c := skbOut(t, res); c.WireLen != uint32(len(pkt)-14) {
		t.Errorf("wire_len out %d, want %d", c.WireLen, len(pkt)-14)
	}
}
