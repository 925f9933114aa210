package xskapp

import (
	"sync/atomic"
	"time"

	"github.com/xdpkit/xdpkit/responder"
	"github.com/xdpkit/xdpkit/xsk"
)

// Stats is a snapshot of an App, readable at any time with App.Stats.
type Stats struct {
	// Elapsed is the time since Run started, or the run's length once it
	// ended.
	Elapsed time.Duration
	// Totals over all queues.
	Counters
	// Socket sums the sockets' drop counters (XDP_STATISTICS).
	Socket xsk.Statistics
	// Queues holds each queue's share, in queue order.
	Queues []QueueStats
	// Program holds what the redirect program did per queue; nil with a
	// pinned XSKMAP of one's own or for tx.
	Program []xsk.QueueCounters
	// Done reports whether the run has ended.
	Done bool
}

// Counters are what the workers counted.
type Counters struct {
	RxPackets, RxBytes uint64
	TxPackets, TxBytes uint64
	// TxDropped are received frames fwd or ping could not queue for TX
	// (TX ring full): recycled unsent.
	TxDropped uint64
	// Replies counts ping's replies by kind (indexed by responder.Kind).
	Replies responder.Counts
	// Active is the time from the first frame received (or sent, for tx)
	// to the last: rates are counted over it.
	Active time.Duration
}

// QueueStats is one queue's share.
type QueueStats struct {
	Queue uint32
	Counters
	Socket xsk.Statistics
}

// RxPPS and TxPPS return the received and sent frames per second over
// Active.
func (c Counters) RxPPS() float64 { return rate(c.RxPackets, c.Active) }

// TxPPS returns the frames sent per second over Active.
func (c Counters) TxPPS() float64 { return rate(c.TxPackets, c.Active) }

func rate(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// local is a worker's own count, in plain integers: only its goroutine
// touches it.
type local struct {
	rxPackets, rxBytes uint64
	txPackets, txBytes uint64
	txDropped          uint64
	replies            responder.Counts
	first, last        int64
}

// counters is what a worker published of its count: written by the
// worker every few batches and when it goes idle, read by Stats at any
// time.
type counters struct {
	rxPackets, rxBytes atomic.Uint64
	txPackets, txBytes atomic.Uint64
	txDropped          atomic.Uint64
	replies            [len(responder.Counts{})]atomic.Uint64
	// first and last are monotonic nanoseconds since the App's start of
	// the first and the latest frame; first is 0 until then.
	first, last atomic.Int64
	_           [64]byte // keep workers' counters off each other's cache lines
}

func (c *counters) snapshot() Counters {
	var s Counters
	s.RxPackets = c.rxPackets.Load()
	s.RxBytes = c.rxBytes.Load()
	s.TxPackets = c.txPackets.Load()
	s.TxBytes = c.txBytes.Load()
	s.TxDropped = c.txDropped.Load()
	for i := range c.replies {
		s.Replies[i] = c.replies[i].Load()
	}
	if first := c.first.Load(); first != 0 {
		s.Active = time.Duration(c.last.Load() - first)
	}
	return s
}

func (s *Counters) add(o Counters) {
	s.RxPackets += o.RxPackets
	s.RxBytes += o.RxBytes
	s.TxPackets += o.TxPackets
	s.TxBytes += o.TxBytes
	s.TxDropped += o.TxDropped
	for i := range s.Replies {
		s.Replies[i] += o.Replies[i]
	}
	s.Active = max(s.Active, o.Active)
}

func addStats(a *xsk.Statistics, b xsk.Statistics) {
	a.RxDropped += b.RxDropped
	a.RxInvalidDescs += b.RxInvalidDescs
	a.TxInvalidDescs += b.TxInvalidDescs
	a.RxRingFull += b.RxRingFull
	a.RxFillRingEmpty += b.RxFillRingEmpty
	a.TxRingEmpty += b.TxRingEmpty
}
