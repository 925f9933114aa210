package xsk

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/internal/sys"
	"github.com/xdpkit/xdpkit/netdev"
)

// BindMode chooses between copy and zero-copy binding.
type BindMode uint8

// The bind modes.
const (
	// ModeAuto lets the kernel bind zero-copy where the driver can, and
	// fall back to copy mode.
	ModeAuto BindMode = iota
	// ModeCopy binds in copy mode (XDP_COPY): works on every driver with
	// XDP_REDIRECT, veth included.
	ModeCopy
	// ModeZeroCopy binds in zero-copy mode (XDP_ZEROCOPY) and fails with
	// ErrZeroCopyUnsupported where the driver cannot.
	ModeZeroCopy
)

// String returns "auto", "copy" or "zerocopy".
func (m BindMode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeCopy:
		return "copy"
	case ModeZeroCopy:
		return "zerocopy"
	}
	return fmt.Sprintf("BindMode(%d)", uint8(m))
}

// BusyPoll sets the busy-polling socket options (Linux 5.11+ for Prefer
// and Budget): the process then drives the driver's NAPI itself from
// Socket.WakeRX and Socket.Kick instead of waiting for interrupts.
type BusyPoll struct {
	// Timeout is SO_BUSY_POLL: how long a busy poll may spin.
	Timeout time.Duration
	// Budget is SO_BUSY_POLL_BUDGET: frames per busy poll (0: the
	// kernel's default).
	Budget int
	// Prefer sets SO_PREFER_BUSY_POLL.
	Prefer bool
}

// SocketConfig describes a socket. Interface is required; the rest
// defaults to queue 0, RX and TX rings of 2048 entries, ModeAuto.
type SocketConfig struct {
	// Interface is the name of the interface to bind to.
	Interface string
	// Queue is the queue id to bind to: one of the interface's RX queues.
	Queue uint32
	// RxSize and TxSize are the entries of the RX and TX rings: powers of
	// two; 0 means DefaultRingSize.
	RxSize, TxSize uint32
	// NoRX and NoTX leave out the RX or TX ring (a TX-only or RX-only
	// socket). Not both.
	NoRX, NoTX bool
	// Mode is copy, zero-copy or auto.
	Mode BindMode
	// NeedWakeup binds with XDP_USE_NEED_WAKEUP: the kernel says on each
	// ring when it needs a syscall to make progress, and Kick and WakeRX
	// make one only then. Without it, every Kick is a sendto.
	NeedWakeup bool
	// BusyPoll, when non-nil, sets the busy-polling socket options.
	BusyPoll *BusyPoll
}

func (c SocketConfig) withDefaults() SocketConfig {
	if c.RxSize == 0 {
		c.RxSize = DefaultRingSize
	}
	if c.TxSize == 0 {
		c.TxSize = DefaultRingSize
	}
	return c
}

// Validate checks the configuration without touching the kernel. Its
// errors match os.ErrInvalid.
func (c SocketConfig) Validate() error {
	c = c.withDefaults()
	if c.Interface == "" {
		return errs.Markf(os.ErrInvalid, "no interface given")
	}
	if c.NoRX && c.NoTX {
		return errs.Markf(os.ErrInvalid, "a socket needs an RX or a TX ring: NoRX and NoTX are both set")
	}
	if !c.NoRX {
		if err := checkRingSize("RX", c.RxSize); err != nil {
			return err
		}
	}
	if !c.NoTX {
		if err := checkRingSize("TX", c.TxSize); err != nil {
			return err
		}
	}
	if c.Mode > ModeZeroCopy {
		return errs.Markf(os.ErrInvalid, "bind mode %d: use ModeAuto, ModeCopy or ModeZeroCopy", c.Mode)
	}
	if c.BusyPoll != nil && (c.BusyPoll.Timeout < 0 || c.BusyPoll.Budget < 0) {
		return errs.Markf(os.ErrInvalid, "busy poll timeout and budget must not be negative")
	}
	return nil
}

