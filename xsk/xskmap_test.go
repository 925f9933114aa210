package xsk_test

import (
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// waitCounters polls the program's counters of queue q until cond holds
// or a few seconds pass, and returns the last ones.
func waitCounters(t *testing.T, p *xsk.Program, q uint32, cond func(xsk.QueueCounters) bool) xsk.QueueCounters {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := counters(t, p)[q]
		if cond(c) || time.Now().After(deadline) {
			return c
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCloseRemovesXSKMapEntry: once a socket closes, its queue's frames
// pass to the stack instead of being redirected, for the UMEM's first
// socket (whose fd stays bound until Umem.Close) as for a later one.
func TestCloseRemovesXSKMapEntry(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true, Queues: 2})
	const n = 100
	umem := newUmem(t, smallUmem())
	prog, err := xsk.AttachProgram(env.Outer.Interface, xsk.ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	pool := xsk.NewFramePool(umem, 0, umem.NumFrames())

	// Queue 0: the first socket; queue 1: a socket with rings of its own.
	for _, q := range []uint32{0, 1} {
		sock, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Queue: q, RxSize: 128, TxSize: 64})
		if err != nil {
			t.Fatal(err)
		}
		if err := prog.Register(sock); err != nil {
			t.Fatal(err)
		}
		if prog.XSKMap().Registered(q) != sock {
			t.Fatalf("Registered(%d) is not the socket", q)
		}
		sock.FillFrom(pool, 128)
		sender := newInnerSender(t, env, q)
		before := counters(t, prog)[q]
		sender.send(t, env, 0, n)
		if seen := receive(t, sock, pool, n, 5*time.Second); len(seen) != n {
			t.Fatalf("queue %d: received %d of %d", q, len(seen), n)
		}
		c := waitCounters(t, prog, q, func(c xsk.QueueCounters) bool { return c.Redirected >= before.Redirected+n })
		if c.Redirected < before.Redirected+n {
			t.Fatalf("queue %d: counters %+v, want %d more redirected than %+v", q, c, n, before)
		}
		if err := sock.Close(); err != nil {
			t.Fatal(err)
		}
		if s := prog.XSKMap().Registered(q); s != nil {
			t.Fatalf("queue %d: Registered = %v after Close, want nil", q, s)
		}
		before = c
		sender.send(t, env, n, n)
		c = waitCounters(t, prog, q, func(c xsk.QueueCounters) bool { return c.Passed >= before.Passed+n })
		if c.Passed < before.Passed+n || c.Redirected != before.Redirected {
			t.Fatalf("queue %d after Close: counters %+v, before %+v; want %d more passed and none more redirected", q, c, before, n)
		}
		// The closed socket's frames stay in its FILL ring: the next
		// socket takes the other half of the UMEM.
		pool = xsk.NewFramePool(umem, umem.NumFrames()/2, umem.NumFrames()/2)
	}
}

// TestXSKMapRegister: Register replaces a queue's socket, the replaced
// socket's Close leaves the new entry alone, Unregister removes it, and a
// closed socket cannot be registered.
func TestXSKMapRegister(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	umem := newUmem(t, smallUmem())
	cfg := xsk.SocketConfig{Interface: env.Outer.Interface, RxSize: 128, TxSize: 64}
	s1, err := xsk.NewSocket(umem, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s2, err := xsk.NewSocket(umem, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	prog, err := xsk.AttachProgram(env.Outer.Interface, xsk.ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	pool := xsk.NewFramePool(umem, 0, umem.NumFrames())
	s1.FillFrom(pool, 128)
	inner := testutil.OpenPacketSocket(t, env.Inner, testEtherType)
	m := prog.XSKMap()
	if m.Map().Type() != ebpf.XSKMap {
		t.Fatalf("map type %v", m.Map().Type())
	}

	if err := m.Register(s1); err != nil {
		t.Fatal(err)
	}
	if err := m.Register(s2); err != nil {
		t.Fatal(err)
	}
	if m.Registered(0) != s2 {
		t.Fatal("Register did not replace the entry")
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if m.Registered(0) != s2 {
		t.Fatal("closing the replaced socket removed the new entry")
	}
	sendFromInner(t, inner, env, 50)
	if seen := receive(t, s2, pool, 50, 5*time.Second); len(seen) != 50 {
		t.Fatalf("s2 received %d of 50", len(seen))
	}
	if err := m.Register(s1); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("registering a closed socket: %v; want os.ErrClosed", err)
	}
	if err := m.Unregister(s2); err != nil {
		t.Fatal(err)
	}
	if m.Registered(0) != nil {
		t.Fatal("Unregister left the entry")
	}
	before := counters(t, prog)[0]
	sendFromInner(t, inner, env, 50)
	c := waitCounters(t, prog, 0, func(c xsk.QueueCounters) bool { return c.Passed >= before.Passed+50 })
	if c.Passed < before.Passed+50 || c.Redirected != before.Redirected {
		t.Fatalf("after Unregister: %+v, before %+v", c, before)
	}
	// Registered again, then closed: its entry goes.
	if err := m.Register(s2); err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if m.Registered(0) != nil {
		t.Fatal("Close left the entry")
	}

	if _, err := xsk.OpenXSKMap(nil); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("OpenXSKMap(nil): %v", err)
	}
	notXSK, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer notXSK.Close()
	if _, err := xsk.OpenXSKMap(notXSK); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("OpenXSKMap(array): %v", err)
	}
}

// TestConcurrentClose closes sockets, the program and their XSKMAP entries
// from several goroutines at once (run with -race): no error, no entry
// left, everything closes.
func TestConcurrentClose(t *testing.T) {
	const queues = 4
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true, Queues: queues})
	fds := openFDs(t)
	umem, err := xsk.NewUmem(xsk.UmemConfig{NumFrames: 1024, FillSize: 64, CompletionSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := xsk.AttachProgram(env.Outer.Interface, xsk.ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var socks []*xsk.Socket
	for q := range uint32(queues) {
		for range 2 { // two per queue, the second sharing the first's rings
			s, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Queue: q, RxSize: 64, TxSize: 64})
			if err != nil {
				t.Fatal(err)
			}
			if err := prog.Register(s); err != nil {
				t.Fatal(err)
			}
			socks = append(socks, s)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(socks)+1)
	for _, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Close()
			errs <- s.Close()
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for q := range uint32(queues) {
			prog.XSKMap().Registered(q)
		}
		errs <- prog.XSKMap().Close()
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for q := range uint32(queues) {
		if s := prog.XSKMap().Registered(q); s != nil {
			t.Errorf("queue %d still has a socket", q)
		}
	}
	if err := prog.Close(); err != nil {
		t.Fatal(err)
	}
	if err := umem.Close(); err != nil {
		t.Fatal(err)
	}
	checkNoFDLeak(t, fds)
}
