package xsk

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// The ring logic without the kernel: a ring's shared words (producer,
// consumer, flags) and entries live in Go memory, and a second ring value
// over the same words plays the kernel's side. A FillRing or TxRing is a
// producer; a CompletionRing or RxRing over the same memory is its
// consumer, exactly as the kernel consumes FILL and TX.

// sharedWords are the producer, consumer and flags words of a ring.
type sharedWords struct {
	producer, consumer, flags uint32
}

func testRing(w *sharedWords, size uint32) ring {
	return ring{producer: &w.producer, consumer: &w.consumer, flags: &w.flags, mask: size - 1, size: size}
}

// addrRings returns a FILL-like producer and a COMPLETION-like consumer
// over the same words and entries, both starting at index start.
func addrRings(size, start uint32) (*FillRing, *CompletionRing, *sharedWords) {
	w := &sharedWords{producer: start, consumer: start}
	addrs := make([]uint64, size)
	p := &FillRing{ring: testRing(w, size), addrs: addrs}
	p.initProducer()
	c := &CompletionRing{ring: testRing(w, size), addrs: addrs}
	c.initConsumer()
	return p, c, w
}

// descRings returns a TX-like producer and an RX-like consumer over the
// same words and descriptors.
func descRings(size, start uint32) (*TxRing, *RxRing, *sharedWords) {
	w := &sharedWords{producer: start, consumer: start}
	descs := make([]Desc, size)
	p := &TxRing{ring: testRing(w, size), descs: descs}
	p.initProducer()
	c := &RxRing{ring: testRing(w, size), descs: descs}
	c.initConsumer()
	return p, c, w
}

func TestRingReserveSubmitPeekRelease(t *testing.T) {
	p, c, w := addrRings(8, 0)
	if p.Size() != 8 || c.Size() != 8 {
		t.Fatalf("sizes %d, %d", p.Size(), c.Size())
	}
	if f := p.Free(); f != 8 {
		t.Fatalf("Free() of an empty ring = %d, want 8", f)
	}
	idx, got := p.Reserve(5)
	if idx != 0 || got != 5 {
		t.Fatalf("Reserve(5) = %d, %d; want 0, 5", idx, got)
	}
	for i := range got {
		p.Set(idx+i, uint64(100+i))
	}
	// Nothing is visible before Submit.
	if _, n := c.Peek(8); n != 0 || c.Available() != 0 || w.producer != 0 {
		t.Fatalf("consumer sees %d entries (available %d, producer %d) before Submit", n, c.Available(), w.producer)
	}
	p.Submit(5)
	if w.producer != 5 {
		t.Fatalf("producer word %d after Submit(5), want 5", w.producer)
	}
	if a := c.Available(); a != 5 {
		t.Fatalf("Available() = %d, want 5", a)
	}
	idx, got = c.Peek(3)
	if idx != 0 || got != 3 {
		t.Fatalf("Peek(3) = %d, %d; want 0, 3", idx, got)
	}
	for i := range got {
		if a := c.Addr(idx + i); a != uint64(100+i) {
			t.Fatalf("entry %d = %d, want %d", idx+i, a, 100+i)
		}
	}
	// Peeked but not released: the producer cannot reuse them.
	if f := p.Free(); f != 3 {
		t.Fatalf("Free() = %d before Release, want 3", f)
	}
	c.Release(got)
	if w.consumer != 3 {
		t.Fatalf("consumer word %d after Release(3), want 3", w.consumer)
	}
	if f := p.Free(); f != 6 {
		t.Fatalf("Free() = %d after Release(3), want 6", f)
	}
	// A partial reservation: ask for more than is free.
	idx, got = p.Reserve(100)
	if idx != 5 || got != 6 {
		t.Fatalf("Reserve(100) = %d, %d; want 5, 6", idx, got)
	}
	if _, more := p.Reserve(1); more != 0 {
		t.Fatalf("Reserve on a full ring got %d", more)
	}
	for i := range got {
		p.Set(idx+i, uint64(105+i)) // indices 5..10 wrap past the 8 slots
	}
	p.Submit(got)
	// The consumer's rest: 3 and 4 from its cache (like libxdp, it looks
	// at the producer index again only when the cache is used up), then
	// 5..10.
	idx, got = c.Peek(100)
	if idx != 3 || got != 2 {
		t.Fatalf("Peek(100) = %d, %d; want 3, 2 (the cached entries)", idx, got)
	}
	idx2, got2 := c.Peek(100)
	if idx2 != 5 || got2 != 6 {
		t.Fatalf("second Peek(100) = %d, %d; want 5, 6", idx2, got2)
	}
	got += got2
	for i := range got {
		if a := c.Addr(idx + i); a != uint64(103+i) {
			t.Fatalf("entry %d = %d, want %d", idx+i, a, 103+i)
		}
	}
	c.Release(got)
	if p.Free() != 8 || c.Available() != 0 {
		t.Fatalf("after draining: Free %d, Available %d", p.Free(), c.Available())
	}
	// A batch may be released in parts.
	idx, got = p.Reserve(4)
	for i := range got {
		p.Set(idx+i, uint64(i))
	}
	p.Submit(2)
	p.Submit(2)
	if w.producer != 15 {
		t.Fatalf("producer word %d after two Submit(2), want 15", w.producer)
	}
	_, got = c.Peek(4)
	c.Release(1)
	c.Release(got - 1)
	if w.consumer != 15 {
		t.Fatalf("consumer word %d, want 15", w.consumer)
	}
}

