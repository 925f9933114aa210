package xskapp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xdpkit/xdpkit/xsk"
)

// App is a running AF_XDP application: its UMEM, sockets, redirect
// program and workers. Make it with New, run it with Run, read it with
// Stats from any goroutine, and Close it.
type App struct {
	cfg     Config
	umem    *xsk.Umem
	sockets []*xsk.Socket
	workers []*worker
	prog    *xsk.Program
	xskmap  *xsk.XSKMap

	// start is when Run started; Stats reads it from other goroutines.
	start atomic.Pointer[time.Time]
	stop  atomic.Bool
	total atomic.Uint64 // frames counted towards Count, over all workers
	ended atomic.Int64  // Elapsed once the run ended, in ns; 0 while running

	// mu guards the life cycle: Run may start once and not after Close;
	// Close waits for a Run under way to return (runDone) before it frees
	// what the workers and the final Stats use.
	mu      sync.Mutex
	ran     bool
	closed  bool
	runDone chan struct{}
}

// New validates cfg, creates the UMEM and one socket per queue, attaches
// the redirect program (or opens the pinned XSKMAP) and registers the
// sockets. Nothing is left behind when it fails. It needs CAP_NET_RAW,
// CAP_NET_ADMIN and CAP_BPF.
func New(cfg Config) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	a := &App{cfg: cfg}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.umem, err = xsk.NewUmem(cfg.umemConfig()); err != nil {
		return nil, err
	}
	for i := range cfg.Queues {
		s, err := xsk.NewSocket(a.umem, xsk.SocketConfig{
			Interface:  cfg.Interface,
			Queue:      cfg.Queue + uint32(i),
			RxSize:     cfg.RingSize,
			TxSize:     cfg.RingSize,
			NoRX:       cfg.Kind == TX,
			NoTX:       cfg.Kind == RX,
			Mode:       cfg.Bind,
			NeedWakeup: cfg.NeedWakeup,
			BusyPoll:   cfg.BusyPoll,
		})
		if err != nil {
			return nil, err
		}
		a.sockets = append(a.sockets, s)
		first := uint32(i) * cfg.FramesPerQueue
		a.workers = append(a.workers, newWorker(a, s, first, xsk.NewFramePool(a.umem, first, cfg.FramesPerQueue)))
	}
	if cfg.Kind == TX {
		return a, nil
	}
	if cfg.XSKMapPin != "" {
		if a.xskmap, err = xsk.LoadPinnedXSKMap(cfg.XSKMapPin); err != nil {
			return nil, err
		}
	} else {
		if a.prog, err = xsk.AttachProgram(cfg.Interface, xsk.ProgramOptions{Mode: cfg.XDPMode}); err != nil {
			return nil, err
		}
		a.xskmap = a.prog.XSKMap()
	}
	for _, s := range a.sockets {
		if err := a.xskmap.Register(s); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Config returns the configuration with its defaults filled in.
func (a *App) Config() Config { return a.cfg }

// ZeroCopy reports whether the sockets are bound in zero-copy mode.
func (a *App) ZeroCopy() bool {
	zc, err := a.sockets[0].ZeroCopy()
	return err == nil && zc
}

// Run starts one worker per socket, each on a locked OS thread, and
// returns when they have stopped: at Count, after Duration, on Stop, or
// when ctx is done (not an error: the Stats say how far it got). It may be
// called once, and not after Close (os.ErrClosed).
func (a *App) Run(ctx context.Context) (Stats, error) {
	a.mu.Lock()
	switch {
	case a.closed:
		a.mu.Unlock()
		return Stats{}, fmt.Errorf("running an App: %w", os.ErrClosed)
	case a.ran:
		a.mu.Unlock()
		return Stats{}, errors.New("an App runs once")
	}
	a.ran = true
	a.runDone = make(chan struct{})
	defer close(a.runDone)
	a.mu.Unlock()

	start := time.Now()
	a.start.Store(&start)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if a.cfg.Duration > 0 {
		var c context.CancelFunc
		runCtx, c = context.WithTimeout(runCtx, a.cfg.Duration)
		defer c()
	}
	errc := make(chan error, len(a.workers))
	var wg sync.WaitGroup
	for _, w := range a.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(); err != nil {
				errc <- fmt.Errorf("queue %d: %w", w.sock.Queue(), err)
				a.stop.Store(true)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	select {
	case <-runCtx.Done():
		a.stop.Store(true)
		<-done
	case <-done:
	}
	a.ended.Store(int64(max(time.Since(start), 1)))
	close(errc)
	var err error
	for e := range errc {
		err = errors.Join(err, e)
	}
	return a.Stats(), err
}

// Stop asks the workers to stop; Run returns once they have.
func (a *App) Stop() { a.stop.Store(true) }

// Counters returns the totals so far over all queues: cheaper than Stats
// (no system call, no allocation), for polling in a loop.
func (a *App) Counters() Counters {
	var c Counters
	for _, w := range a.workers {
		c.add(w.c.snapshot())
	}
	return c
}

// Stats returns the counters so far. It reads each socket's statistics
// (one getsockopt each) and the program's counters.
func (a *App) Stats() Stats {
	var s Stats
	if ended := a.ended.Load(); ended != 0 {
		s.Elapsed, s.Done = time.Duration(ended), true
	} else if start := a.start.Load(); start != nil {
		s.Elapsed = time.Since(*start)
	}
	var first, last int64
	for _, w := range a.workers {
		q := QueueStats{Queue: w.sock.Queue(), Counters: w.c.snapshot()}
		if st, err := w.sock.Stats(); err == nil {
			q.Socket = st
		}
		if f := w.c.first.Load(); f != 0 && (first == 0 || f < first) {
			first = f
		}
		last = max(last, w.c.last.Load())
		s.Counters.add(q.Counters)
		addStats(&s.Socket, q.Socket)
		s.Queues = append(s.Queues, q)
	}
	s.Active = 0
	if first != 0 {
		s.Active = time.Duration(last - first)
	}
	if a.prog != nil {
		s.Program, _ = a.prog.Counters()
	}
	return s
}

// Close stops the workers if they run, removes the sockets from the
// XSKMAP, detaches the program and frees the sockets and the UMEM.
func (a *App) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	runDone := a.runDone
	a.mu.Unlock()
	a.stop.Store(true)
	if runDone != nil {
		<-runDone
	}
	var err error
	if a.prog != nil {
		err = errors.Join(err, a.prog.Close())
	} else if a.xskmap != nil {
		err = errors.Join(err, a.xskmap.Close())
	}
	for _, s := range a.sockets {
		err = errors.Join(err, s.Close())
	}
	if a.umem != nil {
		err = errors.Join(err, a.umem.Close())
	}
	return err
}

// now returns monotonic nanoseconds since the App started (never 0).
// Only workers call it, after Run stored the start.
func (a *App) now() int64 { return int64(time.Since(*a.start.Load())) + 1 }
