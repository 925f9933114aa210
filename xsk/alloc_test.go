package xsk_test

import (
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// TestHotPathsDoNotAllocate measures, on a real socket with real frames,
// one iteration of an RX loop (Peek, Desc, Data, Chunk, Release, FillFrom)
// and of a TX loop (Reserve, Set, Submit, Kick, CompleteTo), and the
// wakeup calls: none allocates.
func TestHotPathsDoNotAllocate(t *testing.T) {
	for _, wakeup := range []bool{false, true} {
		name := "always-kick"
		if wakeup {
			name = "need-wakeup"
		}
		t.Run(name, func(t *testing.T) { testHotPaths(t, wakeup) })
	}
}

func testHotPaths(t *testing.T, needWakeup bool) {
	const (
		runs  = 100
		batch = 8
	)
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	rx := newRX(t, env, xsk.UmemConfig{}, xsk.SocketConfig{Mode: xsk.ModeCopy, NeedWakeup: needWakeup})
	u, sock, pool := rx.umem, rx.sock, rx.pool

	// Frames for every RX iteration, waiting on the RX ring.
	want := (runs + 1) * batch
	sender := newInnerSender(t, env, 0)
	sender.send(t, env, 0, want)
	deadline := time.Now().Add(5 * time.Second)
	for sock.RX().Available() < uint32(want) && time.Now().Before(deadline) {
		sock.WakeRX()
		time.Sleep(time.Millisecond)
	}
	if a := sock.RX().Available(); a < uint32(want) {
		t.Fatalf("%d frames on RX, want %d", a, want)
	}

	r := sock.RX()
	var frames, bytes int
	allocs := testing.AllocsPerRun(runs, func() {
		idx, n := r.Peek(batch)
		for i := range n {
			d := r.Desc(idx + i)
			f := u.Data(d.Addr, d.Len)
			bytes += len(f)
			pool.Put(u.Chunk(d.Addr))
		}
		r.Release(n)
		sock.FillFrom(pool, n)
		frames += int(n)
	})
	if frames != want || bytes < want*64 {
		t.Fatalf("RX loop handled %d frames (%d bytes), want %d", frames, bytes, want)
	}
	if allocs != 0 {
		t.Errorf("RX loop: %v allocations per iteration, want 0", allocs)
	}

	tx := sock.TX()
	frame := testFrame(env.Outer.MAC, env.Inner.MAC, 0)
	var sent, completed int
	allocs = testing.AllocsPerRun(runs, func() {
		idx, got := tx.Reserve(1)
		if got == 1 {
			addr, _ := pool.Get()
			copy(u.Data(addr, uint32(len(frame))), frame)
			tx.Set(idx, xsk.Desc{Addr: addr, Len: uint32(len(frame))})
			tx.Submit(1)
			sent++
		}
		if err := sock.Kick(); err != nil {
			panic(err)
		}
		completed += int(sock.CompleteTo(pool, 64))
	})
	if allocs != 0 {
		t.Errorf("TX loop: %v allocations per iteration, want 0", allocs)
	}
	if sent != runs+1 {
		t.Errorf("TX loop sent %d frames, want %d", sent, runs+1)
	}
	for deadline := time.Now().Add(5 * time.Second); completed < sent && time.Now().Before(deadline); {
		sock.Kick()
		completed += int(sock.CompleteTo(pool, 64))
		time.Sleep(time.Millisecond)
	}
	if completed != sent {
		t.Errorf("%d of %d frames completed", completed, sent)
	}

	allocs = testing.AllocsPerRun(runs, func() {
		if err := sock.Kick(); err != nil {
			panic(err)
		}
		if err := sock.WakeRX(); err != nil {
			panic(err)
		}
		if _, err := sock.Poll(0, true); err != nil {
			panic(err)
		}
		_ = sock.Fill().Free() + sock.Completion().Available() + r.Available() + tx.Free()
	})
	if allocs != 0 {
		t.Errorf("Kick, WakeRX, Poll: %v allocations per call, want 0", allocs)
	}
	// Stats may allocate; it must work.
	if st, err := sock.Stats(); err != nil || st.RxInvalidDescs != 0 || st.TxInvalidDescs != 0 {
		t.Errorf("Stats() = %+v, %v", st, err)
	}
}
