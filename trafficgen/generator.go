package trafficgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/netdev"
)

// ErrCannotTransmit means the interface would drop every frame the
// generator sends: a veth whose peer has no XDP program, or a driver
// without ndo_xdp_xmit. It matches errors.ErrUnsupported.
var ErrCannotTransmit = errs.Markf(errors.ErrUnsupported, "interface cannot transmit XDP frames")

// Generator is a running (or ready) generator, made by New from a Spec.
// Its methods may be called from any goroutine.
type Generator struct {
	spec     Spec
	dev      *netdev.Device // the interface the frames are run on (ingress)
	out      *netdev.Device // where they leave; nil for Pass
	objs     *xdpGenObjects
	peer     io.Closer // the program on the veth peer, with Spec.PeerProgram
	cpus     []int
	shares   []uint64 // each worker's share of Count
	frameLen uint64   // bytes per frame with one frame

	mu sync.Mutex
	// objsMu guards objs while a reader uses its maps: Close takes it to
	// close them.
	objsMu   sync.RWMutex
	closed   bool
	final    []xdpGenGenState // the counters at the end of the run
	started  time.Time
	ended    time.Time
	base     netdev.Counters
	peerBase netdev.Counters
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	err      error
	state    []xdpGenGenState // per-CPU values, reused by Stats
	// endedMono is the end of the run on bpf_ktime_get_ns's clock.
	endedMono uint64
	// interrupted: Stop was called by the user of the Generator.
	interrupted atomic.Bool
}

// monotonicNow returns CLOCK_MONOTONIC in nanoseconds: the clock of
// bpf_ktime_get_ns.
func monotonicNow() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return uint64(ts.Nano())
}

