package xsk_test

import (
	"encoding/binary"
	"errors"
	"math"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// testFrame returns a 64-byte frame to dst with seq in its last 4 bytes and
// EtherType testEtherType (local experimental), which no stack answers.
func testFrame(src, dst net.HardwareAddr, seq uint32) []byte {
	f := make([]byte, 64)
	copy(f, dst)
	copy(f[6:], src)
	binary.BigEndian.PutUint16(f[12:], testEtherType)
	binary.BigEndian.PutUint32(f[60:], seq)
	return f
}

func TestReceiveCopyMode(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	rx := newRX(t, env, xsk.UmemConfig{}, xsk.SocketConfig{Mode: xsk.ModeCopy})
	sock, prog := rx.sock, rx.prog
	if f, left := sock.Fill().Free(), rx.pool.Len(); f != 0 || left != xsk.DefaultNumFrames-xsk.DefaultRingSize {
		t.Fatalf("after filling FILL: %d entries free, %d frames left in the pool; want 0, %d", f, left, xsk.DefaultNumFrames-xsk.DefaultRingSize)
	}
	zc, err := sock.ZeroCopy()
	if err != nil || zc {
		t.Fatalf("ZeroCopy() = %v, %v; want false (copy mode)", zc, err)
	}

	// Fewer frames than the FILL ring holds: a receiver the machine
	// deschedules for a while still loses none.
	const n = 1500
	inner := testutil.OpenPacketSocket(t, env.Inner, testEtherType)
	done := make(chan struct{})
	go func() { defer close(done); sendFromInner(t, inner, env, n) }()
	seen := receive(t, sock, rx.pool, n, 10*time.Second)
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
		// Headroom+XDP_PACKET_HEADROOM would wrap in 32 bits.
		{xsk.UmemConfig{Headroom: math.MaxUint32 - 100}, "leaves no room for data"},
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