func TestRingCancel(t *testing.T) {
	p, c, w := addrRings(8, 0)
	idx, got := p.Reserve(6)
	if got != 6 {
		t.Fatal(got)
	}
	for i := range got {
		p.Set(idx+i, uint64(i))
	}
	// Keep 4, give 2 back: the next reservation starts where they were.
	p.Cancel(2)
	if f := p.Free(); f != 4 {
		t.Fatalf("Free() = %d after Cancel(2), want 4", f)
	}
	idx2, got2 := p.Reserve(2)
	if idx2 != 4 || got2 != 2 {
		t.Fatalf("Reserve(2) after Cancel = %d, %d; want 4, 2", idx2, got2)
	}
	p.Set(idx2, 40)
	p.Set(idx2+1, 50)
	p.Submit(6)
	if w.producer != 6 {
		t.Fatalf("producer %d", w.producer)
	}
	idx, got = c.Peek(8)
	want := []uint64{0, 1, 2, 3, 40, 50}
	if got != 6 {
		t.Fatalf("Peek = %d entries", got)
	}
	for i := range got {
		if a := c.Addr(idx + i); a != want[i] {
			t.Fatalf("entry %d = %d, want %d", i, a, want[i])
		}
	}
	// The consumer's Cancel un-peeks: the same entries come again.
	c.Cancel(4)
	idx, got = c.Peek(8)
	if idx != 2 || got != 4 {
		t.Fatalf("Peek after Cancel(4) = %d, %d; want 2, 4", idx, got)
	}
	if c.Addr(idx) != 2 {
		t.Fatalf("entry %d = %d after Cancel", idx, c.Addr(idx))
	}
	c.Release(6)
	if w.consumer != 6 || p.Free() != 8 {
		t.Fatalf("consumer %d, Free %d", w.consumer, p.Free())
	}
	// Cancel of everything reserved leaves the ring as it was.
	_, got = p.Reserve(8)
	p.Cancel(got)
	if p.cachedProd != p.published || p.Free() != 8 {
		t.Fatalf("after reserving and cancelling all: cachedProd %d published %d Free %d", p.cachedProd, p.published, p.Free())
	}
}

// The cached indices: a batch that the cache covers reads no shared word,
// and a batch it does not cover reads it once.
func TestRingCachedIndices(t *testing.T) {
	p, c, w := addrRings(16, 0)
	_, got := p.Reserve(4)
	p.Submit(got)

	// The consumer's first Peek loads the producer index (4); later
	// submissions are not seen while the cache still covers the batch.
	if _, n := c.Peek(2); n != 2 {
		t.Fatal(n)
	}
	if c.cachedProd != 4 {
		t.Fatalf("cachedProd %d, want 4", c.cachedProd)
	}
	_, got = p.Reserve(4)
	p.Submit(got) // producer word is 8 now
	if _, n := c.Peek(2); n != 2 || c.cachedProd != 4 {
		t.Fatalf("Peek(2) from the cache = %d, cachedProd %d; want 2, 4 (no reload)", n, c.cachedProd)
	}
	// The cache is empty: the next Peek reloads and sees the rest.
	if idx, n := c.Peek(16); idx != 4 || n != 4 || c.cachedProd != 8 {
		t.Fatalf("Peek(16) = %d, %d, cachedProd %d; want 4, 4, 8", idx, n, c.cachedProd)
	}

	// The producer's cachedCons is consumer+size as last seen: 0+16.
	if p.cachedCons != 16 {
		t.Fatalf("producer cachedCons %d, want 16", p.cachedCons)
	}
	c.Release(8)
	// 8 free by the cache: Reserve(8) does not reload...
	if _, n := p.Reserve(8); n != 8 || p.cachedCons != 16 {
		t.Fatalf("Reserve(8) = %d, cachedCons %d; want 8, 16", n, p.cachedCons)
	}
	// ...Reserve(1) on a full cache does, and finds the 8 released.
	if idx, n := p.Reserve(1); idx != 16 || n != 1 || p.cachedCons != 24 {
		t.Fatalf("Reserve(1) = %d, %d, cachedCons %d; want 16, 1, 24", idx, n, p.cachedCons)
	}
	if w.producer != 8 || w.consumer != 8 {
		t.Fatalf("shared words %+v", *w)
	}
}