// New checks spec and the interface, and loads the generator's program;
// it sends nothing until Start. An interface that cannot transmit XDP
// frames is refused with ErrCannotTransmit and the fix, unless the spec's
// action is Pass. Close releases what New took.
func New(spec Spec) (_ *Generator, err error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	spec.Frames = slices.Clone(spec.Frames)
	dev, err := netdev.Lookup(spec.Interface)
	if err != nil {
		return nil, fmt.Errorf("trafficgen: %w", err)
	}
	if !dev.Up {
		return nil, invalidf("interface %s is down: bring it up with \"ip link set %s up\"", dev.Name, dev.Name)
	}
	// out is where the frames leave: the interface itself, the redirect
	// target, or nowhere (Pass: into this host's stack).
	out := dev
	redirectIfindex := 0
	switch spec.Action {
	case Redirect:
		if out, err = netdev.Lookup(spec.RedirectTo); err != nil {
			return nil, fmt.Errorf("trafficgen: redirect: %w", err)
		}
		if !out.Up {
			return nil, invalidf("redirect target %s is down: bring it up with \"ip link set %s up\"", out.Name, out.Name)
		}
		redirectIfindex = out.Index
	case Pass:
		out = nil
	}
	if out != nil {
		for i, f := range spec.Frames {
			if max := FrameLimit(out.MTU, f); len(f) > max {
				return nil, invalidf("frame %d is %d bytes but %s's MTU of %d allows at most %d", i+1, len(f), out.Name, out.MTU, max)
			}
		}
	}
	cpus, err := chooseCPUs(&spec)
	if err != nil {
		return nil, err
	}

	g := &Generator{
		spec:     spec,
		dev:      dev,
		out:      out,
		cpus:     cpus,
		shares:   split(spec.Count, len(cpus)),
		frameLen: uint64(len(spec.Frames[0])),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	if spec.PeerProgram != PeerNone {
		if out == nil {
			return nil, invalidf("a peer program with action pass: nothing is sent to a peer")
		}
		if out.Peer == nil {
			return nil, invalidf("peer program: %s is not a veth with a peer xdpkit can reach (it must be in this namespace or a named one)", out.Name)
		}
		if out.Peer.XDPProgID == 0 {
			attach := out.Peer.AttachPass
			if spec.PeerProgram == PeerDrop {
				attach = out.Peer.AttachDrop
			}
			if g.peer, err = attach(); err != nil {
				return nil, fmt.Errorf("trafficgen: %w", err)
			}
		}
	}
	if out != nil {
		if err := checkTransmit(out); err != nil {
			return nil, err
		}
	}

	c, err := configure(&g.spec, redirectIfindex, g.rewrites())
	if err != nil {
		return nil, err
	}
	if g.objs, err = loadProgram(c); err != nil {
		return nil, err
	}
	if len(spec.Frames) > 1 {
		if err := fillFrames(g.objs.GenFrames, spec.Frames); err != nil {
			return nil, err
		}
	}
	if err := g.initState(); err != nil {
		return nil, err
	}
	return g, nil
}

// rewrites reports whether the program writes the headers anew for every
// frame (see Rewrite).
func (g *Generator) rewrites() bool {
	switch g.spec.Rewrite {
	case RewriteAlways:
		return true
	case RewriteNever:
		return false
	}
	switch {
	case g.out == nil: // Pass: into this host's stack
		return true
	case g.out.Kind != "veth":
		return false
	case g.spec.PeerProgram == PeerDrop && g.peer != nil:
		return false
	}
	return true
}

// checkTransmit refuses an interface that would drop what the generator
// sends, saying why and what to do.
func checkTransmit(dev *netdev.Device) error {
	reason, err := transmitProblem(dev)
	if err != nil {
		return fmt.Errorf("trafficgen: %w", err)
	}
	if reason != "" {
		return fmt.Errorf("trafficgen: %w: %s", ErrCannotTransmit, reason)
	}
	return nil
}

// transmitProblem returns why dev would drop every XDP frame sent out of
// it, with the fix, or "" when nothing says so: its XDP features lack
// NDO_XMIT (kernels from 6.3 report them), or it is a veth whose peer has
// no XDP program.
func transmitProblem(dev *netdev.Device) (string, error) {
	if err := dev.Refresh(); err != nil {
		return "", err
	}
	if !dev.Up {
		return fmt.Sprintf("%s is down: bring it up with \"ip link set %s up\"", dev.Name, dev.Name), nil
	}
	if !dev.Carrier {
		return fmt.Sprintf("%s has no carrier, so what it sends is dropped: for a veth, bring its peer up; for a tap, start the program that reads it; else check the link", dev.Name), nil
	}
	features, err := dev.XDPFeatures()
	known := err == nil
	if known && features.Has(netdev.FeatureNDOXmit) {
		return "", nil
	}
	if dev.Peer != nil && dev.Peer.XDPProgID == 0 {
		where := "this namespace"
		if dev.Peer.Netns != "" {
			where = "namespace " + dev.Peer.Netns
		}
		return fmt.Sprintf("%s is a veth whose peer %s (in %s) has no XDP program, so the kernel drops every XDP frame sent to it: attach a program to the peer for the run (--peer-prog), or attach one yourself", dev.Name, dev.Peer.Name, where), nil
	}
	if dev.Kind == "veth" && dev.Peer == nil && (!known || !features.Has(netdev.FeatureNDOXmit)) {
		return fmt.Sprintf("%s is a veth whose peer xdpkit cannot see (in a namespace without a name under /run/netns, or reading it needs CAP_SYS_ADMIN); the kernel drops XDP frames sent to a veth whose peer has no XDP program: attach one to the peer", dev.Name), nil
	}
	if known {
		return fmt.Sprintf("%s (%s) does not implement ndo_xdp_xmit (its XDP features: %s): use a driver that does, or a veth pair", dev.Name, dev.Kind, features), nil
	}
	return "", nil
}

// FrameLimit returns the longest frame a device of this MTU sends: the
// MTU plus the Ethernet header, plus one VLAN tag if the frame has any
// (the kernel allows one, even for a frame with two), and never more
// than MaxFrameLen.
func FrameLimit(mtu int, frame []byte) int {
	n := mtu + EthernetHeaderLen
	if vlanTags(frame) > 0 {
		n += 4
	}
	return min(n, MaxFrameLen)
}

// vlanTags counts the VLAN tags after the frame's Ethernet header.
func vlanTags(frame []byte) int {
	n := 0
	for off := 12; off+4 <= len(frame) && n < 2; off += 4 {
		t := uint16(frame[off])<<8 | uint16(frame[off+1])
		if t != 0x8100 && t != 0x88a8 {
			break
		}
		n++
	}
	return n
}

// chooseCPUs returns the CPUs the workers are pinned to.
func chooseCPUs(spec *Spec) ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("trafficgen: read the CPUs this process may use: %w", err)
	}
	if spec.CPUs != nil {
		for _, c := range spec.CPUs {
			if c >= len(set)*64 || !set.IsSet(c) {
				return nil, invalidf("CPU %d is not one this process may run on (%s): choose among those", c, cpuList(&set))
			}
		}
		return slices.Clone(spec.CPUs), nil
	}
	var cpus []int
	for c := 0; c < len(set)*64 && len(cpus) < spec.threads(); c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) < spec.threads() {
		return nil, invalidf("%d threads but this process may run on %d CPUs (taskset?): use at most %d", spec.threads(), set.Count(), set.Count())
	}
	return cpus, nil
}

