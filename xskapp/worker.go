package xskapp

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/xdpkit/xdpkit/responder"
	"github.com/xdpkit/xdpkit/xsk"
)

// idleBeforePoll is how long a worker spins on empty rings before it
// sleeps in poll: a stream of frames, even a paced one with gaps between
// bursts, never waits for a wakeup (which costs tens of microseconds, and
// frames dropped from an empty FILL ring meanwhile), and an idle worker
// does not burn a CPU. The clock is read every spinsPerClock empty spins.
const (
	idleBeforePoll = time.Millisecond
	spinsPerClock  = 64
)

// pollTimeout bounds a worker's sleep, and so how long Stop takes.
const pollTimeout = 10 * time.Millisecond

// worker drives one socket's rings. Only its goroutine touches the rings
// and the pool; its counters are read by Stats.
type worker struct {
	a     *App
	sock  *xsk.Socket
	umem  *xsk.Umem
	pool  *xsk.FramePool
	batch uint32
	resp  *responder.Responder
	// tx: the frame's length, this worker's share of Count and PPS.
	frameLen uint32
	share    uint64
	pps      float64
	spins    int
	idleFrom time.Time
	batches  uint64
	// l is the worker's own count; c what it last published of it.
	l local
	c counters
}

func newWorker(a *App, s *xsk.Socket, first uint32, pool *xsk.FramePool) *worker {
	cfg := a.cfg
	w := &worker{a: a, sock: s, umem: s.Umem(), pool: pool, batch: cfg.Batch, resp: cfg.Responder}
	if cfg.Kind == TX {
		w.frameLen = uint32(len(cfg.Frame))
		// Every frame of the pool holds the frame to send: they are
		// written once here, never per send.
		for i := range uint32(pool.Cap()) {
			copy(w.umem.Data(w.umem.FrameAddr(first+i), w.frameLen), cfg.Frame)
		}
		i := uint64(s.Queue() - cfg.Queue)
		n := uint64(cfg.Queues)
		w.share = cfg.Count / n
		if i < cfg.Count%n {
			w.share++
		}
		w.pps = cfg.PPS / float64(n)
	} else {
		// Stock the FILL ring; the rest of the pool serves TX (fwd, ping)
		// and frames the FILL ring has no room for.
		s.FillFrom(pool, s.Fill().Size())
	}
	return w
}

func (w *worker) run() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer w.publish()
	switch w.a.cfg.Kind {
	case TX:
		return w.transmit()
	case RX:
		return w.receive()
	default:
		return w.reply()
	}
}

// stamp records the time of a batch, and publishes the counters every
// publishEvery batches.
func (w *worker) stamp() {
	now := w.a.now()
	if w.l.first == 0 {
		w.l.first = now
	}
	w.l.last = now
	w.batches++
	if w.batches%publishEvery == 0 {
		w.publish()
	}
}

// publishEvery is how many batches a worker counts in its own plain
// counters before it copies them to the ones Stats reads: an atomic
// operation costs as much as handling a few frames, and a batch may be a
// frame or two.
const publishEvery = 64

// publish copies the worker's counters to those Stats reads.
func (w *worker) publish() {
	c, l := &w.c, &w.l
	c.rxPackets.Store(l.rxPackets)
	c.rxBytes.Store(l.rxBytes)
	c.txPackets.Store(l.txPackets)
	c.txBytes.Store(l.txBytes)
	c.txDropped.Store(l.txDropped)
	for i := range l.replies {
		c.replies[i].Store(l.replies[i])
	}
	c.first.Store(l.first)
	c.last.Store(l.last)
}

// budget returns how many more frames the worker may count towards
// Count (all of a batch when there is no Count), stopping the App when
// none are left.
func (w *worker) budget() uint32 {
	count := w.a.cfg.Count
	if count == 0 {
		return w.batch
	}
	done := w.a.total.Load()
	if done >= count {
		w.a.stop.Store(true)
		return 0
	}
	return uint32(min(uint64(w.batch), count-done))
}

// counted adds n frames sent towards Count (tx).
func (w *worker) counted(n uint32) {
	if w.a.cfg.Count != 0 && w.a.total.Add(uint64(n)) >= w.a.cfg.Count {
		w.a.stop.Store(true)
	}
}

// peek takes up to a batch of received frames within the budget and
// claims them towards Count; done reports that Count is reached.
func (w *worker) peek(rx *xsk.RxRing) (idx, n uint32, done bool) {
	want := w.budget()
	if want == 0 {
		return 0, 0, true
	}
	idx, n = rx.Peek(want)
	if n > 0 {
		if n = w.claim(rx, n); n == 0 {
			return 0, 0, true
		}
	}
	return idx, n, false
}

