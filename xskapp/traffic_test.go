package xskapp_test

import (
	"bytes"
	"encoding/binary"
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
		if sent-rx >= window {
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
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
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
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	const n = 20000
	app := newApp(t, xskapp.Config{Kind: xskapp.RX, Interface: env.Outer.Interface, Bind: xsk.ModeCopy, Count: n, Duration: 20 * time.Second})
	sock := testutil.OpenPacketSocket(t, env.Inner, etherTest)
	frame := testFrame(env.Inner.MAC, env.Outer.MAC, 0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	done := make(chan xskapp.Stats, 1)
	go func() {
		s, err := app.Run(t.Context())
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		done <- s
	}()
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
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
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
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	app := newApp(t, xskapp.Config{Kind: xskapp.TX, Interface: env.Outer.Interface, Bind: xsk.ModeCopy, PPS: 2000,
		Frame: testFrame(env.Outer.MAC, env.Inner.MAC, 7), Duration: 500 * time.Millisecond})
	s, err := app.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// 2000 pps for half a second: about 1000 frames.
	if s.TxPackets < 800 || s.TxPackets > 1100 {
		t.Fatalf("sent %d frames in %v at 2000 pps, want about 1000", s.TxPackets, s.Elapsed)
	}
}
