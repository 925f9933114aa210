package xsk

// CompletionRing is the COMPLETION ring: the kernel returns the UMEM
// frames it has sent from TX. The process is its consumer.
type CompletionRing struct {
	ring
	addrs []uint64
}

// Peek claims up to n completed entries and returns the index of the first
// and how many it claimed (possibly 0). Read each with Addr, then Release.
func (c *CompletionRing) Peek(n uint32) (idx, got uint32) { return c.peek(n) }

// Addr returns the UMEM address of the frame in entry idx.
func (c *CompletionRing) Addr(idx uint32) uint64 { return c.addrs[idx&c.mask] }

// Release returns the next n peeked entries to the kernel.
func (c *CompletionRing) Release(n uint32) { c.release(n) }

// Cancel un-peeks the last n peeked entries that were not released.
func (c *CompletionRing) Cancel(n uint32) { c.cancelPeek(n) }

// Available returns how many completed entries are waiting.
func (c *CompletionRing) Available() uint32 { return c.available() }
