package xskapp_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
	"github.com/xdpkit/xdpkit/xskapp"
)

// etherTest is the local experimental EtherType: no stack answers it.
const etherTest = 0x88b5

func testFrame(src, dst net.HardwareAddr, seq uint32) []byte {
	f := make([]byte, 64)
	copy(f, dst)
	copy(f[6:], src)
	binary.BigEndian.PutUint16(f[12:], etherTest)
	binary.BigEndian.PutUint32(f[60:], seq)
	return f
}

// sendPaced sends frame n times, never more than window frames ahead of
// what app published as received (which lags by up to 64 batches: the sum
// stays below a veth's 256-frame XDP ring, so that a busy machine does not
// drop frames). It gives up after 20 s without progress.
// It allocates nothing.
func sendPaced(t *testing.T, app *xskapp.App, sock *testutil.PacketSocket, frame []byte, n uint64) {
	t.Helper()
	const window = 128
	last, stalled := uint64(0), time.Now()
	for sent := uint64(0); sent < n; {
		rx := app.Counters().RxPackets
		if rx != last {
			last, stalled = rx, time.Now()
		}
		if sent >= rx+window {
			if time.Since(stalled) > 20*time.Second {
				t.Fatalf("sent %d frames, received %d: no progress for 20 s (stats %+v)", sent, rx, app.Stats())
			}
			runtime.Gosched()
			continue
		}
		if err := sock.Send(frame); err != nil {
			t.Fatal(err)
		}
		sent++
	}
}

// runInBackground runs app until it ends by itself (Count, Duration) and
// then sends its final stats.
func runInBackground(t *testing.T, app *xskapp.App) <-chan xskapp.Stats {
	done := make(chan xskapp.Stats, 1)
	go func() {
		s, err := app.Run(t.Context())
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		done <- s
	}()
	return done
}

func newApp(t *testing.T, cfg xskapp.Config) *xskapp.App {
	t.Helper()
	app, err := xskapp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := app.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return app
}