// cpuList returns the CPUs of set as "0-3" or "0,2".
func cpuList(set *unix.CPUSet) string {
	var parts []string
	for c := 0; c < len(set)*64; c++ {
		if !set.IsSet(c) {
			continue
		}
		end := c
		for end+1 < len(set)*64 && set.IsSet(end+1) {
			end++
		}
		if end > c {
			parts = append(parts, fmt.Sprintf("%d-%d", c, end))
		} else {
			parts = append(parts, fmt.Sprint(c))
		}
		c = end
	}
	return "CPUs " + strings.Join(parts, ",")
}

// split divides n into parts shares that differ by at most one, larger
// first; nil when n is 0.
func split(n uint64, parts int) []uint64 {
	if n == 0 {
		return nil
	}
	s := make([]uint64, parts)
	for i := range s {
		s[i] = n / uint64(parts)
		if uint64(i) < n%uint64(parts) {
			s[i]++
		}
	}
	return s
}

// initState writes each worker's index, share and rate into its CPU's
// gen_state entry, and zeroes the others.
func (g *Generator) initState() error {
	possible, err := ebpf.PossibleCPU()
	if err != nil {
		return fmt.Errorf("trafficgen: %w", err)
	}
	g.state = make([]xdpGenGenState, possible)
	rates := split(g.spec.PPS, len(g.cpus))
	for i, cpu := range g.cpus {
		if cpu >= possible {
			return invalidf("CPU %d is not a possible CPU (0 to %d)", cpu, possible-1)
		}
		st := &g.state[cpu]
		st.Worker = uint64(i)
		if g.shares != nil {
			st.Limit = g.shares[i]
		}
		if rates != nil {
			st.Rate = rates[i]
		}
	}
	if err := g.objs.GenState.Update(uint32(0), g.state, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("trafficgen: initialise the per-CPU counters: %w", err)
	}
	return nil
}

// Start starts one worker per CPU and returns. The run ends when every
// worker has sent its share of Count, when Duration has passed, when
// Stop is called or when a worker fails; Wait waits for that.
func (g *Generator) Start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.started.IsZero() {
		return errors.New("trafficgen: generator already started")
	}
	if g.closed {
		return errors.New("trafficgen: generator closed")
	}
	if g.out != nil {
		g.base, _ = g.out.Counters()
		if g.out.Peer != nil {
			g.peerBase, _ = g.out.Peer.Counters()
		}
	}
	g.started = time.Now()

	data := g.spec.Frames[0]
	for _, f := range g.spec.Frames[1:] {
		if len(f) > len(data) {
			data = f
		}
	}
	errc := make(chan error, len(g.cpus))
	var wg sync.WaitGroup
	for i, cpu := range g.cpus {
		w := &worker{
			cpu:    cpu,
			frame:  data,
			batch:  uint32(g.spec.Batch),
			prog:   g.objs.XdpGen,
			ifidx:  uint32(g.dev.Index),
			stop:   g.stop,
			paced:  g.spec.PPS != 0,
			remain: g.remaining,
		}
		if g.shares != nil {
			w.share = g.shares[i]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(); err != nil {
				errc <- err
				g.stopWorkers()
			}
		}()
	}
	go g.watch(errc, &wg)
	return nil
}

