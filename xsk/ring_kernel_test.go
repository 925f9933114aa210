package xsk_test

import (
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// TestRingKernelRoundTrip drives the four rings of a real socket, with
// the kernel on their other side, through many times their size, with
// odd batch sizes, partial reservations and cancels: every frame arrives
// once and in order, and every index comes back.
func TestRingKernelRoundTrip(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	const ringSize = 64
	cfg := xsk.UmemConfig{NumFrames: 512, FillSize: ringSize, CompletionSize: ringSize}
	rx := newRX(t, env, cfg, xsk.SocketConfig{Mode: xsk.ModeCopy, RxSize: ringSize, TxSize: ringSize})
	u, sock, pool := rx.umem, rx.sock, rx.pool
	fill, r := sock.Fill(), sock.RX()
	if fill.Size() != ringSize || r.Size() != ringSize || sock.TX().Size() != ringSize || sock.Completion().Size() != ringSize {
		t.Fatal("ring sizes")
	}
	// newRX filled FILL: it is full.
	if f := fill.Free(); f != 0 {
		t.Fatalf("Free() of a full FILL ring = %d", f)
	}
	if _, got := fill.Reserve(1); got != 0 {
		t.Fatalf("Reserve on a full FILL ring got %d", got)
	}

	// RX: 20 batches of 50 frames, 1000 in all: the indices go round the
	// 64-entry rings 15 times.
	sender := newInnerSender(t, env, 0)
	next := uint32(0)
	for batch := range uint32(20) {
		sender.send(t, env, batch*50, 50)
		deadline := time.Now().Add(5 * time.Second)
		for next < (batch+1)*50 && time.Now().Before(deadline) {
			idx, n := r.Peek(7)
			if n == 0 {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			// Handle all but the last peeked entry, un-peek that one:
			// the next Peek returns it first.
			keep := n
			if n > 1 {
				keep = n - 1
				r.Cancel(1)
			}
			for i := range keep {
				d := r.Desc(idx + i)
				pool.Put(u.Chunk(d.Addr))
				seq, ok := seqOf(u.Data(d.Addr, d.Len))
				if !ok {
					continue
				}
				if seq != next {
					t.Fatalf("frame %d where %d was due", seq, next)
				}
				next++
			}
			r.Release(keep)
			// Refill one at a time, then in a batch.
			if fidx, got := fill.Reserve(1); got == 1 && pool.Len() > 0 {
				a, _ := pool.Get()
				fill.Set(fidx, a)
				fill.Submit(1)
			} else if got == 1 {
				fill.Cancel(1)
			}
			sock.FillFrom(pool, ringSize)
		}
		if next != (batch+1)*50 {
			t.Fatalf("batch %d: received up to %d", batch, next)
		}
	}
	if a := r.Available(); a != 0 {
		t.Fatalf("%d entries left on RX", a)
	}
	// FILL is full again: all of the pool's other frames stay in it.
	if f := fill.Free(); f != 0 || pool.Len() != int(cfg.NumFrames)-ringSize {
		t.Fatalf("FILL Free %d, pool %d", fill.Free(), pool.Len())
	}

	// TX: a partial reservation, a cancel, then the rest.
	l := testutil.OpenPacketSocket(t, env.Inner, testEtherType)
	tx, c := sock.TX(), sock.Completion()
	idx, got := tx.Reserve(100)
	if got != ringSize {
		t.Fatalf("Reserve(100) on an empty %d-entry TX ring = %d", ringSize, got)
	}
	tx.Cancel(14)
	if f := tx.Free(); f != 14 {
		t.Fatalf("TX Free() after Cancel(14) = %d", f)
	}
	for i := range uint32(50) {
		a, _ := pool.Get()
		copy(u.Data(a, 64), testFrame(env.Outer.MAC, env.Inner.MAC, i))
		tx.Set(idx+i, xsk.Desc{Addr: a, Len: 64})
	}
	tx.Submit(20)
	tx.Submit(30)
	completed := map[uint64]bool{}
	deadline := time.Now().Add(5 * time.Second)
	for len(completed) < 50 && time.Now().Before(deadline) {
		if err := sock.Kick(); err != nil {
			t.Fatal(err)
		}
		cidx, n := c.Peek(16)
		for i := range n {
			completed[c.Addr(cidx+i)] = true
		}
		c.Release(n)
		if n == 0 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	if len(completed) != 50 {
		t.Fatalf("%d of 50 frames completed", len(completed))
	}
	if f := tx.Free(); f != ringSize {
		t.Fatalf("TX Free() after all completed = %d", f)
	}
	if seen, _ := countFrames(l, 50, 5*time.Second); len(seen) != 50 {
		t.Fatalf("inner end received %d of 50", len(seen))
	}
}