// umemRings are a FILL and a COMPLETION ring, shared by the sockets bound
// to the same interface and queue of a UMEM.
type umemRings struct {
	fill       *FillRing
	completion *CompletionRing
	// netns, ifindex and queue say where the rings' sockets are bound:
	// an ifindex alone may name different devices in two namespaces.
	netns   uint64
	ifindex int
	queue   uint32
	// members are the open sockets using the rings; a socket that joins
	// them binds with XDP_SHARED_UMEM to one of theirs (or to the UMEM's
	// registration socket, for the first socket's rings).
	members []*Socket
}

// shareFD returns a socket bound with these rings, the one a socket that
// joins them names in its bind (sxdp_shared_umem_fd).
func (r *umemRings) shareFD(u *Umem) int {
	if u.first != nil && r == u.first.rings {
		return u.fd
	}
	return r.members[0].fd
}

func (r *umemRings) remove(s *Socket) {
	for i, m := range r.members {
		if m == s {
			r.members = append(r.members[:i], r.members[i+1:]...)
			return
		}
	}
}

// netnsID identifies the calling thread's network namespace (the inode of
// its nsfs file); 0 when it cannot be read.
func netnsID() uint64 {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return 0
	}
	return st.Ino
}

func (r *umemRings) unmap() error {
	var err error
	if r.fill != nil {
		err = r.fill.unmap()
	}
	if r.completion != nil {
		err = joinErr(err, r.completion.unmap())
	}
	return err
}

// Socket is an AF_XDP socket bound to one queue of one interface. Its ring
// methods are not safe for concurrent use: one goroutine drives a socket
// (or the sockets sharing a queue's FILL and COMPLETION rings).
type Socket struct {
	umem    *Umem
	fd      int
	ownFD   bool
	ifname  string
	ifindex int
	queue   uint32
	flags   uint16

	rings *umemRings
	rx    *RxRing
	tx    *TxRing

	pfd     unix.PollFd
	timeout unix.Timespec

	mu     sync.Mutex
	maps   []*XSKMap
	closed bool
}

