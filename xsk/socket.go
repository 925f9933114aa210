package xsk

import (
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/internal/sys"
	"github.com/xdpkit/xdpkit/netdev"
)

// Socket is an AF_XDP socket bound to one queue of one interface. Its ring
// methods are not safe for concurrent use: one goroutine drives a socket
// (or the sockets sharing a queue's FILL and COMPLETION rings).
type Socket struct {
	umem     *Umem
	fd       int
	ownFD    bool
	ifname   string
	ifindex  int
	queue    uint32
	flags    uint16
	busyPoll bool // set up with SocketConfig.BusyPoll

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
// NeedWakeup fails with os.ErrInvalid. The first socket binds in the
// network namespace NewUmem ran in; later ones in the calling thread's.
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
	if err := checkQueue(dev, cfg); err != nil {
		return nil, err
	}
	if cfg.Mode == ModeZeroCopy {
		if f, ferr := dev.XDPFeatures(); ferr == nil && !f.Has(netdev.FeatureXSKZeroCopy) {
			return nil, zeroCopyUnsupported(dev, f)
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
	if first && netns != u.netns && netns != 0 && u.netns != 0 {
		return nil, errs.Markf(os.ErrInvalid, "%s is not in the network namespace the UMEM was made in: the UMEM's first socket is the socket it was registered on, which binds in that namespace; make the UMEM in %s's namespace", dev.Name, dev.Name)
	}
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
		s.busyPoll = true
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
		err = errors.Join(err, m.unregister(s))
	}
	if s.rx != nil {
		err = errors.Join(err, s.rx.unmap())
	}
	if s.tx != nil {
		err = errors.Join(err, s.tx.unmap())
	}
	u := s.umem
	u.mu.Lock()
	defer u.mu.Unlock()
	r := s.rings
	r.remove(s)
	if len(r.members) == 0 && r != u.first.rings {
		err = errors.Join(err, r.unmap())
		u.dropRings(r)
	}
	if s.ownFD {
		err = errors.Join(err, unix.Close(s.fd))
	}
	u.sockets--
	return err
}

// unmapUmemRings unmaps the first socket's FILL and COMPLETION rings when
// the UMEM closes.
func (s *Socket) unmapUmemRings() error {
	return s.rings.unmap()
}
