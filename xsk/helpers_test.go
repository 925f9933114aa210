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

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// Helpers of the kernel tests beside xsk_test.go's testFrame.

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

// receive drains sock until want test frames arrived or within passed,
// refilling FILL from pool, and returns how often each sequence number
// came.
func receive(t testing.TB, sock *xsk.Socket, pool *xsk.FramePool, want int, within time.Duration) map[uint32]int {
	t.Helper()
	return receiveEach(t, []*xsk.Socket{sock}, []*xsk.FramePool{pool}, 0, want, within)[0]
}

// receiveEach drains socks until want test frames arrived in all or
// within passed, socket i refilling its FILL ring from pools[i], and
// returns how often each sequence number came to each socket. With
// perSocket > 0, socket i owns frames i*perSocket to (i+1)*perSocket-1
// (NewFramePool(u, i*perSocket, perSocket)) and must receive into no
// other: the check that it has a FILL ring of its own.
func receiveEach(t testing.TB, socks []*xsk.Socket, pools []*xsk.FramePool, perSocket uint32, want int, within time.Duration) []map[uint32]int {
	t.Helper()
	seen := make([]map[uint32]int, len(socks))
	for i := range seen {
		seen[i] = map[uint32]int{}
	}
	got := 0
	deadline := time.Now().Add(within)
	for got < want && time.Now().Before(deadline) {
		progress := false
		for i, s := range socks {
			u, rx := s.Umem(), s.RX()
			idx, n := rx.Peek(64)
			if n == 0 {
				if err := s.WakeRX(); err != nil {
					t.Fatal(err)
				}
				continue
			}
			for j := range n {
				d := rx.Desc(idx + j)
				if seq, ok := seqOf(u.Data(d.Addr, d.Len)); ok {
					seen[i][seq]++
					got++
				}
				if f := uint32(u.Chunk(d.Addr) / uint64(u.FrameSize())); perSocket > 0 && f/perSocket != uint32(i) {
					t.Errorf("socket %d received into frame %d, outside its frames %d to %d", i, f, uint32(i)*perSocket, uint32(i+1)*perSocket-1)
				}
				if !pools[i].Put(d.Addr) {
					t.Errorf("socket %d: frame %#x came back twice", i, d.Addr)
				}
			}
			rx.Release(n)
			s.FillFrom(pools[i], uint32(pools[i].Len()))
			progress = true
		}
		if !progress {
			time.Sleep(100 * time.Microsecond)
		}
	}
	return seen
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
	umem := newUmem(t, ucfg)
	scfg.Interface = env.Outer.Interface
	sock, prog := listen(t, umem, scfg)
	pool := xsk.NewFramePool(umem, 0, umem.NumFrames())
	sock.FillFrom(pool, sock.Fill().Size())
	return &rxSetup{umem: umem, sock: sock, prog: prog, pool: pool}
}

// newUmem makes a UMEM, closed when t ends (after the sockets that t's
// defers and later cleanups close).
func newUmem(t testing.TB, cfg xsk.UmemConfig) *xsk.Umem {
	t.Helper()
	umem, err := xsk.NewUmem(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := umem.Close(); err != nil {
			t.Errorf("Umem.Close: %v", err)
		}
	})
	return umem
}

// listen makes a socket of u as scfg says, attaches the default program to
// its interface and registers the socket there; both are closed when t
// ends.
func listen(t testing.TB, u *xsk.Umem, scfg xsk.SocketConfig) (*xsk.Socket, *xsk.Program) {
	t.Helper()
	sock, err := xsk.NewSocket(u, scfg)
	if err != nil {
		t.Fatalf("socket on %s: %v", scfg.Interface, err)
	}
	t.Cleanup(func() { sock.Close() })
	prog, err := xsk.AttachProgram(scfg.Interface, xsk.ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prog.Close() })
	if err := prog.Register(sock); err != nil {
		t.Fatal(err)
	}
	return sock, prog
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

// countFrames reads the test frames arriving at p until want came or
// within passed, and returns how often each sequence number came and how
// many frames of testEtherType were not test frames.
func countFrames(p *testutil.PacketSocket, want int, within time.Duration) (seen map[uint32]int, bad int) {
	seen = map[uint32]int{}
	got := 0
	p.Receive(within, func(f []byte) bool {
		if seq, ok := seqOf(f); ok {
			seen[seq]++
			got++
		} else {
			bad++
		}
		return got < want
	})
	return seen, bad
}

// sendFromInner sends n test frames, seq 0 to n-1, out of env's inner end
// (so that they arrive on the outer end) through p, a packet socket on the
// inner end. It reports a failure with t.Error: it may run in a goroutine
// of its own.
func sendFromInner(t testing.TB, p *testutil.PacketSocket, env *netenv.Env, n int) {
	for i := range n {
		if err := p.Send(testFrame(env.Inner.MAC, env.Outer.MAC, uint32(i))); err != nil {
			t.Errorf("sending from %s: %v", env.Inner.Interface, err)
			return
		}
	}
}

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
