package xsk

import (
	"errors"
	"math"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/netdev"
)

// TestWakeupCalls: Kick and WakeRX make their syscall without need_wakeup,
// with it only when the ring asks, and always when busy polling. The
// socket's fd is -1, so that a syscall made shows as EBADF.
func TestWakeupCalls(t *testing.T) {
	fill, _, fw := addrRings(8, 0)
	tx, _, tw := descRings(8, 0)
	for _, tc := range []struct {
		needWakeup, busyPoll, flagSet bool
		calls                         bool
	}{
		{false, false, false, true},
		{true, false, false, false},
		{true, false, true, true},
		{false, true, false, true},
		{true, true, false, true},
	} {
		s := &Socket{fd: -1, rings: &umemRings{fill: fill}, tx: tx, busyPoll: tc.busyPoll}
		if tc.needWakeup {
			s.flags = unix.XDP_USE_NEED_WAKEUP
		}
		fw.flags, tw.flags = 0, 0
		if tc.flagSet {
			fw.flags, tw.flags = xdpRingNeedWakeup, xdpRingNeedWakeup
		}
		for _, call := range []struct {
			name string
			fn   func() error
		}{{"sendto", s.Kick}, {"recvfrom", s.WakeRX}} {
			err := call.fn()
			if called := errors.Is(err, unix.EBADF); called != tc.calls || (err != nil && !called) {
				t.Errorf("need_wakeup %v, busy poll %v, ring flag %v: %s: %v; want a call: %v", tc.needWakeup, tc.busyPoll, tc.flagSet, call.name, err, tc.calls)
			} else if called && !strings.Contains(err.Error(), call.name) {
				t.Errorf("%s error %q does not name the call", call.name, err)
			}
		}
	}
	// A socket without a TX ring has nothing to kick.
	s := &Socket{fd: -1, rings: &umemRings{fill: fill}, busyPoll: true}
	if err := s.Kick(); err != nil {
		t.Errorf("Kick without a TX ring: %v", err)
	}
}

func TestTransient(t *testing.T) {
	for _, err := range []error{unix.EAGAIN, unix.EBUSY, unix.ENOBUFS, unix.ENETDOWN} {
		if !transient(err) {
			t.Errorf("transient(%v) = false", err)
		}
	}
	for _, err := range []error{unix.EBADF, unix.ENXIO, unix.EINVAL} {
		if transient(err) {
			t.Errorf("transient(%v) = true", err)
		}
	}
}

// TestQueueRangeErrors: the queue check before the bind and the
// explanation of the bind's EINVAL both take a socket's rings into account.
func TestQueueRangeErrors(t *testing.T) {
	// An interface that does not exist: explainBind's fresh look-up
	// fails and it keeps these counts.
	dev := &netdev.Device{Name: "xk-nosuchif", Index: 1 << 30, Kind: "veth", RxQueues: 2, TxQueues: 1}
	for _, tc := range []struct {
		cfg  SocketConfig
		want string // "": in range
	}{
		{SocketConfig{Queue: 1, NoTX: true}, ""},
		{SocketConfig{Queue: 0}, ""},
		{SocketConfig{Queue: 1, NoRX: true}, "xk-nosuchif has 2 RX queues and 1 TX queue, and a socket with a TX ring sends only on a TX queue; use a queue below 1"},
		{SocketConfig{Queue: 1}, "a socket with RX and TX rings needs a queue below both counts; use a queue below 1"},
		{SocketConfig{Queue: 2, NoTX: true}, "an RX ring receives only from an RX queue; use a queue below 2, or make the veth with more"},
	} {
		err := checkQueue(dev, tc.cfg)
		bindErr := explainBind(unix.EINVAL, dev, tc.cfg)
		if tc.want == "" {
			if err != nil || errors.Is(bindErr, ErrQueueRange) {
				t.Errorf("%+v: %v, bind: %v; want in range", tc.cfg, err, bindErr)
			}
			continue
		}
		for _, e := range []error{err, bindErr} {
			if !errors.Is(e, ErrQueueRange) || !strings.Contains(e.Error(), tc.want) {
				t.Errorf("%+v: %v; want ErrQueueRange saying %q", tc.cfg, e, tc.want)
			}
		}
		if !errors.Is(bindErr, unix.EINVAL) {
			t.Errorf("%+v: the bind error %v does not wrap EINVAL", tc.cfg, bindErr)
		}
	}
	// Equal counts: the short message of old.
	eq := &netdev.Device{Name: "eth9", Kind: "ice", RxQueues: 4, TxQueues: 4}
	if err := checkQueue(eq, SocketConfig{Queue: 4}); err == nil || err.Error() != "queue 4 is out of range: eth9 has 4 queues; use a queue below 4, or add queues (ethtool -L)" {
		t.Errorf("equal counts: %v", err)
	}
}

// TestZeroCopyMessages: the zero-copy errors say what to do in the
// library's terms, naming no command-line flag.
func TestZeroCopyMessages(t *testing.T) {
	dev := &netdev.Device{Name: "veth9", Kind: "veth", RxQueues: 1, TxQueues: 1}
	for _, err := range []error{
		zeroCopyUnsupported(dev, 0),
		explainBind(unix.EOPNOTSUPP, dev, SocketConfig{Mode: ModeZeroCopy}),
	} {
		if !errors.Is(err, ErrZeroCopyUnsupported) || !strings.Contains(err.Error(), "use copy mode (ModeCopy") || strings.Contains(err.Error(), "--") {
			t.Errorf("%v", err)
		}
	}
}

func TestFramePoolRange(t *testing.T) {
	u := testUmem(UmemConfig{FrameSize: 2048, NumFrames: 8, FillSize: 4, CompletionSize: 4})
	if p := NewFramePool(u, 2, 6); p.Len() != 6 {
		t.Fatalf("pool of the last 6 frames holds %d", p.Len())
	}
	if p := NewFramePool(u, 8, 0); p.Len() != 0 {
		t.Fatalf("empty pool holds %d", p.Len())
	}
	mustPanic(t, "a pool past the UMEM", func() { NewFramePool(u, 2, 7) })
	mustPanic(t, "a pool whose end wraps", func() { NewFramePool(u, 1, math.MaxUint32) })
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "7 frames from frame 2") || !strings.Contains(msg, "only 8 frames") {
			t.Errorf("panic message %q", msg)
		}
	}()
	NewFramePool(u, 2, 7)
}

// TestFramePoolPutChunk: Put keeps the chunk's address of what it is
// given, so that a received descriptor's address goes back to FILL as the
// chunk the kernel was given.
func TestFramePoolPutChunk(t *testing.T) {
	for _, cfg := range []UmemConfig{
		{FrameSize: 2048, NumFrames: 8, FillSize: 4, CompletionSize: 4},
		{UnalignedChunks: true, FrameSize: 3000, NumFrames: 8, FillSize: 4, CompletionSize: 4},
	} {
		u := testUmem(cfg)
		p := NewFramePool(u, 0, 2)
		a, _ := p.Get()
		desc := u.TxAddr(a, PacketHeadroom+14)
		if !p.Put(desc) {
			t.Fatal("Put refused a frame the pool lacks")
		}
		if got, _ := p.Get(); got != a {
			t.Errorf("unaligned %v: Put(%#x) kept %#x, want the chunk %#x", cfg.UnalignedChunks, desc, got, a)
		}
	}
}