// NewSocket creates a socket on u and binds it to cfg.Interface and
// cfg.Queue. The first socket of a UMEM uses the UMEM's registration socket
// and creates the FILL and COMPLETION rings; later ones share the UMEM
// (XDP_SHARED_UMEM): on the same interface and queue they share those
// rings too, elsewhere they get their own. The kernel binds them in the
// first socket's mode and with its need_wakeup: asking for another mode or
// NeedWakeup fails with os.ErrInvalid.
//
// Errors match os.ErrNotExist (no such interface), ErrQueueRange,
// ErrQueueBusy (another socket holds the queue), ErrZeroCopyUnsupported,
// os.ErrInvalid (bad configuration) and caps.ErrMissing.
func NewSocket(u *Umem, cfg SocketConfig) (_ *Socket, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	dev, err := netdev.Lookup(cfg.Interface)
	if err != nil {
		return nil, err
	}
	if q := int(cfg.Queue); q >= dev.RxQueues && q >= dev.TxQueues {
		return nil, errs.Markf(ErrQueueRange, "queue %d is out of range: %s has %s; use a queue below %d%s",
			cfg.Queue, dev.Name, plural(max(dev.RxQueues, dev.TxQueues), "queue"), max(dev.RxQueues, dev.TxQueues), moreQueuesHint(dev))
	}
	if cfg.Mode == ModeZeroCopy {
		if f, ferr := dev.XDPFeatures(); ferr == nil && !f.Has(netdev.FeatureXSKZeroCopy) {
			return nil, errs.Markf(ErrZeroCopyUnsupported, "%s (%s) does not support zero-copy AF_XDP (its XDP features: %s): use copy mode (--copy)", dev.Name, dev.Kind, f)
		}
	}

	netns := netnsID()

	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return nil, errs.Markf(os.ErrClosed, "the UMEM is closed")
	}
	s := &Socket{umem: u, ifname: dev.Name, ifindex: dev.Index, queue: cfg.Queue}
	first := u.first == nil
	if !first {
		if err := u.checkShared(cfg); err != nil {
			return nil, err
		}
	}
	if first {
		s.fd = u.fd
	} else {
		if s.fd, err = sys.XSKSocket(); err != nil {
			return nil, explainSocketErr(err)
		}
		s.ownFD = true
	}
	// Sockets sharing a queue share its FILL and COMPLETION rings;
	// elsewhere each socket brings its own (Linux 5.10+).
	var shared *umemRings
	if !first {
		shared = u.findRings(netns, s.ifindex, s.queue)
	}
	defer func() {
		if err != nil {
			if s.rx != nil {
				s.rx.unmap()
			}
			if s.tx != nil {
				s.tx.unmap()
			}
			if shared == nil && s.rings != nil {
				s.rings.unmap()
			}
			if s.ownFD {
				unix.Close(s.fd)
			} else {
				// The kernel creates a socket's rings once: the
				// registration socket cannot be bound again.
				u.renewFD()
			}
		}
	}()
	if shared == nil {
		if err := sys.XSKSetRingSize(s.fd, unix.XDP_UMEM_FILL_RING, u.cfg.FillSize); err != nil {
			return nil, err
		}
		if err := sys.XSKSetRingSize(s.fd, unix.XDP_UMEM_COMPLETION_RING, u.cfg.CompletionSize); err != nil {
			return nil, err
		}
	}
	if !cfg.NoRX {
		if err := sys.XSKSetRingSize(s.fd, unix.XDP_RX_RING, cfg.RxSize); err != nil {
			return nil, err
		}
	}
	if !cfg.NoTX {
		if err := sys.XSKSetRingSize(s.fd, unix.XDP_TX_RING, cfg.TxSize); err != nil {
			return nil, err
		}
	}
	off, err := sys.XSKMmapOffsets(s.fd)
	if err != nil {
		return nil, err
	}
	if shared == nil {
		s.rings = &umemRings{netns: netns, ifindex: s.ifindex, queue: s.queue}
		if s.rings.fill, err = mapFill(s.fd, off.Fr, u.cfg.FillSize); err != nil {
			return nil, err
		}
		if s.rings.completion, err = mapCompletion(s.fd, off.Cr, u.cfg.CompletionSize); err != nil {
			return nil, err
		}
	} else {
		s.rings = shared
	}
	if !cfg.NoRX {
		if s.rx, err = mapRx(s.fd, off.Rx, cfg.RxSize); err != nil {
			return nil, err
		}
	}
	if !cfg.NoTX {
		if s.tx, err = mapTx(s.fd, off.Tx, cfg.TxSize); err != nil {
			return nil, err
		}
	}
	if cfg.BusyPoll != nil {
		if err := setBusyPoll(s.fd, *cfg.BusyPoll); err != nil {
			return nil, err
		}
	}

	sa := &unix.SockaddrXDP{Ifindex: uint32(s.ifindex), QueueID: s.queue}
	switch cfg.Mode {
	case ModeCopy:
		sa.Flags |= unix.XDP_COPY
	case ModeZeroCopy:
		sa.Flags |= unix.XDP_ZEROCOPY
	}
	if cfg.NeedWakeup {
		sa.Flags |= unix.XDP_USE_NEED_WAKEUP
	}
	s.flags = sa.Flags
	if !first {
		// A socket sharing a UMEM takes its mode and need_wakeup from
		// the UMEM's first socket: the kernel refuses any other flag.
		sa.Flags = unix.XDP_SHARED_UMEM
		sa.SharedUmemFD = uint32(u.fd)
		if shared != nil {
			sa.SharedUmemFD = uint32(shared.shareFD(u))
		}
		s.flags = sa.Flags | u.first.flags&unix.XDP_USE_NEED_WAKEUP
	}
	if err := unix.Bind(s.fd, sa); err != nil {
		return nil, explainBind(err, dev, cfg)
	}

	if shared == nil {
		u.rings = append(u.rings, s.rings)
	}
	s.rings.members = append(s.rings.members, s)
	if first {
		u.first = s
	}
	u.sockets++
	s.pfd = unix.PollFd{Fd: int32(s.fd)}
	return s, nil
}

