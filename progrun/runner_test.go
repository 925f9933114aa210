package progrun

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Tests of the Runner on a fake Backend: what it hands the backend and
// how it reads the backend's answers, without a kernel.

// A RawContext run leaves the Runner able to encode typed contexts: the
// next XDPContext and SKBContext runs do not index past a shrunk buffer.
func TestRawContextKeepsTypedBuffer(t *testing.T) {
	for _, typ := range []ebpf.ProgramType{ebpf.XDP, ebpf.SchedCLS, ebpf.SkLookup, ebpf.RawTracepoint} {
		var ctxIn []byte
		r := NewRunner(&fakeBackend{typ: typ, run: func(req *Request) error {
			ctxIn = append(ctxIn[:0], req.CtxIn...)
			return nil
		}})
		var data []byte
		if TakesPacket(typ) {
			data = make([]byte, 60)
		}
		if _, err := r.Run(Input{Data: data, Context: &RawContext{Data: []byte{1, 2, 3, 4}}}); err != nil {
			t.Fatalf("%v raw: %v", typ, err)
		}
		if string(ctxIn) != "\x01\x02\x03\x04" {
			t.Errorf("%v: raw context in % x", typ, ctxIn)
		}
		var typed Context
		switch typ {
		case ebpf.XDP:
			typed = &XDPContext{IngressIfindex: 3}
		case ebpf.SchedCLS:
			typed = &SKBContext{Mark: 7}
		case ebpf.SkLookup:
			typed = &SKLookupContext{LocalIP: netip.MustParseAddr("127.0.0.1"), LocalPort: 80}
		case ebpf.RawTracepoint:
			typed = &RawTracepointContext{Args: make([]uint64, maxFuncArgs)}
		}
		if _, err := r.Run(Input{Data: data, Context: typed}); err != nil {
			t.Fatalf("%v typed after raw: %v", typ, err)
		}
		if want, ok := kernelCtxSize(typ); ok && len(ctxIn) != want {
			t.Errorf("%v: typed context in of %d bytes, want %d", typ, len(ctxIn), want)
		}
	}
}

// The Runner tells a context out too small for the kernel's struct from a
// packet out too large for its buffer, and explains E2BIG.
func TestExplainSizes(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  Context
		run  func(req *Request) error
		kind error
		msg  string
	}{
		{"context out", &RawContext{Data: make([]byte, 8)}, func(req *Request) error {
			req.DataSizeOut, req.CtxSizeOut = 60, skBuffSize
			return unix.ENOSPC
		}, ErrContext, "the context needs 192 bytes; give a RawContext of at least 192 bytes"},
		{"packet out", nil, func(req *Request) error {
			// A backend that reports the size without the Runner's regrowth
			// fitting it: the second run answers the same.
			req.DataSizeOut, req.CtxSizeOut = uint32(len(req.DataOut)+1), uint32(len(req.CtxOut))
			return unix.ENOSPC
		}, nil, "the output needs"},
		{"context in", &RawContext{Data: make([]byte, 200)}, func(req *Request) error {
			return fmt.Errorf("BPF_PROG_RUN: %w", unix.E2BIG)
		}, ErrContext, "the context is 200 bytes; the kernel takes at most 192 bytes of context for SCHED_CLS"},
	} {
		r := NewRunner(&fakeBackend{typ: ebpf.SchedCLS, run: tc.run})
		_, err := r.Run(Input{Data: make([]byte, 60), Context: tc.ctx})
		var re *RunError
		if !errors.As(err, &re) || re.Kind != tc.kind || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v (kind %v), want %q of kind %v", tc.name, err, re.Kind, tc.msg, tc.kind)
		}
	}
}

