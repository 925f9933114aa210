package xsk_test

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// TestNeedWakeup receives and transmits with XDP_USE_NEED_WAKEUP: the
// loop sleeps in Poll, wakes the kernel with WakeRX and Kick only when a
// ring asks for it, and lets Poll drive TX.
func TestNeedWakeup(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	rx := newRX(t, env, smallUmem(), xsk.SocketConfig{Mode: xsk.ModeCopy, NeedWakeup: true, RxSize: 128, TxSize: 128})
	u, sock, pool := rx.umem, rx.sock, rx.pool
	if !sock.NeedWakeup() {
		t.Fatal("NeedWakeup() false on a socket bound with NeedWakeup")
	}
	// The kernel asks for the first TX wakeup (and in copy mode for
	// every one).
	if !sock.TX().NeedsWakeup() {
		t.Error("TX ring does not ask for a wakeup after bind")
	}

	sender := newInnerSender(t, env, 0)
	for batch := range uint32(3) {
		sender.send(t, env, batch*100, 100)
		got := map[uint32]int{}
		deadline := time.Now().Add(5 * time.Second)
		for len(got) < 100 && time.Now().Before(deadline) {
			r := sock.RX()
			idx, n := r.Peek(64)
			if n == 0 {
				if err := sock.WakeRX(); err != nil {
					t.Fatal(err)
				}
				if _, err := sock.Poll(100*time.Millisecond, false); err != nil {
					t.Fatal(err)
				}
				continue
			}
			for i := range n {
				d := r.Desc(idx + i)
				f := u.Data(d.Addr, d.Len)
				if seq, ok := seqOf(f); ok {
					got[seq]++
				}
				pool.Put(u.Chunk(d.Addr))
			}
			r.Release(n)
			sock.FillFrom(pool, n)
		}
		if len(got) != 100 {
			t.Fatalf("batch %d: received %d of 100", batch, len(got))
		}
	}

	// TX with Kick.
	l := testutil.OpenPacketSocket(t, env.Inner, testEtherType)
	frames := make([][]byte, 300)
	for i := range frames {
		frames[i] = testFrame(env.Outer.MAC, env.Inner.MAC, uint32(i))
	}
	transmit(t, sock, pool, frames, 5*time.Second)
	if seen, _ := countFrames(l, 300, 5*time.Second); len(seen) != 300 {
		t.Fatalf("inner end received %d of 300 frames sent with Kick", len(seen))
	}

	// TX driven by Poll alone.
	tx := sock.TX()
	idx, got := tx.Reserve(20)
	if got != 20 {
		t.Fatalf("Reserve(20) = %d", got)
	}
	for i := range got {
		addr, _ := pool.Get()
		copy(u.Data(addr, 64), testFrame(env.Outer.MAC, env.Inner.MAC, 1000+i))
		tx.Set(idx+i, xsk.Desc{Addr: addr, Len: 64})
	}
	tx.Submit(got)
	completed := uint32(0)
	deadline := time.Now().Add(5 * time.Second)
	for completed < 20 && time.Now().Before(deadline) {
		if _, err := sock.Poll(10*time.Millisecond, true); err != nil {
			t.Fatal(err)
		}
		completed += sock.CompleteTo(pool, 64)
	}
	if completed != 20 {
		t.Fatalf("%d of 20 frames completed with Poll", completed)
	}
	if seen, _ := countFrames(l, 20, 5*time.Second); len(seen) != 20 {
		t.Fatalf("inner end received %d of 20 frames sent with Poll", len(seen))
	}

	// A socket sharing the UMEM takes need_wakeup from the first one.
	shared, err := xsk.NewSocket(u, xsk.SocketConfig{Interface: env.Outer.Interface, NeedWakeup: true, RxSize: 64, TxSize: 64})
	if err != nil {
		t.Fatalf("shared socket with NeedWakeup: %v", err)
	}
	defer shared.Close()
	if !shared.NeedWakeup() {
		t.Error("shared socket does not report NeedWakeup")
	}
	// Nothing comes to it (it is in no XSKMAP): Poll times out.
	start := time.Now()
	ready, err := shared.Poll(20*time.Millisecond, false)
	if err != nil || ready {
		t.Fatalf("Poll on an idle socket = %v, %v", ready, err)
	}
	if el := time.Since(start); el < 15*time.Millisecond {
		t.Errorf("Poll(20ms) returned after %v", el)
	}
	if _, err := xsk.NewSocket(u, xsk.SocketConfig{Interface: env.Outer.Interface}); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("shared socket without NeedWakeup on a need_wakeup UMEM: %v; want os.ErrInvalid", err)
	}
}

// TestBusyPoll receives and transmits on a socket that busy-polls
// (SO_BUSY_POLL 20µs, SO_BUSY_POLL_BUDGET 16, SO_PREFER_BUSY_POLL), with
// and without need_wakeup: WakeRX and Kick, which then make their syscall
// every time, drive both directions.
func TestBusyPoll(t *testing.T) {
	for _, wakeup := range []bool{false, true} {
		t.Run(fmt.Sprintf("need-wakeup=%v", wakeup), func(t *testing.T) {
			env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
			bp := &xsk.BusyPoll{Timeout: 20 * time.Microsecond, Budget: 16, Prefer: true}
			rx := newRX(t, env, smallUmem(), xsk.SocketConfig{Mode: xsk.ModeCopy, NeedWakeup: wakeup, BusyPoll: bp, RxSize: 128, TxSize: 128})
			if rx.sock.NeedWakeup() != wakeup {
				t.Fatalf("NeedWakeup() = %v, want %v", rx.sock.NeedWakeup(), wakeup)
			}
			sender := newInnerSender(t, env, 0)
			for batch := range uint32(3) {
				sender.send(t, env, batch*100, 100)
				if seen := receive(t, rx.sock, rx.pool, 100, 5*time.Second); len(seen) != 100 {
					t.Fatalf("batch %d: received %d of 100", batch, len(seen))
				}
			}
			l := testutil.OpenPacketSocket(t, env.Inner, testEtherType)
			frames := make([][]byte, 200)
			for i := range frames {
				frames[i] = testFrame(env.Outer.MAC, env.Inner.MAC, uint32(i))
			}
			transmit(t, rx.sock, rx.pool, frames, 5*time.Second)
			if seen, _ := countFrames(l, len(frames), 5*time.Second); len(seen) != len(frames) {
				t.Fatalf("inner end received %d of %d frames", len(seen), len(frames))
			}
		})
	}
}