func TestForwardSwapsMACs(t *testing.T) {
	env := testutil.NewQuietEnv(t, netenv.Spec{})
	app := newApp(t, xskapp.Config{Kind: xskapp.Fwd, Interface: env.Outer.Interface, Bind: xsk.ModeCopy})
	stop := start(t, app)
	sock := testutil.OpenPacketSocket(t, env.Inner, etherTest)
	const n = 200
	for i := range n {
		if err := sock.Send(testFrame(env.Inner.MAC, env.Outer.MAC, uint32(i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[uint32]bool{}
	sock.Receive(5*time.Second, func(f []byte) bool {
		if len(f) == 64 && bytes.Equal(f[:6], env.Inner.MAC) && bytes.Equal(f[6:12], env.Outer.MAC) {
			seen[binary.BigEndian.Uint32(f[60:])] = true
		} else {
			t.Errorf("frame back without swapped MACs: % x", f[:14])
		}
		return len(seen) < n
	})
	s := stop()
	if len(seen) != n {
		t.Fatalf("%d of %d frames came back with swapped MACs (stats %+v)", len(seen), n, s.Counters)
	}
	if s.TxPackets != n || s.TxDropped != 0 {
		t.Errorf("stats %+v: want %d sent, none dropped", s.Counters, n)
	}
}

// TestReceiveCountsExactly also shows that receiving allocates nothing
// per frame: the whole run allocates a bounded amount whatever the count.
func TestReceiveCountsExactly(t *testing.T) {
	env := testutil.NewQuietEnv(t, netenv.Spec{})
	const n = 20000
	app := newApp(t, xskapp.Config{Kind: xskapp.RX, Interface: env.Outer.Interface, Bind: xsk.ModeCopy, Count: n, Duration: 20 * time.Second})
	sock := testutil.OpenPacketSocket(t, env.Inner, etherTest)
	frame := testFrame(env.Inner.MAC, env.Outer.MAC, 0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	done := runInBackground(t, app)
	sendPaced(t, app, sock, frame, n)
	s := <-done
	runtime.ReadMemStats(&after)
	if s.RxPackets != n {
		t.Fatalf("received %d frames, want exactly %d (socket %+v, program %+v)", s.RxPackets, n, s.Socket, s.Program)
	}
	if s.Socket != (xsk.Statistics{}) {
		t.Errorf("socket drops %+v, want none", s.Socket)
	}
	// Run's own set-up (goroutines, a timer) and the final Stats (a map
	// lookup per queue of the program's counters) allocate about 300
	// objects, whatever n is; the sender allocates nothing.
	allocs := after.Mallocs - before.Mallocs
	t.Logf("%d allocations while receiving %d frames", allocs, n)
	if allocs > 1000 {
		t.Errorf("%d allocations while receiving %d frames: the receive path allocates", allocs, n)
	}
}

func TestTransmitCount(t *testing.T) {
	env := testutil.NewQuietEnv(t, netenv.Spec{})
	const n = 5000
	app := newApp(t, xskapp.Config{Kind: xskapp.TX, Interface: env.Outer.Interface, Bind: xsk.ModeCopy, Count: n,
		Frame: testFrame(env.Outer.MAC, env.Inner.MAC, 7), Duration: 20 * time.Second})
	sock := testutil.OpenPacketSocket(t, env.Inner, etherTest)
	got := 0
	received := make(chan struct{})
	go func() {
		defer close(received)
		sock.Receive(10*time.Second, func(f []byte) bool {
			if len(f) == 64 && binary.BigEndian.Uint32(f[60:]) == 7 {
				got++
			}
			return got < n
		})
	}()
	s, err := app.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	<-received
	if s.TxPackets != n || got != n {
		t.Fatalf("sent %d, inner end received %d; want %d and %d", s.TxPackets, got, n, n)
	}
}

func TestPacedTransmit(t *testing.T) {
	env := testutil.NewQuietEnv(t, netenv.Spec{})
	app := newApp(t, xskapp.Config{Kind: xskapp.TX, Interface: env.Outer.Interface, Bind: xsk.ModeCopy, PPS: 2000,
		Frame: testFrame(env.Outer.MAC, env.Inner.MAC, 7), Duration: 500 * time.Millisecond})
	s, err := app.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The rate over the time from the first frame to the last: a late
	// start of the worker must not count.
	if pps := s.TxPPS(); s.TxPackets < 100 || pps < 1800 || pps > 2200 {
		t.Fatalf("sent %d frames in %v: %.0f pps, want 2000 (within 10 %%)", s.TxPackets, s.Active, pps)
	}
}

// TestCountIsExactOverQueues: workers on several queues claim from one
// count, and what arrives beyond it stays unclaimed.
func TestCountIsExactOverQueues(t *testing.T) {
	env := testutil.NewQuietEnv(t, netenv.Spec{Queues: 2})
	const n = 1000
	app := newApp(t, xskapp.Config{Kind: xskapp.RX, Interface: env.Outer.Interface, Queues: 2, Bind: xsk.ModeCopy,
		Count: n, Duration: 20 * time.Second})
	done := runInBackground(t, app)
	// More than n frames, on both queues (AF_XDP TX sockets on the inner
	// end's queues 0 and 1 reach the outer end's RX queues 0 and 1).
	errs := make(chan error, 2)
	for q := range uint32(2) {
		go func() { errs <- sendOnQueue(t, env, q, testFrame(env.Inner.MAC, env.Outer.MAC, 0), n) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s := <-done
	if s.RxPackets != n {
		t.Fatalf("received %d frames over 2 queues, want exactly %d", s.RxPackets, n)
	}
}

// sendOnQueue sends frame n times from queue q of the env's inner end,
// with an AF_XDP socket in copy mode (a veth hands its TX queue q to its
// peer's RX queue q). It may run on any goroutine.
func sendOnQueue(t *testing.T, env *netenv.Env, q uint32, frame []byte, n uint64) error {
	var app *xskapp.App
	err := env.Do(func() error {
		var err error
		app, err = xskapp.New(xskapp.Config{Kind: xskapp.TX, Interface: env.Inner.Interface, Queue: q, Bind: xsk.ModeCopy,
			Frame: frame, Count: n, PPS: 200000, Duration: 10 * time.Second})
		return err
	})
	if err != nil {
		return err
	}
	defer app.Close()
	if s, err := app.Run(t.Context()); err != nil || s.TxPackets != n {
		return fmt.Errorf("sending on queue %d: %d of %d frames sent, %v", q, s.TxPackets, n, err)
	}
	return nil
}
