// Package xskapp runs the AF_XDP applications of "xdpkit xsk" on top of
// package xsk: rx (count and drop), tx (send a frame at full speed or a
// given rate), fwd (swap MACs and send back out, l2fwd) and ping (answer
// ARP, neighbour solicitations and ICMP echo from userspace).
//
// An App owns one UMEM shared by one socket per queue (XDP_SHARED_UMEM),
// the redirect program (xdpkit's, or a pinned XSKMAP of one's own) and
// one worker per socket: a goroutine locked to its OS thread that drives
// its socket's four rings in batches. Counters are per worker, added once
// per batch; nothing allocates per frame.
package xskapp

import (
	"fmt"
	"os"
	"time"

	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/responder"
	"github.com/xdpkit/xdpkit/xdp"
	"github.com/xdpkit/xdpkit/xsk"
)

// MaxQueues is the most sockets an App binds.
const MaxQueues = 1024

// Kind is what an App does with its sockets.
type Kind string

// The applications.
const (
	RX   Kind = "rx"
	TX   Kind = "tx"
	Fwd  Kind = "fwd"
	Ping Kind = "ping"
)

// Config describes an App. Interface and Kind are required; the rest has
// defaults.
type Config struct {
	Kind      Kind
	Interface string
	// Queue is the first queue; Queues (default 1) sockets are bound to
	// Queue, Queue+1, ...
	Queue  uint32
	Queues int
	// Bind is copy, zero-copy or auto (the default).
	Bind xsk.BindMode
	// NeedWakeup binds with XDP_USE_NEED_WAKEUP: a worker then sleeps in
	// poll when the kernel says so instead of spinning.
	NeedWakeup bool
	// BusyPoll sets the busy-polling socket options.
	BusyPoll *xsk.BusyPoll
	// FrameSize and FramesPerQueue size the shared UMEM (defaults 4096
	// and 4096); RingSize (default 2048) is the size of every ring.
	FrameSize      uint32
	FramesPerQueue uint32
	RingSize       uint32
	// Batch is how many frames a worker moves at a time (default 64, at
	// most RingSize).
	Batch uint32
	// Count stops the app after this many frames: received for rx, fwd
	// and ping, sent for tx. 0: no limit.
	Count uint64
	// Duration stops the app after this long. 0: no limit.
	Duration time.Duration

	// Frame is what tx sends (required for tx), at most FrameSize minus
	// the kernel's headroom.
	Frame []byte
	// PPS limits tx to this many frames per second over all queues
	// (0: as fast as it can).
	PPS float64

	// Responder answers for ping (required for ping).
	Responder *responder.Responder

	// XDPMode is the mode the redirect program is attached in
	// (xdp.ModeNative by default).
	XDPMode xdp.Mode
	// XSKMapPin, when set, is the path of a pinned XSKMAP of one's own
	// program: the sockets are registered there and xdpkit's program is
	// not loaded (libxdp's inhibit-prog-load + update-xskmap).
	XSKMapPin string
}

func (c Config) withDefaults() Config {
	if c.Queues == 0 {
		c.Queues = 1
	}
	if c.FrameSize == 0 {
		c.FrameSize = xsk.DefaultFrameSize
	}
	if c.FramesPerQueue == 0 {
		c.FramesPerQueue = xsk.DefaultNumFrames
	}
	if c.RingSize == 0 {
		c.RingSize = xsk.DefaultRingSize
	}
	if c.Batch == 0 {
		c.Batch = min(64, c.RingSize)
	}
	return c
}

// Validate checks the configuration without touching the kernel; its
// errors match os.ErrInvalid.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch c.Kind {
	case RX, TX, Fwd, Ping:
	default:
		return errs.Markf(os.ErrInvalid, "application %q: use rx, tx, fwd or ping", c.Kind)
	}
	if c.Interface == "" {
		return errs.Markf(os.ErrInvalid, "no interface given")
	}
	if c.Queues < 1 || c.Queues > MaxQueues {
		return errs.Markf(os.ErrInvalid, "%d queues: use 1 to %d", c.Queues, MaxQueues)
	}
	if uint64(c.Queue)+uint64(c.Queues) > 1<<32 {
		return errs.Markf(os.ErrInvalid, "queues %d to %d: queue ids are 32-bit", c.Queue, uint64(c.Queue)+uint64(c.Queues)-1)
	}
	// Each queue's share of the UMEM backs its own FILL and COMPLETION rings.
	perQueue := c.umemConfig()
	perQueue.NumFrames = c.FramesPerQueue
	if err := perQueue.Validate(); err != nil {
		return err
	}
	if total := uint64(c.FramesPerQueue) * uint64(c.Queues); total > 1<<31 {
		return errs.Markf(os.ErrInvalid, "a UMEM of %d frames (%d per queue, %d queues) is too large: use fewer frames or queues", total, c.FramesPerQueue, c.Queues)
	}
	if c.Batch > c.RingSize {
		return errs.Markf(os.ErrInvalid, "batch %d is larger than the rings (%d entries): use at most %d", c.Batch, c.RingSize, c.RingSize)
	}
	if c.Duration < 0 {
		return errs.Markf(os.ErrInvalid, "duration %v is negative", c.Duration)
	}
	if c.PPS < 0 {
		return errs.Markf(os.ErrInvalid, "rate %v pps is negative", c.PPS)
	}
	if c.Kind == TX {
		if len(c.Frame) < 14 {
			return errs.Markf(os.ErrInvalid, "the frame to send is %d bytes, shorter than an Ethernet header (14)", len(c.Frame))
		}
		if room := c.FrameSize - xsk.PacketHeadroom; uint32(len(c.Frame)) > room {
			return errs.Markf(os.ErrInvalid, "the frame to send is %d bytes; a %d-byte UMEM frame holds %d after the kernel's headroom: use a larger frame size or a smaller frame", len(c.Frame), c.FrameSize, room)
		}
	} else if c.PPS != 0 {
		return errs.Markf(os.ErrInvalid, "a rate (pps) only applies to tx")
	}
	if c.Kind == Ping && c.Responder == nil {
		return errs.Markf(os.ErrInvalid, "ping needs a Responder")
	}
	return nil
}

// umemConfig is the shared UMEM: FramesPerQueue frames for each queue,
// half for FILL, half for TX.
func (c Config) umemConfig() xsk.UmemConfig {
	return xsk.UmemConfig{
		FrameSize:      c.FrameSize,
		NumFrames:      c.FramesPerQueue * uint32(c.Queues),
		FillSize:       c.RingSize,
		CompletionSize: c.RingSize,
	}
}

// String describes the application in a few words: "rx on eth0 queues 0..3".
func (c Config) String() string {
	return fmt.Sprintf("%s on %s queues %d..%d", c.Kind, c.Interface, c.Queue, c.Queue+uint32(c.Queues)-1)
}
