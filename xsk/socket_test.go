package xsk_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// TestSocketBadInput: the errors of a socket that cannot be made say why
// and what to do, match the package's sentinels, and leave no fd, ring or
// program behind; the UMEM stays usable.
func TestSocketBadInput(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true, Queues: 2})
	fds := openFDs(t)
	umem, err := xsk.NewUmem(smallUmem())
	if err != nil {
		t.Fatal(err)
	}

	_, err = xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Queue: 2})
	requireErr(t, "queue 2 of 2", err, xsk.ErrQueueRange)
	for _, want := range []string{"queue 2", "below 2", "numrxqueues"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ErrQueueRange message %q does not mention %q", err, want)
		}
	}

	_, err = xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Mode: xsk.ModeZeroCopy})
	requireErr(t, "zero-copy on a veth", err, xsk.ErrZeroCopyUnsupported)
	if !strings.Contains(err.Error(), "copy mode") {
		t.Errorf("ErrZeroCopyUnsupported message %q does not suggest copy mode", err)
	}

	_, err = xsk.NewSocket(umem, xsk.SocketConfig{Interface: "xk-nosuchif"})
	requireErr(t, "unknown interface", err, os.ErrNotExist)
	_, err = xsk.AttachProgram("xk-nosuchif", xsk.ProgramOptions{})
	requireErr(t, "AttachProgram on an unknown interface", err, os.ErrNotExist)

	_, err = xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, NoRX: true, NoTX: true})
	requireErr(t, "neither RX nor TX", err, os.ErrInvalid)

	// After all that, the UMEM binds.
	sock, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Queue: 1})
	if err != nil {
		t.Fatalf("socket after failed attempts: %v", err)
	}
	if err := umem.Close(); !errors.Is(err, xsk.ErrInUse) {
		t.Fatalf("Umem.Close with an open socket: %v; want ErrInUse", err)
	} else if !strings.Contains(err.Error(), "close them first") {
		t.Errorf("ErrInUse message %q", err)
	}
	// ErrInUse kept everything: the socket still works.
	if _, err := sock.Stats(); err != nil {
		t.Fatalf("Stats after the refused Umem.Close: %v", err)
	}

	prog, err := xsk.AttachProgram(env.Outer.Interface, xsk.ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := xdpProgID(t, env.Outer.Interface)
	if id == 0 {
		t.Fatal("no XDP program on the interface after AttachProgram")
	}
	// A second program on the interface fails and leaves the first.
	if p2, err := xsk.AttachProgram(env.Outer.Interface, xsk.ProgramOptions{}); err == nil {
		p2.Close()
		t.Error("a second AttachProgram on the interface succeeded")
	} else if !errors.Is(err, os.ErrExist) {
		t.Logf("second AttachProgram: %v", err)
	}
	if now := xdpProgID(t, env.Outer.Interface); now != id {
		t.Fatalf("program %d attached after a failed AttachProgram, want %d", now, id)
	}
	if err := prog.Register(sock); err != nil {
		t.Fatal(err)
	}
	if err := prog.Close(); err != nil {
		t.Fatal(err)
	}
	if id := xdpProgID(t, env.Outer.Interface); id != 0 {
		t.Fatalf("XDP program %d still attached after Program.Close", id)
	}
	if err := sock.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sock.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := umem.Close(); err != nil {
		t.Fatal(err)
	}
	if err := umem.Close(); err != nil {
		t.Fatalf("second Umem.Close: %v", err)
	}
	if _, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface}); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("NewSocket on a closed UMEM: %v; want os.ErrClosed", err)
	}
	checkNoFDLeak(t, fds)
}

