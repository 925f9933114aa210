package xsk_test

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// testFrame returns a 64-byte frame to dst with seq in its last 4 bytes and
// EtherType 0x88b5 (local experimental), which no stack answers.
func testFrame(src, dst net.HardwareAddr, seq uint32) []byte {
	f := make([]byte, 64)
	copy(f, dst)
	copy(f[6:], src)
	binary.BigEndian.PutUint16(f[12:], 0x88b5)
	binary.BigEndian.PutUint32(f[60:], seq)
	return f
}

// sendFromInner sends n test frames out of the env's inner end (so that
// they arrive on the outer end) with an AF_PACKET socket made inside the
// inner namespace.
func sendFromInner(t *testing.T, env *netenv.Env, n int) {
	t.Helper()
	err := env.Do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		sa := &unix.SockaddrLinklayer{Ifindex: env.Inner.Ifindex, Halen: 6}
		copy(sa.Addr[:], env.Outer.MAC)
		for i := range n {
			f := testFrame(env.Inner.MAC, env.Outer.MAC, uint32(i))
			for {
				err := unix.Sendto(fd, f, 0, sa)
				if err == unix.ENOBUFS || err == unix.EAGAIN {
					runtime.Gosched()
					continue
				}
				if err != nil {
					return err
				}
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("sending from %s: %v", env.Inner.Interface, err)
	}
}

// receive drains sock until want test frames arrived or the deadline
// passes, recycling frames into FILL, and returns the sequence numbers
// seen.
func receive(t *testing.T, sock *xsk.Socket, pool *xsk.FramePool, want int, within time.Duration) map[uint32]int {
	t.Helper()
	seen := map[uint32]int{}
	got := 0
	u := sock.Umem()
	deadline := time.Now().Add(within)
	for got < want && time.Now().Before(deadline) {
		rx := sock.RX()
		idx, n := rx.Peek(64)
		if n == 0 {
			sock.WakeRX()
			time.Sleep(100 * time.Microsecond)
			continue
		}
		for i := range n {
			d := rx.Desc(idx + i)
			f := u.Data(d.Addr, d.Len)
			if len(f) == 64 && binary.BigEndian.Uint16(f[12:]) == 0x88b5 {
				seen[binary.BigEndian.Uint32(f[60:])]++
				got++
			}
			pool.Put(u.Chunk(d.Addr))
		}
		rx.Release(n)
		sock.FillFrom(pool, uint32(pool.Len()))
	}
	return seen
}

func TestReceiveCopyMode(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	umem, err := xsk.NewUmem(xsk.UmemConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer umem.Close()
	sock, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Mode: xsk.ModeCopy})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	prog, err := xsk.AttachProgram(env.Outer.Interface, xsk.ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	if err := prog.Register(sock); err != nil {
		t.Fatal(err)
	}
	pool := xsk.NewFramePool(umem, 0, umem.NumFrames())
	if n := sock.FillFrom(pool, 2048); n != 2048 {
		t.Fatalf("FillFrom moved %d frames, want 2048", n)
	}
	zc, err := sock.ZeroCopy()
	if err != nil || zc {
		t.Fatalf("ZeroCopy() = %v, %v; want false (copy mode)", zc, err)
	}

	// Fewer frames than the FILL ring holds: a receiver the machine
	// deschedules for a while still loses none.
	const n = 1500
	done := make(chan struct{})
	go func() { defer close(done); sendFromInner(t, env, n) }()
	seen := receive(t, sock, pool, n, 10*time.Second)
	<-done
	if len(seen) != n {
		t.Fatalf("received %d distinct frames, want %d", len(seen), n)
	}
	st, err := sock.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st != (xsk.Statistics{}) {
		t.Errorf("drop counters %+v, want zeros", st)
	}
	c, err := prog.Counters()
	if err != nil {
		t.Fatal(err)
	}
	var redirected uint64
	for _, q := range c {
		redirected += q.Redirected
	}
	if redirected < n {
		t.Errorf("program counted %d redirected frames, want >= %d", redirected, n)
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		cfg  xsk.UmemConfig
		want string
	}{
		{xsk.UmemConfig{FrameSize: 3000}, "frame size 3000"},
		{xsk.UmemConfig{FillSize: 1000}, "FILL ring size 1000 is not a power of two"},
		{xsk.UmemConfig{NumFrames: 1024}, "UMEM too small for the rings"},
		{xsk.UmemConfig{FrameSize: 2048, Headroom: 1800}, "headroom 1800"},
	} {
		err := tc.cfg.Validate()
		if !errors.Is(err, os.ErrInvalid) || !contains(err, tc.want) {
			t.Errorf("%+v: %v; want os.ErrInvalid mentioning %q", tc.cfg, err, tc.want)
		}
	}
	err := xsk.SocketConfig{Interface: "x", RxSize: 100}.Validate()
	if !errors.Is(err, os.ErrInvalid) || !contains(err, "RX ring size 100") {
		t.Errorf("RxSize 100: %v", err)
	}
}

func contains(err error, s string) bool {
	return err != nil && len(s) > 0 && strings.Contains(err.Error(), s)
}