// SK_LOOKUP addresses are of the lookup's family: the Runner refuses the
// other family's before the kernel mixes them, and an IPv4-mapped address
// goes into the IPv6 slot for AF_INET6.
func TestSKLookupFamilies(t *testing.T) {
	v4, v6 := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("2001:db8::5")
	mapped := netip.MustParseAddr("::ffff:127.0.0.1")
	for _, tc := range []struct {
		name string
		ctx  SKLookupContext
		msg  string // "" for none
	}{
		{"inet with IPv6 local", SKLookupContext{Family: unix.AF_INET, LocalIP: v6},
			"local_ip 2001:db8::5 is an IPv6 address, but the family is AF_INET"},
		{"inet with IPv6 remote", SKLookupContext{Family: unix.AF_INET, RemoteIP: v6, LocalIP: v4},
			"remote_ip 2001:db8::5 is an IPv6 address, but the family is AF_INET"},
		{"inet6 with IPv4 local", SKLookupContext{Family: unix.AF_INET6, LocalIP: v4},
			"local_ip 10.1.2.3 is an IPv4 address, but the family is AF_INET6: give IPv6 addresses (::ffff:10.1.2.3"},
		{"IPv4 local, IPv6 remote", SKLookupContext{LocalIP: v4, RemoteIP: v6},
			"remote_ip 2001:db8::5 is an IPv6 address, but the family is AF_INET"},
		{"IPv6 local, IPv4 remote", SKLookupContext{LocalIP: v6, RemoteIP: v4},
			"remote_ip 10.1.2.3 is an IPv4 address, but the family is AF_INET6"},
		{"IPv6 remote only", SKLookupContext{RemoteIP: v6}, ""},
		{"inet6 with no addresses", SKLookupContext{Family: unix.AF_INET6}, ""},
		{"inet with mapped", SKLookupContext{Family: unix.AF_INET, LocalIP: mapped, RemoteIP: v4}, ""},
		{"inet6 with mapped", SKLookupContext{Family: unix.AF_INET6, LocalIP: mapped, RemoteIP: v6}, ""},
	} {
		var in []byte
		r := NewRunner(&fakeBackend{typ: ebpf.SkLookup, run: func(req *Request) error {
			in = append(in[:0], req.CtxIn...)
			return nil
		}})
		_, err := r.Run(Input{Context: &tc.ctx})
		if tc.msg != "" {
			if !errors.Is(err, ErrContext) || !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s: error %v, want ErrContext with %q", tc.name, err, tc.msg)
			}
			if in != nil {
				t.Errorf("%s: the backend ran", tc.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		ip4 := func(off int) netip.Addr { return netip.AddrFrom4([4]byte(in[off:])) }
		ip6 := func(off int) netip.Addr { return netip.AddrFrom16([16]byte(in[off:])) }
		family := binary.NativeEndian.Uint32(in[8:])
		switch tc.name {
		case "IPv6 remote only":
			if family != unix.AF_INET6 || ip6(20) != v6 {
				t.Errorf("%s: family %d remote_ip6 %v, want AF_INET6 and %v", tc.name, family, ip6(20), v6)
			}
		case "inet with mapped":
			if ip4(40) != netip.MustParseAddr("127.0.0.1") || ip6(44) != netip.IPv6Unspecified() {
				t.Errorf("%s: local_ip4 %v local_ip6 %v, want 127.0.0.1 and none", tc.name, ip4(40), ip6(44))
			}
		case "inet6 with mapped":
			if family != unix.AF_INET6 || ip6(44) != mapped || ip4(40) != netip.IPv4Unspecified() || ip6(20) != v6 {
				t.Errorf("%s: family %d local_ip6 %v local_ip4 %v remote_ip6 %v, want AF_INET6, %v, none and %v",
					tc.name, family, ip6(44), ip4(40), ip6(20), mapped, v6)
			}
		}
	}
}

// A backend's EINTR is ErrInterrupted, which matches context.Canceled and,
// with a context, what stopped it.
func TestInterrupted(t *testing.T) {
	var done <-chan struct{}
	r := NewRunner(&fakeBackend{typ: ebpf.XDP, run: func(req *Request) error {
		done = req.Done
		return fmt.Errorf("BPF_PROG_RUN: %w", unix.EINTR)
	}})
	pkt := make([]byte, 60)

	_, err := r.Run(Input{Data: pkt, Repeat: 10})
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) || !errors.Is(err, unix.EINTR) {
		t.Errorf("error %v, want ErrInterrupted, context.Canceled and EINTR", err)
	}
	if want := "run XDP program: the run was interrupted before it finished: signals kept interrupting it"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not contain %q", err, want)
	}
	if done != nil {
		t.Errorf("Run handed the backend a Done channel")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done = nil
	_, err = r.RunContext(ctx, Input{Data: pkt})
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) || errors.Is(err, unix.EINTR) {
		t.Errorf("cancelled before the run: error %v, want ErrInterrupted without EINTR", err)
	}
	if want := "the run was interrupted before it started: context canceled"; !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("message %q does not contain %q", err, want)
	}
	if done != nil {
		t.Errorf("the backend ran with a cancelled context")
	}

	// Stopped while the backend runs: by a cancel, and by a deadline
	// with a cause.
	errSlow := errors.New("too slow")
	for _, tc := range []struct {
		name  string
		ctx   func() (context.Context, context.CancelFunc)
		match []error
		msg   string
	}{
		{"cancel", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			[]error{context.Canceled}, "interrupted before it finished: context canceled"},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeoutCause(context.Background(), 10*time.Millisecond, errSlow)
		}, []error{context.Canceled, context.DeadlineExceeded, errSlow}, "interrupted before it finished: too slow"},
	} {
		ctx, cancel := tc.ctx()
		r := NewRunner(&fakeBackend{typ: ebpf.XDP, run: func(req *Request) error {
			if tc.name == "cancel" {
				cancel()
			}
			<-req.Done
			req.Retval = 2
			return unix.EINTR
		}})
		_, err := r.RunContext(ctx, Input{Data: pkt, Repeat: 1000})
		cancel()
		for _, want := range append(tc.match, ErrInterrupted, unix.EINTR) {
			if !errors.Is(err, want) {
				t.Errorf("%s: error %v does not match %v", tc.name, err, want)
			}
		}
		if !strings.Contains(fmt.Sprint(err), tc.msg) {
			t.Errorf("%s: message %q does not contain %q", tc.name, err, tc.msg)
		}
	}
}