// findRings returns the FILL and COMPLETION rings of the UMEM's sockets
// bound to queue of the interface ifindex of the namespace netns, nil if
// none.
func (u *Umem) findRings(netns uint64, ifindex int, queue uint32) *umemRings {
	for _, r := range u.rings {
		if r.netns == netns && r.ifindex == ifindex && r.queue == queue {
			return r
		}
	}
	return nil
}

// dropRings forgets rings that no socket uses any more.
func (u *Umem) dropRings(r *umemRings) {
	for i, x := range u.rings {
		if x == r {
			u.rings = append(u.rings[:i], u.rings[i+1:]...)
			return
		}
	}
}

// checkShared checks that cfg asks for what a socket sharing the UMEM gets:
// the kernel binds it with the bind mode and need_wakeup of the UMEM's
// first socket.
func (u *Umem) checkShared(cfg SocketConfig) error {
	f := u.first
	if cfg.NeedWakeup != f.NeedWakeup() {
		return errs.Markf(os.ErrInvalid, "sockets sharing a UMEM use need_wakeup as its first socket does (%s queue %d, NeedWakeup %v): set NeedWakeup to %v, or use another UMEM",
			f.ifname, f.queue, f.NeedWakeup(), f.NeedWakeup())
	}
	if cfg.Mode == ModeAuto {
		return nil
	}
	zc, err := f.ZeroCopy()
	if err != nil {
		return err
	}
	if zc != (cfg.Mode == ModeZeroCopy) {
		mode := ModeCopy
		if zc {
			mode = ModeZeroCopy
		}
		return errs.Markf(os.ErrInvalid, "sockets sharing a UMEM use the bind mode of its first socket (%s queue %d, %s): ask for %s or %s, or use another UMEM",
			f.ifname, f.queue, mode, mode, ModeAuto)
	}
	return nil
}

func setBusyPoll(fd int, bp BusyPoll) error {
	if bp.Prefer {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PREFER_BUSY_POLL, 1); err != nil {
			return fmt.Errorf("setting SO_PREFER_BUSY_POLL: %w", os.NewSyscallError("setsockopt", err))
		}
	}
	if bp.Timeout > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BUSY_POLL, int(bp.Timeout/time.Microsecond)); err != nil {
			return caps.Explain(fmt.Errorf("setting SO_BUSY_POLL: %w", os.NewSyscallError("setsockopt", err)), caps.NetAdmin)
		}
	}
	if bp.Budget > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BUSY_POLL_BUDGET, bp.Budget); err != nil {
			return caps.Explain(fmt.Errorf("setting SO_BUSY_POLL_BUDGET: %w", os.NewSyscallError("setsockopt", err)), caps.NetAdmin)
		}
	}
	return nil
}

func explainSocketErr(err error) error {
	if errors.Is(err, unix.EAFNOSUPPORT) {
		return errs.Markf(errors.ErrUnsupported, "this kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS): %w", err)
	}
	return caps.Explain(err, caps.NetRaw)
}