// claim counts n frames just peeked from rx towards Count and returns how
// many of them the worker may handle: workers on several queues claim
// from one total, and what lies beyond Count goes back to the ring
// unhandled, so that exactly Count frames are counted. It stops the App
// at Count.
func (w *worker) claim(rx *xsk.RxRing, n uint32) uint32 {
	count := w.a.cfg.Count
	if count == 0 {
		return n
	}
	prev := w.a.total.Add(uint64(n)) - uint64(n)
	if prev+uint64(n) >= count {
		w.a.stop.Store(true)
	}
	if prev >= count {
		rx.Cancel(n)
		return 0
	}
	if end := prev + uint64(n); end > count {
		excess := uint32(end - count)
		rx.Cancel(excess)
		return n - excess
	}
	return n
}

// idle is called when the rings had nothing to do: it wakes the kernel
// for RX when the socket needs that (need_wakeup and the FILL ring asks,
// or busy polling: Socket.WakeRX decides), spins a while, then sleeps in
// poll until frames arrive.
func (w *worker) idle(tx bool) error {
	if !tx && (w.a.cfg.NeedWakeup || w.a.cfg.BusyPoll != nil) {
		if err := w.sock.WakeRX(); err != nil {
			return err
		}
	}
	w.spins++
	if w.spins == 1 {
		w.publish()
	}
	if w.spins%spinsPerClock != 0 {
		return nil
	}
	if w.spins == spinsPerClock {
		w.idleFrom = time.Now()
		return nil
	}
	if time.Since(w.idleFrom) < idleBeforePoll {
		return nil
	}
	w.spins = 0
	_, err := w.sock.Poll(pollTimeout, tx)
	return err
}

// receive is rx: count every frame and hand it straight back to FILL.
func (w *worker) receive() error {
	rx, fill := w.sock.RX(), w.sock.Fill()
	for !w.a.stop.Load() {
		idx, n, done := w.peek(rx)
		if done {
			break
		}
		if n == 0 {
			if err := w.idle(false); err != nil {
				return err
			}
			continue
		}
		w.spins = 0
		fi, fgot := fill.Reserve(n)
		var bytes uint64
		for i := range n {
			d := rx.Desc(idx + i)
			bytes += uint64(d.Len)
			chunk := w.umem.Chunk(d.Addr)
			if i < fgot {
				fill.Set(fi+i, chunk)
			} else {
				w.pool.Put(chunk)
			}
		}
		if fgot > 0 {
			fill.Submit(fgot)
		}
		rx.Release(n)
		if fgot < n {
			w.sock.FillFrom(w.pool, n-fgot)
		}
		w.l.rxPackets += uint64(n)
		w.l.rxBytes += bytes
		w.stamp()
	}
	return nil
}

// reply is fwd and ping: turn each received frame into what goes back
// (MACs swapped, or the responder's answer) in place, and send it from the
// same UMEM frame.
func (w *worker) reply() error {
	rx, tx := w.sock.RX(), w.sock.TX()
	fwd := w.a.cfg.Kind == Fwd
	var outstanding uint32
	for !w.a.stop.Load() {
		if outstanding > 0 {
			outstanding -= w.sock.CompleteTo(w.pool, outstanding)
			if err := w.kickIfPending(); err != nil {
				return err
			}
		}
		// Frames come back to the pool from completions and from
		// requests not answered: back to FILL with them, or the socket
		// runs dry.
		if w.pool.Len() > 0 {
			w.sock.FillFrom(w.pool, uint32(w.pool.Len()))
		}
		idx, n, done := w.peek(rx)
		if done {
			break
		}
		if n == 0 {
			if err := w.idle(false); err != nil {
				return err
			}
			continue
		}
		w.spins = 0
		ti, tgot := tx.Reserve(n)
		var sent uint32
		var rxBytes, txBytes uint64
		for i := range n {
			d := rx.Desc(idx + i)
			rxBytes += uint64(d.Len)
			data := w.umem.Data(d.Addr, d.Len)
			length := d.Len
			if fwd {
				swapMACs(data)
			} else {
				m, kind := w.resp.Answer(data[:cap(data)], len(data))
				if kind == responder.None {
					w.pool.Put(d.Addr)
					continue
				}
				w.l.replies.Add(kind)
				length = uint32(m)
			}
			if sent == tgot {
				w.l.txDropped++
				w.pool.Put(d.Addr)
				continue
			}
			tx.Set(ti+sent, xsk.Desc{Addr: d.Addr, Len: length})
			sent++
			txBytes += uint64(length)
		}
		if sent < tgot {
			tx.Cancel(tgot - sent)
		}
		rx.Release(n)
		if sent > 0 {
			tx.Submit(sent)
			outstanding += sent
			if err := w.sock.Kick(); err != nil {
				return err
			}
		}
		w.l.rxPackets += uint64(n)
		w.l.rxBytes += rxBytes
		w.l.txPackets += uint64(sent)
		w.l.txBytes += txBytes
		w.stamp()
	}
	return w.drain(outstanding)
}