// watch ends the run: at Duration, at Count when the pacer (not the call's
// repeat) limits the workers, or when every worker returned.
func (g *Generator) watch(errc chan error, wg *sync.WaitGroup) {
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	var deadline <-chan time.Time
	if g.spec.Duration > 0 {
		t := time.NewTimer(g.spec.Duration)
		defer t.Stop()
		deadline = t.C
	}
	var poll <-chan time.Time
	if g.spec.Count != 0 && g.spec.PPS != 0 {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		poll = t.C
	}
	for {
		select {
		case <-finished:
			g.finish(errc)
			return
		case <-deadline:
			g.stopWorkers()
		case <-poll:
			if g.sent() >= g.spec.Count {
				g.stopWorkers()
			}
		}
	}
}

// sent returns the frames sent so far: Stats' Frames, without the rest.
func (g *Generator) sent() uint64 {
	st, err := g.readState()
	if err != nil {
		return 0
	}
	var n uint64
	for _, cpu := range g.cpus {
		if cpu < len(st) {
			n += st[cpu].Frames
		}
	}
	return n
}

// finish records the end of the run and its first error.
func (g *Generator) finish(errc chan error) {
	final, _ := g.readState()
	g.mu.Lock()
	g.ended = time.Now()
	g.endedMono = monotonicNow()
	g.final = final
	select {
	case g.err = <-errc:
	default:
	}
	g.mu.Unlock()
	close(g.done)
}

// remaining returns how many frames the worker on cpu still has to send
// of its share: a worker whose call was interrupted by a stray signal
// starts again with this.
func (g *Generator) remaining(cpu int, share uint64) (uint64, error) {
	st, err := g.readState()
	if err != nil {
		return 0, err
	}
	if cpu >= len(st) || st[cpu].Frames > share {
		return 0, nil
	}
	return share - st[cpu].Frames, nil
}

// readState reads the per-CPU counters.
func (g *Generator) readState() ([]xdpGenGenState, error) {
	g.mu.Lock()
	final := g.final
	g.mu.Unlock()
	if final != nil {
		return final, nil
	}
	g.objsMu.RLock()
	defer g.objsMu.RUnlock()
	if g.objs == nil {
		return nil, errors.New("trafficgen: generator closed")
	}
	st := make([]xdpGenGenState, len(g.state))
	if err := g.objs.GenState.Lookup(uint32(0), st); err != nil {
		return nil, fmt.Errorf("trafficgen: read the counters: %w", err)
	}
	return st, nil
}

// Stats returns what the run has done so far; after the run it returns
// the final figures.
func (g *Generator) Stats() Stats {
	var s Stats
	g.mu.Lock()
	started, ended := g.started, g.ended
	g.mu.Unlock()
	switch {
	case started.IsZero():
	case ended.IsZero():
		s.Elapsed = time.Since(started)
	default:
		s.Elapsed = ended.Sub(started)
		s.Done = true
	}
	st, err := g.readState()
	s.Active = g.active(st, err)
	s.Workers = make([]WorkerStats, len(g.cpus))
	for i, cpu := range g.cpus {
		w := &s.Workers[i]
		w.CPU = cpu
		if err != nil || cpu >= len(st) {
			continue
		}
		w.Frames, w.Paced = st[cpu].Frames, st[cpu].Paced
		w.Bytes = st[cpu].Bytes
		if len(g.spec.Frames) == 1 {
			w.Bytes = w.Frames * g.frameLen
		}
		s.Frames += w.Frames
		s.Bytes += w.Bytes
		s.Paced += w.Paced
	}
	if !started.IsZero() {
		s.Device = g.deviceStats()
	}
	return s
}

