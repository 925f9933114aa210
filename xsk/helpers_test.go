package xsk_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// Helpers of the kernel tests beside xsk_test.go's testFrame, sendFromInner
// and receive.

// testEtherType is the EtherType of testFrame.
const testEtherType = 0x88b5

// seqOf returns a test frame's sequence number; ok is false for other
// frames, such as the IPv6 neighbour discovery and MLD frames that a veth
// end sends on its own (it has a link-local address even in an env
// without IPv6 addresses).
func seqOf(f []byte) (seq uint32, ok bool) {
	if len(f) != 64 || binary.BigEndian.Uint16(f[12:]) != testEtherType {
		return 0, false
	}
	return binary.BigEndian.Uint32(f[60:]), true
}

// smallUmem is a UMEM configuration of 512 frames with rings of 128: small
// enough for tests that make several.
func smallUmem() xsk.UmemConfig {
	return xsk.UmemConfig{NumFrames: 512, FillSize: 128, CompletionSize: 128}
}

// openFDs counts the process's open file descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents) - 1 // ReadDir's own
}

// checkNoFDLeak fails t unless the process has at most before fds,
// allowing a moment for closes done by other goroutines.
func checkNoFDLeak(t testing.TB, before int) {
	t.Helper()
	var now int
	for range 100 {
		if now = openFDs(t); now <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d open fds, %d before: %s", now, before, listFDs())
}

func listFDs() string {
	ents, _ := os.ReadDir("/proc/self/fd")
	s := ""
	for _, e := range ents {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		s += fmt.Sprintf("%s->%s ", e.Name(), l)
	}
	return s
}

// settledGoroutines waits up to a second for the number of goroutines to
// fall to at most want and returns the last count.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 100 && n > want; i++ {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// xdpProgID returns the ID of the XDP program attached to iface in the
// current namespace, 0 if none.
func xdpProgID(t testing.TB, iface string) uint32 {
	t.Helper()
	l, err := netlink.LinkByName(iface)
	if err != nil {
		t.Fatal(err)
	}
	if x := l.Attrs().Xdp; x != nil && x.Attached {
		return x.ProgId
	}
	return 0
}

// rxSetup is a receiver on the outer end: UMEM, one socket, the default
// program, FILL filled from a pool of all frames.
type rxSetup struct {
	umem *xsk.Umem
	sock *xsk.Socket
	prog *xsk.Program
	pool *xsk.FramePool
}

// newRX makes an rxSetup on env's outer end, closed when t ends.
func newRX(t testing.TB, env *netenv.Env, ucfg xsk.UmemConfig, scfg xsk.SocketConfig) *rxSetup {
	t.Helper()
	umem, err := xsk.NewUmem(ucfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := umem.Close(); err != nil {
			t.Errorf("Umem.Close: %v", err)
		}
	})
	scfg.Interface = env.Outer.Interface
	sock, err := xsk.NewSocket(umem, scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	prog, err := xsk.AttachProgram(env.Outer.Interface, xsk.ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prog.Close() })
	if err := prog.Register(sock); err != nil {
		t.Fatal(err)
	}
	pool := xsk.NewFramePool(umem, 0, umem.NumFrames())
	sock.FillFrom(pool, sock.Fill().Size())
	return &rxSetup{umem: umem, sock: sock, prog: prog, pool: pool}
}

// counters sums the program's counters per queue.
func counters(t testing.TB, p *xsk.Program) map[uint32]xsk.QueueCounters {
	t.Helper()
	cs, err := p.Counters()
	if err != nil {
		t.Fatal(err)
	}
	m := map[uint32]xsk.QueueCounters{}
	for _, c := range cs {
		m[c.Queue] = c
	}
	return m
}

// transmit sends frames through sock's TX ring: each is copied into a
// frame taken from pool, and the pool gets them back from COMPLETION. It
// returns when all have completed, or fails t after within.
func transmit(t testing.TB, sock *xsk.Socket, pool *xsk.FramePool, frames [][]byte, within time.Duration) {
	t.Helper()
	if err := transmitErr(sock, pool, frames, within); err != nil {
		t.Fatal(err)
	}
}