// swapMACs swaps a frame's destination and source MAC addresses.
func swapMACs(f []byte) {
	if len(f) < 12 {
		return
	}
	var tmp [6]byte
	copy(tmp[:], f[:6])
	copy(f[:6], f[6:12])
	copy(f[6:12], tmp[:])
}

// transmit is tx: send the frame the pool's frames hold, as fast as the
// TX ring and completions allow or at the worker's share of PPS.
func (w *worker) transmit() error {
	tx := w.sock.TX()
	var submitted, forgiven uint64
	var outstanding uint32
	start := time.Now()
	for !w.a.stop.Load() {
		if outstanding > 0 {
			done := w.sock.CompleteTo(w.pool, outstanding)
			outstanding -= done
			if done > 0 {
				w.l.txPackets += uint64(done)
				w.l.txBytes += uint64(done) * uint64(w.frameLen)
				w.stamp()
				w.counted(done)
			}
		}
		want := w.batch
		if w.share != 0 || w.a.cfg.Count != 0 {
			if submitted >= w.share {
				break
			}
			want = uint32(min(uint64(want), w.share-submitted))
		}
		if w.pps > 0 {
			// A token bucket of one batch: time lost (descheduled, a
			// full ring) is forgiven beyond one batch, so that the rate
			// never bursts above it for longer than a batch.
			allowed := uint64(w.pps*time.Since(start).Seconds()) + 1 - forgiven
			if allowed > submitted+uint64(w.batch) {
				forgiven += allowed - submitted - uint64(w.batch)
				allowed = submitted + uint64(w.batch)
			}
			if allowed <= submitted {
				if err := w.kickIfPending(); err != nil {
					return err
				}
				time.Sleep(min(time.Duration(float64(submitted+1-allowed)/w.pps*1e9), time.Millisecond))
				continue
			}
			want = uint32(min(uint64(want), allowed-submitted))
		}
		want = min(want, uint32(w.pool.Len()))
		var got uint32
		var idx uint32
		if want > 0 {
			idx, got = tx.Reserve(want)
		}
		if got == 0 {
			if err := w.kickIfPending(); err != nil {
				return err
			}
			if err := w.idle(true); err != nil {
				return err
			}
			continue
		}
		w.spins = 0
		for i := range got {
			addr, _ := w.pool.Get()
			tx.Set(idx+i, xsk.Desc{Addr: addr, Len: w.frameLen})
		}
		tx.Submit(got)
		submitted += uint64(got)
		outstanding += got
		if err := w.sock.Kick(); err != nil {
			return err
		}
	}
	return w.drain(outstanding)
}

// kickIfPending kicks TX while it holds frames the kernel has not taken
// yet; frames taken but not completed need no kick.
func (w *worker) kickIfPending() error {
	if tx := w.sock.TX(); tx.Free() == tx.Size() {
		return nil
	}
	return w.sock.Kick()
}

// drainStall is how long drain waits for the next completion.
const drainStall = 2 * time.Second

// drain waits for the frames still on TX to complete, counting them (tx)
// and returning them to the pool, as long as completions keep coming. For
// tx, frames that never complete are an error: the count would be short.
func (w *worker) drain(outstanding uint32) error {
	var err error
	progress := time.Now()
	for outstanding > 0 && time.Since(progress) < drainStall {
		if kerr := w.kickIfPending(); kerr != nil && err == nil {
			err = kerr
		}
		done := w.sock.CompleteTo(w.pool, outstanding)
		outstanding -= done
		if done > 0 {
			progress = time.Now()
			if w.a.cfg.Kind == TX {
				w.l.txPackets += uint64(done)
				w.l.txBytes += uint64(done) * uint64(w.frameLen)
				w.stamp()
			}
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
	if outstanding > 0 && w.a.cfg.Kind == TX {
		return errors.Join(err, fmt.Errorf("%d frames handed to the kernel did not complete within %v of the last completion: the device did not send them", outstanding, drainStall))
	}
	return err
}
