package xsk_test

import (
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// TestTransmit sends frames from an AF_XDP socket on the outer end and
// counts them with an AF_PACKET socket on the inner end: every frame
// arrives once, and every frame comes back on COMPLETION.
func TestTransmit(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	umem := newUmem(t, smallUmem())
	sock, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, NoRX: true, TxSize: 256, Mode: xsk.ModeCopy})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	if sock.RX() != nil || sock.TX() == nil || sock.TX().Size() != 256 {
		t.Fatalf("TX-only socket: RX %v, TX %v", sock.RX(), sock.TX())
	}
	l := testutil.OpenPacketSocket(t, env.Inner, testEtherType)
	pool := xsk.NewFramePool(umem, 0, umem.NumFrames())

	const n = 2000 // several times the UMEM, the TX and the COMPLETION ring
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = testFrame(env.Outer.MAC, env.Inner.MAC, uint32(i))
	}
	done := make(chan struct{})
	var seen map[uint32]int
	var bad int
	go func() { defer close(done); seen, bad = countFrames(l, n, 10*time.Second) }()
	transmit(t, sock, pool, frames, 10*time.Second)
	<-done
	if len(seen) != n || bad != 0 {
		t.Fatalf("inner end received %d distinct test frames of %d (and %d others)", len(seen), n, bad)
	}
	for seq, c := range seen {
		if c != 1 || seq >= n {
			t.Fatalf("frame %d received %d times", seq, c)
		}
	}
	if pool.Len() != pool.Cap() {
		t.Errorf("pool holds %d of %d frames after all completions", pool.Len(), pool.Cap())
	}
	if a := sock.Completion().Available(); a != 0 {
		t.Errorf("%d completions left", a)
	}
	if extra, _ := countFrames(l, 1, 50*time.Millisecond); len(extra) != 0 {
		t.Errorf("extra frames arrived: %v", extra)
	}
	st, err := sock.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.TxInvalidDescs != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestTransmitInvalidDesc: a descriptor outside the UMEM is counted in
// TxInvalidDescs and not sent, and the frames around it go out. (Linux
// 6.x also returns its address on COMPLETION, older kernels do not.)
func TestTransmitInvalidDesc(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	umem := newUmem(t, smallUmem())
	sock, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, NoRX: true, Mode: xsk.ModeCopy})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	l := testutil.OpenPacketSocket(t, env.Inner, testEtherType)

	tx := sock.TX()
	idx, got := tx.Reserve(3)
	if got != 3 {
		t.Fatal(got)
	}
	for i, addr := range []uint64{umem.FrameAddr(0), umem.FrameAddr(umem.NumFrames()) + 4096, umem.FrameAddr(1)} {
		if i != 1 {
			copy(umem.Data(addr, 64), testFrame(env.Outer.MAC, env.Inner.MAC, uint32(i)))
		}
		tx.Set(idx+uint32(i), xsk.Desc{Addr: addr, Len: 64})
	}
	tx.Submit(3)
	valid := map[uint64]bool{}
	deadline := time.Now().Add(5 * time.Second)
	for len(valid) < 2 && time.Now().Before(deadline) {
		if err := sock.Kick(); err != nil {
			t.Fatal(err)
		}
		c := sock.Completion()
		idx, n := c.Peek(8)
		for i := range n {
			switch a := c.Addr(idx + i); a {
			case umem.FrameAddr(0), umem.FrameAddr(1):
				valid[a] = true
			case umem.FrameAddr(umem.NumFrames()) + 4096:
			default:
				t.Errorf("completion of %d, which was never sent", a)
			}
		}
		c.Release(n)
		time.Sleep(time.Millisecond)
	}
	if len(valid) != 2 {
		t.Fatalf("completions of frames %v, want 0 and %d", valid, umem.FrameAddr(1))
	}
	seen, _ := countFrames(l, 2, 5*time.Second)
	if seen[0] != 1 || seen[2] != 1 || len(seen) != 2 {
		t.Fatalf("received %v, want frames 0 and 2", seen)
	}
	st, err := sock.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.TxInvalidDescs != 1 {
		t.Fatalf("TxInvalidDescs %d, want 1 (%+v)", st.TxInvalidDescs, st)
	}
}