// transmitErr is transmit for callers that cannot fail a test (inside
// env.Do).
func transmitErr(sock *xsk.Socket, pool *xsk.FramePool, frames [][]byte, within time.Duration) error {
	u := sock.Umem()
	tx := sock.TX()
	sent, completed := 0, 0
	deadline := time.Now().Add(within)
	for completed < len(frames) {
		if time.Now().After(deadline) {
			st, _ := sock.Stats()
			return fmt.Errorf("sent %d of %d frames, %d completed within %v (stats %+v)", sent, len(frames), completed, within, st)
		}
		if n := uint32(min(len(frames)-sent, pool.Len())); n > 0 {
			idx, got := tx.Reserve(n)
			for i := range got {
				addr, _ := pool.Get()
				f := frames[sent+int(i)]
				copy(u.Data(addr, uint32(len(f))), f)
				tx.Set(idx+i, xsk.Desc{Addr: addr, Len: uint32(len(f))})
			}
			if got > 0 {
				tx.Submit(got)
				sent += int(got)
			}
		}
		if err := sock.Kick(); err != nil {
			return err
		}
		c := sock.CompleteTo(pool, uint32(pool.Cap()))
		completed += int(c)
		if c == 0 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	return nil
}

// packetListener is an AF_PACKET socket on the inner end that takes the
// test frames (EtherType testEtherType).
type packetListener struct {
	fd int
}

// listenInner opens a packetListener inside env's inner namespace, closed
// when t ends.
func listenInner(t testing.TB, env *netenv.Env) *packetListener {
	t.Helper()
	var fd int
	err := env.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(testEtherType)))
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(testEtherType), Ifindex: env.Inner.Ifindex}); err != nil {
			unix.Close(fd)
			return err
		}
		// Room for every frame a test sends before it reads.
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 16<<20); err != nil {
			unix.Close(fd)
			return err
		}
		tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		t.Fatalf("AF_PACKET socket on %s: %v", env.Inner.Interface, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &packetListener{fd: fd}
}

// count reads test frames until want arrived or within passed and returns
// how often each sequence number came, and the frames that were not 64
// bytes long.
func (l *packetListener) count(want int, within time.Duration) (seen map[uint32]int, bad int) {
	seen = map[uint32]int{}
	buf := make([]byte, 2048)
	got := 0
	deadline := time.Now().Add(within)
	for got < want && time.Now().Before(deadline) {
		n, _, err := unix.Recvfrom(l.fd, buf, 0)
		if err != nil {
			continue // EAGAIN after SO_RCVTIMEO, EINTR
		}
		if n != 64 || binary.BigEndian.Uint16(buf[12:]) != testEtherType {
			bad++
			continue
		}
		seen[binary.BigEndian.Uint32(buf[60:])]++
		got++
	}
	return seen, bad
}

// drain reads what is waiting without blocking longer than one timeout.
func (l *packetListener) drain() int {
	buf := make([]byte, 2048)
	n := 0
	for {
		if _, _, err := unix.Recvfrom(l.fd, buf, unix.MSG_DONTWAIT); err != nil {
			return n
		}
		n++
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// innerSender is a TX-only AF_XDP socket on one queue of the inner end.
// A copy-mode AF_XDP socket transmits on its own queue (the skb's queue
// mapping is the socket's queue id), and a veth delivers what it sends
// on TX queue q to its peer's RX queue q: the way to steer frames to an
// RX queue of the outer end.
type innerSender struct {
	umem *xsk.Umem
	sock *xsk.Socket
	pool *xsk.FramePool
}

// newInnerSender makes an innerSender on queue q of env's inner end,
// closed when t ends.
func newInnerSender(t testing.TB, env *netenv.Env, q uint32) *innerSender {
	t.Helper()
	s := &innerSender{}
	err := env.Do(func() error {
		var err error
		if s.umem, err = xsk.NewUmem(smallUmem()); err != nil {
			return err
		}
		if s.sock, err = xsk.NewSocket(s.umem, xsk.SocketConfig{Interface: env.Inner.Interface, Queue: q, NoRX: true, Mode: xsk.ModeCopy}); err != nil {
			s.umem.Close()
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("TX socket on %s queue %d: %v", env.Inner.Interface, q, err)
	}
	t.Cleanup(func() {
		s.sock.Close()
		if err := s.umem.Close(); err != nil {
			t.Errorf("closing the inner UMEM: %v", err)
		}
	})
	s.pool = xsk.NewFramePool(s.umem, 0, s.umem.NumFrames())
	return s
}

// send transmits n test frames to the outer end, seq first+0 .. first+n-1.
func (s *innerSender) send(t testing.TB, env *netenv.Env, first uint32, n int) {
	t.Helper()
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = testFrame(env.Inner.MAC, env.Outer.MAC, first+uint32(i))
	}
	transmit(t, s.sock, s.pool, frames, 5*time.Second)
}

// newSocketRebind is xsk.NewSocket for a queue whose sockets were just
// closed: the kernel frees a queue an RCU grace period and a work item
// after its last socket closed (some 20 ms), and refuses it with EBUSY
// until then.
func newSocketRebind(u *xsk.Umem, cfg xsk.SocketConfig) (*xsk.Socket, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		s, err := xsk.NewSocket(u, cfg)
		if err == nil || !errors.Is(err, xsk.ErrQueueBusy) || time.Now().After(deadline) {
			return s, err
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// requireErr fails t unless err matches target.
func requireErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: %v; want an error matching %v", what, err, target)
	}
}
