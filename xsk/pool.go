package xsk

import "fmt"

// FramePool is a stack of free UMEM frame addresses, for the one goroutine
// that drives a socket. Frames move between the pool and the rings with
// the batch helpers Socket.FillFrom and Socket.CompleteTo; nothing
// allocates after NewFramePool.
type FramePool struct {
	umem  *Umem
	addrs []uint64
	n     int
}

// NewFramePool returns a pool holding count frames of u starting at frame
// first: give each socket (or goroutine) its own range. It panics when the
// range runs past the UMEM's NumFrames: that is a bug of the caller.
func NewFramePool(u *Umem, first, count uint32) *FramePool {
	if uint64(first)+uint64(count) > uint64(u.NumFrames()) {
		panic(fmt.Sprintf("xsk: NewFramePool of %d frames from frame %d: the UMEM has only %d frames", count, first, u.NumFrames()))
	}
	p := &FramePool{umem: u, addrs: make([]uint64, count)}
	for i := range count {
		p.addrs[i] = u.FrameAddr(first + count - 1 - i)
	}
	p.n = int(count)
	return p
}

// Len returns how many frames the pool holds.
func (p *FramePool) Len() int { return p.n }

// Cap returns how many frames the pool was made with.
func (p *FramePool) Cap() int { return len(p.addrs) }

// Get takes a frame from the pool; false when it is empty.
func (p *FramePool) Get() (uint64, bool) {
	if p.n == 0 {
		return 0, false
	}
	p.n--
	return p.addrs[p.n], true
}

// Put returns a frame to the pool: any address within its chunk, such as
// a received descriptor's, which the pool keeps as the chunk's address
// (Umem.Chunk), what the FILL ring takes. A pool never holds more than it
// was made with: a surplus Put is dropped and reported false, which means
// a frame was returned twice.
func (p *FramePool) Put(addr uint64) bool {
	if p.n == len(p.addrs) {
		return false
	}
	p.addrs[p.n] = p.umem.Chunk(addr)
	p.n++
	return true
}

// FillFrom moves up to n frames from the pool to the FILL ring and returns
// how many it moved.
func (s *Socket) FillFrom(p *FramePool, n uint32) uint32 {
	n = min(n, uint32(p.n))
	if n == 0 {
		return 0
	}
	f := s.rings.fill
	idx, got := f.Reserve(n)
	for i := range got {
		p.n--
		f.Set(idx+i, p.addrs[p.n])
	}
	if got > 0 {
		f.Submit(got)
	}
	return got
}

// CompleteTo moves up to n sent frames from the COMPLETION ring back to
// the pool and returns how many completed (moved, or dropped: an address
// outside the UMEM, which the kernel returns for a TX descriptor it
// refused, never enters the pool).
func (s *Socket) CompleteTo(p *FramePool, n uint32) uint32 {
	c := s.rings.completion
	size := uint64(len(s.umem.mem))
	idx, got := c.Peek(min(n, uint32(len(p.addrs)-p.n)))
	for i := range got {
		if chunk := s.umem.Chunk(c.Addr(idx + i)); chunk < size {
			p.addrs[p.n] = chunk
			p.n++
		}
	}
	if got > 0 {
		c.Release(got)
	}
	return got
}
