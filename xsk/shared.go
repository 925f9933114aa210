package xsk

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// Sharing a UMEM (XDP_SHARED_UMEM): the UMEM keeps a registry of the FILL
// and COMPLETION rings in use, one pair per interface and queue, and of
// the sockets using each pair.

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

func (r *umemRings) unmap() error {
	var err error
	if r.fill != nil {
		err = r.fill.unmap()
	}
	if r.completion != nil {
		err = errors.Join(err, r.completion.unmap())
	}
	return err
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