// TestFirstBindFails: when the first socket of a UMEM cannot bind (its
// queue is taken), nothing leaks and the UMEM binds elsewhere afterwards.
func TestFirstBindFails(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true, Queues: 2})
	holder := newUmem(t, smallUmem())
	hs, err := xsk.NewSocket(holder, xsk.SocketConfig{Interface: env.Outer.Interface})
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()

	fds := openFDs(t)
	umem, err := xsk.NewUmem(smallUmem())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Mode: xsk.ModeCopy, NeedWakeup: true})
		requireErr(t, "first socket on a taken queue", err, xsk.ErrQueueBusy)
	}
	sock, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Queue: 1, Mode: xsk.ModeCopy})
	if err != nil {
		t.Fatalf("first socket on a free queue after failed binds: %v", err)
	}
	if sock.NeedWakeup() {
		t.Error("the failed binds' NeedWakeup stuck")
	}
	if err := sock.Close(); err != nil {
		t.Fatal(err)
	}
	if err := umem.Close(); err != nil {
		t.Fatal(err)
	}
	checkNoFDLeak(t, fds)
}

// TestNoLeaksAfterClose: a UMEM with sockets on two queues (one shared),
// a program, and traffic, closed: no fd and no goroutine remains.
func TestNoLeaksAfterClose(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true, Queues: 2})
	sender := newInnerSender(t, env, 0)
	fds := openFDs(t)
	goroutines := runtime.NumGoroutine()
	for round := range 3 {
		umem, err := xsk.NewUmem(smallUmem())
		if err != nil {
			t.Fatal(err)
		}
		var socks []*xsk.Socket
		for _, q := range []uint32{0, 0, 1} {
			s, err := newSocketRebind(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Queue: q, RxSize: 128, TxSize: 64})
			if err != nil {
				t.Fatalf("round %d, queue %d: %v", round, q, err)
			}
			socks = append(socks, s)
		}
		prog, err := xsk.AttachProgram(env.Outer.Interface, xsk.ProgramOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := prog.Register(socks[0]); err != nil {
			t.Fatal(err)
		}
		pool := xsk.NewFramePool(umem, 0, umem.NumFrames())
		socks[0].FillFrom(pool, 128)
		sender.send(t, env, 0, 50)
		if seen := receive(t, socks[0], pool, 50, 5*time.Second); len(seen) != 50 {
			t.Fatalf("round %d: received %d of 50", round, len(seen))
		}
		if _, err := socks[0].Poll(0, true); err != nil {
			t.Fatal(err)
		}
		// Close in an order other than creation's, the program last.
		for _, i := range []int{1, 0, 2} {
			if err := socks[i].Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := umem.Close(); err != nil {
			t.Fatal(err)
		}
		if err := prog.Close(); err != nil {
			t.Fatal(err)
		}
	}
	checkNoFDLeak(t, fds)
	if n := settledGoroutines(goroutines); n > goroutines {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines, %d before:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
	if id := xdpProgID(t, env.Outer.Interface); id != 0 {
		t.Errorf("XDP program %d still attached", id)
	}
}

// TestFirstSocketHoldsQueue documents a consequence of the design: the
// UMEM's first socket is its registration socket, which stays bound after
// Socket.Close (receiving nothing: it is out of the XSKMAP) until
// Umem.Close, so its queue is not free for another UMEM until then.
func TestFirstSocketHoldsQueue(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	cfg := xsk.SocketConfig{Interface: env.Outer.Interface, RxSize: 64, TxSize: 64}
	u1, err := xsk.NewUmem(smallUmem())
	if err != nil {
		t.Fatal(err)
	}
	s1, err := xsk.NewSocket(u1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	u2 := newUmem(t, smallUmem())
	if _, err := xsk.NewSocket(u2, cfg); !errors.Is(err, xsk.ErrQueueBusy) {
		t.Fatalf("queue of a closed first socket, UMEM open: %v; want ErrQueueBusy", err)
	}
	// The UMEM itself can bind there again, sharing the rings still
	// mapped.
	s1b, err := xsk.NewSocket(u1, cfg)
	if err != nil {
		t.Fatalf("the UMEM's own socket on its first socket's queue: %v", err)
	}
	if err := s1b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := u1.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := newSocketRebind(u2, cfg)
	if err != nil {
		t.Fatalf("queue after Umem.Close: %v", err)
	}
	s2.Close()
}

// TestQueueRangeByRing: NewSocket checks a socket's RX ring against the
// interface's RX queues and its TX ring against its TX queues, with
// ErrQueueRange (the kernel binds to any queue below the larger count, but
// such a socket would never receive, or never send). On a veth end with 2
// RX queues and 1 TX queue, and its peer with 1 and 2, queue 1 takes only
// an RX-only socket on the one and only a TX-only socket on the other.
func TestQueueRangeByRing(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	type bindCase struct {
		iface      string
		queue      uint32
		noRX, noTX bool
		want       []string // what the ErrQueueRange says; nil: binds
	}
	cases := []bindCase{
		{"xkq0", 1, false, true, nil},
		{"xkq0", 1, true, false, []string{"queue 1 is out of range", "2 RX queues and 1 TX queue", "a socket with a TX ring sends only on a TX queue", "below 1"}},
		{"xkq0", 1, false, false, []string{"a socket with RX and TX rings", "below 1"}},
		{"xkq0", 2, false, true, []string{"queue 2 is out of range", "an RX ring receives only from an RX queue", "below 2"}},
		{"xkq1", 1, true, false, nil},
		{"xkq1", 1, false, true, []string{"1 RX queue and 2 TX queues", "below 1"}},
	}
	errs := make([]error, len(cases))
	var (
		umem  *xsk.Umem
		socks []*xsk.Socket
	)
	t.Cleanup(func() {
		for _, s := range socks {
			s.Close()
		}
		if umem != nil {
			if err := umem.Close(); err != nil {
				t.Errorf("Umem.Close: %v", err)
			}
		}
	})
	// A veth pair of its own, in the env's inner namespace: it goes with
	// the env. The UMEM is made there too: its first socket binds in the
	// namespace the UMEM was made in.
	err := env.Do(func() error {
		la := netlink.NewLinkAttrs()
		la.Name, la.NumRxQueues, la.NumTxQueues = "xkq0", 2, 1
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: "xkq1", PeerNumRxQueues: 1, PeerNumTxQueues: 2}); err != nil {
			return err
		}
		for _, name := range []string{"xkq0", "xkq1"} {
			l, err := netlink.LinkByName(name)
			if err != nil {
				return err
			}
			if err := netlink.LinkSetUp(l); err != nil {
				return err
			}
		}
		var err error
		if umem, err = xsk.NewUmem(smallUmem()); err != nil {
			return err
		}
		for i, c := range cases {
			var s *xsk.Socket
			s, errs[i] = xsk.NewSocket(umem, xsk.SocketConfig{Interface: c.iface, Queue: c.queue, NoRX: c.noRX, NoTX: c.noTX, RxSize: 64, TxSize: 64, Mode: xsk.ModeCopy})
			if errs[i] == nil {
				socks = append(socks, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("veth pair with 2 RX queues and 1 TX queue: %v", err)
	}
	for i, c := range cases {
		what := fmt.Sprintf("%s queue %d, NoRX %v, NoTX %v", c.iface, c.queue, c.noRX, c.noTX)
		if c.want == nil {
			if errs[i] != nil {
				t.Errorf("%s: %v", what, errs[i])
			}
			continue
		}
		if !errors.Is(errs[i], xsk.ErrQueueRange) {
			t.Errorf("%s: %v; want ErrQueueRange", what, errs[i])
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(errs[i].Error(), w) {
				t.Errorf("%s: %q does not say %q", what, errs[i], w)
			}
		}
	}
}

// TestFirstSocketOtherNetns: a UMEM's first socket is its registration
// socket, which binds in the namespace the UMEM was made in; asking for an
// interface of another namespace says so, and the UMEM binds at home
// afterwards.
func TestFirstSocketOtherNetns(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	umem := newUmem(t, smallUmem())
	err := env.Do(func() error {
		_, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Inner.Interface, Mode: xsk.ModeCopy})
		return err
	})
	if !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "network namespace") {
		t.Fatalf("first socket on an interface of another namespace: %v; want os.ErrInvalid naming the namespace", err)
	}
	s, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Mode: xsk.ModeCopy})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