// Indices are free-running uint32s: they wrap at 2^32, and every
// difference is taken modulo 2^32.
func TestRingWrapAround(t *testing.T) {
	const size = 8
	start := uint32(math.MaxUint32 - 20)
	p, c, w := addrRings(size, start)
	if p.Free() != size || c.Available() != 0 {
		t.Fatalf("near 2^32: Free %d, Available %d", p.Free(), c.Available())
	}
	next, want := uint64(0), uint64(0)
	for round := range 20 {
		// Uneven batches so that batches straddle the slot array's end
		// and the 2^32 wrap.
		n := uint32(round%size + 1)
		idx, got := p.Reserve(n)
		if idx != start+uint32(next) {
			t.Fatalf("round %d: Reserve at %d, want %d", round, idx, start+uint32(next))
		}
		for i := range got {
			p.Set(idx+i, next)
			next++
		}
		p.Submit(got)
		if a := c.Available(); a != got {
			t.Fatalf("round %d: Available %d, want %d", round, a, got)
		}
		idx, got2 := c.Peek(size)
		if got2 != got {
			t.Fatalf("round %d: Peek got %d, want %d", round, got2, got)
		}
		for i := range got2 {
			if a := c.Addr(idx + i); a != want {
				t.Fatalf("round %d: entry %d = %d, want %d", round, idx+i, a, want)
			}
			want++
		}
		c.Release(got2)
	}
	if w.producer >= start || w.consumer != w.producer {
		t.Fatalf("indices did not wrap: %+v (start %d)", *w, start)
	}
	if p.Free() != size {
		t.Fatalf("Free after wrapping %d", p.Free())
	}
}

// A producer and a consumer on two goroutines, the kernel's way: every
// entry arrives once, in order, across many wraps of the slot array and
// of 2^32. Run with -race: the entries are plain memory, ordered only by
// the atomic indices.
func TestRingConcurrentSPSC(t *testing.T) {
	const total = 200_000
	p, c, _ := descRings(64, math.MaxUint32-1000)
	var wg sync.WaitGroup
	var stop atomic.Bool
	defer func() { stop.Store(true); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		var seq uint64
		for seq < total && !stop.Load() {
			idx, got := p.Reserve(uint32(min(17, total-seq)))
			for i := range got {
				p.Set(idx+i, Desc{Addr: seq, Len: uint32(seq), Options: uint32(seq >> 32)})
				seq++
			}
			if got > 0 {
				p.Submit(got)
			} else {
				runtime.Gosched() // the machine may have one free CPU
			}
		}
	}()
	var want uint64
	for want < total {
		idx, got := c.Peek(23)
		for i := range got {
			d := c.Desc(idx + i)
			if d.Addr != want || d.Len != uint32(want) {
				t.Fatalf("entry %d: %+v", want, d)
			}
			want++
		}
		if got > 0 {
			c.Release(got)
		} else {
			runtime.Gosched()
		}
	}
	if c.Available() != 0 {
		t.Fatalf("%d entries left", c.Available())
	}
}

func TestRingNeedsWakeup(t *testing.T) {
	p, _, w := addrRings(8, 0)
	tx, _, wt := descRings(8, 0)
	if p.NeedsWakeup() || tx.NeedsWakeup() {
		t.Fatal("need_wakeup without the flag")
	}
	atomic.StoreUint32(&w.flags, xdpRingNeedWakeup)
	atomic.StoreUint32(&wt.flags, xdpRingNeedWakeup)
	if !p.NeedsWakeup() || !tx.NeedsWakeup() {
		t.Fatal("no need_wakeup with XDP_RING_NEED_WAKEUP set")
	}
}

func TestRingOpsDoNotAllocate(t *testing.T) {
	p, c, _ := addrRings(64, 0)
	tx, rx, _ := descRings(64, 0)
	allocs := testing.AllocsPerRun(1000, func() {
		idx, got := p.Reserve(16)
		for i := range got {
			p.Set(idx+i, uint64(i))
		}
		p.Submit(got)
		idx, got = c.Peek(16)
		for i := range got {
			_ = c.Addr(idx + i)
		}
		c.Release(got)
		idx, got = tx.Reserve(16)
		for i := range got {
			tx.Set(idx+i, Desc{Addr: uint64(i), Len: 64})
		}
		tx.Submit(got)
		idx, got = rx.Peek(16)
		for i := range got {
			_ = rx.Desc(idx + i)
		}
		rx.Release(got)
		_ = p.Free() + c.Available() + tx.Free() + rx.Available()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per ring batch, want 0", allocs)
	}
}
