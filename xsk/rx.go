package xsk

// Desc is an RX or TX descriptor (struct xdp_desc): a frame's UMEM address,
// its length, and options (XDP_PKT_CONTD for multi-buffer frames).
type Desc struct {
	Addr    uint64
	Len     uint32
	Options uint32
}

// RxRing is the RX ring: the kernel hands the process the frames it has
// received. The process is its consumer.
type RxRing struct {
	ring
	descs []Desc
}

// Peek claims up to n received descriptors and returns the index of the
// first and how many it claimed (possibly 0). Read each with Desc, then
// Release.
func (r *RxRing) Peek(n uint32) (idx, got uint32) { return r.peek(n) }

// Desc returns the descriptor in entry idx.
func (r *RxRing) Desc(idx uint32) Desc { return r.descs[idx&r.mask] }

// Release returns the next n peeked entries to the kernel.
func (r *RxRing) Release(n uint32) { r.release(n) }

// Cancel un-peeks the last n peeked entries that were not released.
func (r *RxRing) Cancel(n uint32) { r.cancelPeek(n) }

// Available returns how many received descriptors are waiting.
func (r *RxRing) Available() uint32 { return r.available() }
