package xsk

// TxRing is the TX ring: the process hands the kernel frames to send. The
// process is its producer; sent frames come back on the COMPLETION ring.
type TxRing struct {
	ring
	descs []Desc
}

// Reserve claims up to n free entries and returns the index of the first
// and how many it claimed (possibly 0). Write each with Set, then Submit
// and, when the socket asks for it, Socket.Kick.
func (t *TxRing) Reserve(n uint32) (idx, got uint32) { return t.reserve(n) }

// Set writes a descriptor into entry idx.
func (t *TxRing) Set(idx uint32, d Desc) { t.descs[idx&t.mask] = d }

// Submit hands the next n reserved entries to the kernel.
func (t *TxRing) Submit(n uint32) { t.submit(n) }

// Cancel gives back the last n reserved entries that were not submitted.
func (t *TxRing) Cancel(n uint32) { t.cancelReserve(n) }

// Free returns how many entries could be reserved now.
func (t *TxRing) Free() uint32 { return t.free() }

// NeedsWakeup reports whether the kernel asks for a sendto before it
// sends what TX holds; only meaningful when the socket was bound with
// NeedWakeup (otherwise every batch needs one).
func (t *TxRing) NeedsWakeup() bool { return t.needsWakeup() }
