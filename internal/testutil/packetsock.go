package testutil

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/netenv"
)

// PacketSocket is an AF_PACKET socket bound to one end of a test env: it
// puts frames on the veth as if the end's stack sent them, and reads the
// frames that arrive there.
type PacketSocket struct {
	fd      int
	ifindex int
}

// OpenPacketSocket opens a packet socket in end's namespace, bound to its
// interface and to frames of the given EtherType, and closes it when t
// ends.
func OpenPacketSocket(t testing.TB, end netenv.End, ethertype uint16) *PacketSocket {
	t.Helper()
	proto := int(htons(ethertype))
	p := &PacketSocket{ifindex: end.Ifindex}
	err := end.Do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return err
		}
		p.fd = fd
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: end.Ifindex}); err != nil {
			unix.Close(fd)
			return err
		}
		// Room for tens of thousands of frames, so that a burst is not
		// lost in the socket before the test reads it.
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 64<<20); err != nil {
			return err
		}
		tv := unix.NsecToTimeval(int64(50 * time.Millisecond))
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		t.Fatalf("packet socket on %s: %v", end.Interface, err)
	}
	t.Cleanup(func() { unix.Close(p.fd) })
	return p
}

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// Send puts one frame on the interface, retrying while the queue is full.
// It allocates nothing.
func (p *PacketSocket) Send(frame []byte) error {
	for {
		_, err := unix.Write(p.fd, frame)
		if err != unix.ENOBUFS && err != unix.EAGAIN {
			return err
		}
		runtime.Gosched()
	}
}

// Receive reads the frames that arrive at the interface (not those it
// sends) and gives each to fn until fn returns false or the time is up.
func (p *PacketSocket) Receive(within time.Duration, fn func(frame []byte) bool) {
	buf := make([]byte, 65536)
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		n, from, err := unix.Recvfrom(p.fd, buf, 0)
		if err != nil {
			continue // the 50 ms timeout, or EINTR
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		if !fn(buf[:n]) {
			return
		}
	}
}