// RawTracepointContext.OnCPU asks for FlagRunOnCPU and the CPU.
func TestRunOnCPUFlag(t *testing.T) {
	var flags, cpu uint32
	r := NewRunner(&fakeBackend{typ: ebpf.RawTracepoint, run: func(req *Request) error {
		flags, cpu = req.Flags, req.CPU
		return nil
	}})
	if _, err := r.Run(Input{Context: &RawTracepointContext{Args: []uint64{1}, OnCPU: true, CPU: 1}}); err != nil {
		t.Fatal(err)
	}
	if flags != FlagRunOnCPU || cpu != 1 {
		t.Errorf("flags %#x cpu %d, want FlagRunOnCPU and 1", flags, cpu)
	}
}

// The Runner's own work allocates nothing per run, SK_LOOKUP checks
// included, through Run and RunContext with context.Background().
func TestRunnerAllocs(t *testing.T) {
	for _, tc := range []struct {
		typ ebpf.ProgramType
		in  Input
	}{
		{ebpf.SkLookup, Input{Context: &SKLookupContext{Family: unix.AF_INET6,
			LocalIP: netip.MustParseAddr("::ffff:127.0.0.1"), RemoteIP: netip.IPv6Loopback(), LocalPort: 80}}},
		{ebpf.XDP, Input{Data: make([]byte, 60), Context: &XDPContext{Meta: make([]byte, 8)}}},
		{ebpf.SchedCLS, Input{Data: make([]byte, 60), Context: &RawContext{Data: make([]byte, 192)}}},
	} {
		r := NewRunner(&fakeBackend{typ: tc.typ, run: func(req *Request) error { return nil }})
		ctx := context.Background()
		var err error
		for name, run := range map[string]func(){
			"Run":        func() { _, err = r.Run(tc.in) },
			"RunContext": func() { _, err = r.RunContext(ctx, tc.in) },
		} {
			if allocs := testing.AllocsPerRun(100, run); allocs != 0 || err != nil {
				t.Errorf("%v %s: %v allocations per run (error %v), want 0", tc.typ, name, allocs, err)
			}
		}
	}
}
