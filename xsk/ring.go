package xsk

import "sync/atomic"

// ring is the part every AF_XDP ring shares: the producer and consumer
// indices and the flags word in the ring's mapping, the size mask, and the
// cached copies of the indices that let a batch touch the shared words
// once.
//
// Memory ordering: a producer writes its entries and then publishes them
// with one atomic store of the producer index (release); a consumer loads
// the producer index atomically (acquire) before it reads entries, and
// returns them with one atomic store of the consumer index after it has
// read them. The kernel pairs these with smp_load_acquire and
// smp_store_release. Go's atomics are sequentially consistent, which is at
// least as strong.
type ring struct {
	producer *uint32
	consumer *uint32
	flags    *uint32
	mask     uint32
	size     uint32
	// cachedProd and cachedCons are this side's view. On a producer ring,
	// cachedProd is the next index to reserve and cachedCons is the
	// consumer index plus size (so free = cachedCons - cachedProd); on a
	// consumer ring, cachedCons is the next index to peek and cachedProd
	// the last producer index seen.
	cachedProd uint32
	cachedCons uint32
	// published is the index this side last stored: producer index on a
	// producer ring, consumer index on a consumer ring.
	published uint32
	mapping   []byte
}

// Size returns the number of entries of the ring.
func (r *ring) Size() uint32 { return r.size }

// needsWakeup reports whether the kernel set XDP_RING_NEED_WAKEUP.
func (r *ring) needsWakeup() bool {
	return atomic.LoadUint32(r.flags)&xdpRingNeedWakeup != 0
}

// xdpRingNeedWakeup is XDP_RING_NEED_WAKEUP.
const xdpRingNeedWakeup = 1

// initProducer sets the caches of a producer ring from the shared words.
func (r *ring) initProducer() {
	r.cachedProd = atomic.LoadUint32(r.producer)
	r.published = r.cachedProd
	r.cachedCons = atomic.LoadUint32(r.consumer) + r.size
}

// initConsumer sets the caches of a consumer ring from the shared words.
func (r *ring) initConsumer() {
	r.cachedCons = atomic.LoadUint32(r.consumer)
	r.published = r.cachedCons
	r.cachedProd = atomic.LoadUint32(r.producer)
}

// reserve claims up to n free entries of a producer ring and returns the
// index of the first and how many it claimed.
func (r *ring) reserve(n uint32) (idx, got uint32) {
	free := r.cachedCons - r.cachedProd
	if free < n {
		r.cachedCons = atomic.LoadUint32(r.consumer) + r.size
		free = r.cachedCons - r.cachedProd
	}
	got = min(n, free)
	idx = r.cachedProd
	r.cachedProd += got
	return idx, got
}

// free returns how many entries a producer ring could reserve now.
func (r *ring) free() uint32 {
	r.cachedCons = atomic.LoadUint32(r.consumer) + r.size
	return r.cachedCons - r.cachedProd
}

// submit publishes the next n reserved entries of a producer ring.
func (r *ring) submit(n uint32) {
	r.published += n
	atomic.StoreUint32(r.producer, r.published)
}

// cancelReserve gives back the last n reserved, unsubmitted entries.
func (r *ring) cancelReserve(n uint32) { r.cachedProd -= n }

// peek claims up to n filled entries of a consumer ring and returns the
// index of the first and how many it claimed.
func (r *ring) peek(n uint32) (idx, got uint32) {
	// Like libxdp, look at the kernel's producer index only when the
	// cached entries are used up: each look pulls in a cache line the
	// kernel is writing on another CPU.
	avail := r.cachedProd - r.cachedCons
	if avail == 0 {
		r.cachedProd = atomic.LoadUint32(r.producer)
		avail = r.cachedProd - r.cachedCons
	}
	got = min(n, avail)
	idx = r.cachedCons
	r.cachedCons += got
	return idx, got
}

// release returns the next n peeked entries of a consumer ring to the
// kernel.
func (r *ring) release(n uint32) {
	r.published += n
	atomic.StoreUint32(r.consumer, r.published)
}

// cancelPeek un-peeks the last n peeked, unreleased entries.
func (r *ring) cancelPeek(n uint32) { r.cachedCons -= n }

// available returns how many entries a consumer ring holds now.
func (r *ring) available() uint32 {
	r.cachedProd = atomic.LoadUint32(r.producer)
	return r.cachedProd - r.cachedCons
}