func explainBind(err error, dev *netdev.Device, cfg SocketConfig) error {
	where := fmt.Sprintf("%s queue %d", dev.Name, cfg.Queue)
	switch {
	case errors.Is(err, unix.EBUSY):
		return errs.Markf(ErrQueueBusy, "binding to %s: the queue already has an AF_XDP socket (%w), or had one until a few tens of milliseconds ago (the kernel frees a queue after an RCU grace period): close it, share its UMEM, or try again", where, err)
	case errors.Is(err, unix.EOPNOTSUPP) && cfg.Mode == ModeZeroCopy:
		return errs.Markf(ErrZeroCopyUnsupported, "binding to %s: %s (%s) does not support zero-copy AF_XDP (%w): use copy mode (--copy)", where, dev.Name, dev.Kind, err)
	case errors.Is(err, unix.EINVAL) && int(cfg.Queue) >= dev.RxQueues:
		return errs.Markf(ErrQueueRange, "binding to %s: queue %d is out of range (%s has %s)", where, cfg.Queue, dev.Name, plural(dev.RxQueues, "RX queue"))
	case errors.Is(err, unix.ENETDOWN):
		return fmt.Errorf("binding to %s: the interface is down (%w): \"ip link set %s up\"", where, err, dev.Name)
	}
	return caps.Explain(fmt.Errorf("binding to %s in %s mode: %w", where, cfg.Mode, os.NewSyscallError("bind", err)), caps.NetRaw)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func moreQueuesHint(dev *netdev.Device) string {
	if dev.Kind == "veth" {
		return ", or make the veth with more (ip link add ... numrxqueues N numtxqueues N)"
	}
	return ", or add queues (ethtool -L)"
}

// FD returns the socket's file descriptor, the value an XSKMAP entry holds.
func (s *Socket) FD() int { return s.fd }

// Interface returns the name of the interface the socket is bound to.
func (s *Socket) Interface() string { return s.ifname }

// Ifindex returns the index of the interface the socket is bound to.
func (s *Socket) Ifindex() int { return s.ifindex }

// Queue returns the queue id the socket is bound to.
func (s *Socket) Queue() uint32 { return s.queue }

// Umem returns the socket's UMEM.
func (s *Socket) Umem() *Umem { return s.umem }

// Fill returns the FILL ring the socket receives into (shared with the
// other sockets of its UMEM on the same queue).
func (s *Socket) Fill() *FillRing { return s.rings.fill }

// Completion returns the COMPLETION ring its sent frames come back on.
func (s *Socket) Completion() *CompletionRing { return s.rings.completion }

// RX returns the RX ring, nil for a socket made with NoRX.
func (s *Socket) RX() *RxRing { return s.rx }

// TX returns the TX ring, nil for a socket made with NoTX.
func (s *Socket) TX() *TxRing { return s.tx }

// NeedWakeup reports whether the socket was bound with XDP_USE_NEED_WAKEUP.
func (s *Socket) NeedWakeup() bool { return s.flags&unix.XDP_USE_NEED_WAKEUP != 0 }

// Kick makes the kernel send what the TX ring holds, with a sendto when
// the ring needs a wakeup (always without NeedWakeup). The transient errors
// of a busy device (EAGAIN, EBUSY, ENOBUFS, ENETDOWN) are not errors: the
// frames stay on the ring for the next Kick. It does not allocate.
func (s *Socket) Kick() error {
	if s.tx == nil || (s.NeedWakeup() && !s.tx.needsWakeup()) {
		return nil
	}
	switch err := sys.XSKKick(s.fd); err {
	case nil, unix.EAGAIN, unix.EBUSY, unix.ENOBUFS, unix.ENETDOWN:
		return nil
	default:
		return os.NewSyscallError("sendto", err)
	}
}

// WakeRX makes the kernel process the FILL ring when it asks for it (a
// recvfrom), or drives busy polling. It does not allocate.
func (s *Socket) WakeRX() error {
	if s.NeedWakeup() && !s.rings.fill.needsWakeup() {
		return nil
	}
	switch err := sys.XSKWakeRX(s.fd); err {
	case nil, unix.EAGAIN, unix.EBUSY, unix.ENOBUFS, unix.ENETDOWN:
		return nil
	default:
		return os.NewSyscallError("recvfrom", err)
	}
}

// Poll waits up to timeout (negative: no limit) for received frames (and,
// with tx set, for room on TX) and reports whether the socket is ready.
// It does not allocate.
func (s *Socket) Poll(timeout time.Duration, tx bool) (bool, error) {
	s.pfd.Events = unix.POLLIN
	if tx {
		s.pfd.Events |= unix.POLLOUT
	}
	s.pfd.Revents = 0
	ts := &s.timeout
	if timeout < 0 {
		ts = nil
	} else {
		s.timeout = unix.NsecToTimespec(int64(timeout))
	}
	ok, err := sys.XSKPoll(&s.pfd, ts)
	if err != nil && err != unix.EINTR {
		return false, os.NewSyscallError("ppoll", err)
	}
	return ok, nil
}

// Statistics are the socket's drop counters (struct xdp_statistics).
type Statistics struct {
	// RxDropped: frames dropped for other reasons than a full ring
	// (e.g. too large for the frame).
	RxDropped uint64 `json:"rx_dropped"`
	// RxInvalidDescs and TxInvalidDescs: descriptors the kernel refused.
	RxInvalidDescs uint64 `json:"rx_invalid_descs"`
	TxInvalidDescs uint64 `json:"tx_invalid_descs"`
	// RxRingFull: frames dropped because the RX ring was full.
	RxRingFull uint64 `json:"rx_ring_full"`
	// RxFillRingEmpty: times a frame found no buffer on the FILL ring.
	RxFillRingEmpty uint64 `json:"rx_fill_ring_empty_descs"`
	// TxRingEmpty: times the kernel found the TX ring empty when woken.
	TxRingEmpty uint64 `json:"tx_ring_empty_descs"`
}

// Stats returns the socket's drop counters (XDP_STATISTICS).
func (s *Socket) Stats() (Statistics, error) {
	st, err := sys.XSKStatistics(s.fd)
	if err != nil {
		return Statistics{}, err
	}
	return Statistics{
		RxDropped:       st.Rx_dropped,
		RxInvalidDescs:  st.Rx_invalid_descs,
		TxInvalidDescs:  st.Tx_invalid_descs,
		RxRingFull:      st.Rx_ring_full,
		RxFillRingEmpty: st.Rx_fill_ring_empty_descs,
		TxRingEmpty:     st.Tx_ring_empty_descs,
	}, nil
}

// ZeroCopy reports whether the socket is bound in zero-copy mode
// (XDP_OPTIONS), which ModeAuto chooses where the driver can.
func (s *Socket) ZeroCopy() (bool, error) {
	flags, err := sys.XSKOptions(s.fd)
	if err != nil {
		return false, err
	}
	return flags&unix.XDP_OPTIONS_ZEROCOPY != 0, nil
}

// Close removes the socket from the XSKMAPs it was registered in, unmaps
// its rings and closes it. The first socket of a UMEM is the UMEM's
// registration socket: it stays bound, receiving nothing once out of the
// maps, until Umem.Close. Close is idempotent.
func (s *Socket) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	maps := s.maps
	s.maps = nil
	s.mu.Unlock()

	var err error
	for _, m := range maps {
		err = joinErr(err, m.unregister(s))
	}
	if s.rx != nil {
		err = joinErr(err, s.rx.unmap())
	}
	if s.tx != nil {
		err = joinErr(err, s.tx.unmap())
	}
	u := s.umem
	u.mu.Lock()
	defer u.mu.Unlock()
	r := s.rings
	r.remove(s)
	if len(r.members) == 0 && r != u.first.rings {
		err = joinErr(err, r.unmap())
		u.dropRings(r)
	}
	if s.ownFD {
		err = joinErr(err, unix.Close(s.fd))
	}
	u.sockets--
	return err
}

// unmapUmemRings unmaps the first socket's FILL and COMPLETION rings when
// the UMEM closes.
func (s *Socket) unmapUmemRings() error {
	return s.rings.unmap()
}