// active returns Stats.Active from the per-CPU state st (unless err):
// from the first frame sent to now, or to the end of the run. A paced
// run ends at its last frame plus one interval of the rate, not at the
// end of the kernel call, whose tear-down takes milliseconds.
func (g *Generator) active(st []xdpGenGenState, err error) time.Duration {
	if err != nil {
		return 0
	}
	var first, last uint64
	for _, cpu := range g.cpus {
		if cpu >= len(st) || st[cpu].FirstNs == 0 {
			continue
		}
		if first == 0 || st[cpu].FirstNs < first {
			first = st[cpu].FirstNs
		}
		last = max(last, st[cpu].SentNs)
	}
	if first == 0 {
		return 0
	}
	g.mu.Lock()
	end := g.endedMono
	g.mu.Unlock()
	switch {
	case end != 0 && g.spec.PPS != 0 && last >= first:
		end = last + uint64(time.Second)/g.spec.PPS
	case end == 0:
		end = monotonicNow()
	}
	if end <= first {
		return 0
	}
	return time.Duration(end - first)
}

// deviceStats returns the counters of the device the frames leave by since
// Start; nil for Pass, or when they cannot be read.
func (g *Generator) deviceStats() *DeviceStats {
	if g.out == nil {
		return nil
	}
	c, err := g.out.Counters()
	if err != nil {
		return nil
	}
	d := &DeviceStats{
		TxPackets: c.TxPackets - g.base.TxPackets,
		TxBytes:   c.TxBytes - g.base.TxBytes,
		TxDropped: c.TxDropped - g.base.TxDropped,
		TxErrors:  c.TxErrors - g.base.TxErrors,
	}
	if g.out.Peer != nil {
		if p, err := g.out.Peer.Counters(); err == nil {
			d.Peer = true
			d.PeerRxPackets = p.RxPackets - g.peerBase.RxPackets
			d.PeerRxDropped = p.RxDropped - g.peerBase.RxDropped
		}
	}
	return d
}

// Stop ends the run: every worker's call returns within a batch (the
// kernel checks for signals between batches). It does not wait; Wait
// does. Stop may be called any number of times, also before Start.
func (g *Generator) Stop() {
	g.interrupted.Store(true)
	g.stopWorkers()
}

// stopWorkers ends the run: Stop without it counting as an interruption.
func (g *Generator) stopWorkers() {
	g.stopOnce.Do(func() { close(g.stop) })
}

// Wait waits for the run to end and returns its final Stats and the first
// error a worker met. An interrupted run (Stop, Duration) is not an error.
func (g *Generator) Wait() (Stats, error) {
	g.mu.Lock()
	started := !g.started.IsZero()
	g.mu.Unlock()
	if !started {
		return Stats{}, errors.New("trafficgen: Wait before Start")
	}
	<-g.done
	return g.settle(), g.err
}

// settle returns the final Stats once the device counters have caught up:
// a veth peer counts frames when its NAPI poll takes them, which may be
// after the worker's call returned. It waits until they account for every
// frame sent or stop moving, at most 200 ms, or 50 ms after Stop (which
// should end the run promptly).
func (g *Generator) settle() Stats {
	s := g.Stats()
	wait := 200 * time.Millisecond
	if g.interrupted.Load() {
		wait = 50 * time.Millisecond
	}
	deadline := time.Now().Add(wait)
	for s.Device != nil && s.Device.Delivered() < s.Frames && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		next := g.Stats()
		if next.Device == nil || next.Device.Delivered() == s.Device.Delivered() {
			return next
		}
		s = next
	}
	return s
}

// Run starts the generator, stops it when ctx is done, and waits for the
// end of the run.
func (g *Generator) Run(ctx context.Context) (Stats, error) {
	if err := g.Start(); err != nil {
		return Stats{}, err
	}
	stop := context.AfterFunc(ctx, g.Stop)
	defer stop()
	return g.Wait()
}

// Close stops the run, waits for it and releases the program, its maps
// and the peer's program.
func (g *Generator) Close() error {
	g.stopWorkers()
	g.mu.Lock()
	started, closed := !g.started.IsZero(), g.closed
	g.closed = true
	g.mu.Unlock()
	if closed {
		return nil
	}
	if started {
		<-g.done
	}
	g.objsMu.Lock()
	defer g.objsMu.Unlock()
	var err error
	if g.objs != nil {
		err = g.objs.Close()
		g.objs = nil
	}
	if g.peer != nil {
		err = errors.Join(err, g.peer.Close())
		g.peer = nil
	}
	return err
}

// maxRepeat is the largest repeat one call takes.
const maxRepeat = math.MaxUint32
