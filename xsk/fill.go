package xsk

// FillRing is the FILL ring: the process gives the kernel UMEM frames to
// write received frames into. The process is its producer.
type FillRing struct {
	ring
	addrs []uint64
}

// Reserve claims up to n free entries and returns the index of the first
// and how many it claimed (possibly 0). Write each with Set, then Submit.
func (f *FillRing) Reserve(n uint32) (idx, got uint32) { return f.reserve(n) }

// Set writes the UMEM address of a frame into entry idx.
func (f *FillRing) Set(idx uint32, addr uint64) { f.addrs[idx&f.mask] = addr }

// Submit hands the next n reserved entries to the kernel.
func (f *FillRing) Submit(n uint32) { f.submit(n) }

// Cancel gives back the last n reserved entries that were not submitted.
func (f *FillRing) Cancel(n uint32) { f.cancelReserve(n) }

// Free returns how many entries could be reserved now.
func (f *FillRing) Free() uint32 { return f.free() }

// NeedsWakeup reports whether the kernel asks to be woken (poll or
// recvfrom) before it takes more frames from FILL; only meaningful when the
// socket was bound with NeedWakeup.
func (f *FillRing) NeedsWakeup() bool { return f.needsWakeup() }
