package xsk_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// TestUnalignedChunks receives into and transmits from a UMEM of
// 3000-byte chunks (XDP_UMEM_UNALIGNED_CHUNK_FLAG): descriptors carry the
// data's offset in their top 16 bits, Data finds the bytes, Chunk the
// chunk the FILL ring got, and TxAddr sends from any offset of a chunk.
func TestUnalignedChunks(t *testing.T) {
	for _, headroom := range []uint32{0, 192} {
		t.Run(fmt.Sprintf("headroom=%d", headroom), func(t *testing.T) {
			testUnaligned(t, headroom)
		})
	}
}

func testUnaligned(t *testing.T, headroom uint32) {
	const frameSize = 3000
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true})
	cfg := xsk.UmemConfig{UnalignedChunks: true, FrameSize: frameSize, NumFrames: 512, FillSize: 128, CompletionSize: 128, Headroom: headroom}
	rx := newRX(t, env, cfg, xsk.SocketConfig{Mode: xsk.ModeCopy, RxSize: 128, TxSize: 128})
	u, sock, pool := rx.umem, rx.sock, rx.pool
	if !u.Config().UnalignedChunks || u.FrameSize() != frameSize {
		t.Fatalf("config %+v", u.Config())
	}

	// RX: 3 batches of 100 (the FILL ring holds 128).
	sender := newInnerSender(t, env, 0)
	wantOff := uint64(xsk.PacketHeadroom + headroom)
	for batch := range uint32(3) {
		sender.send(t, env, batch*100, 100)
		got := 0
		deadline := time.Now().Add(5 * time.Second)
		for got < 100 && time.Now().Before(deadline) {
			r := sock.RX()
			idx, n := r.Peek(32)
			if n == 0 {
				time.Sleep(100 * time.Microsecond)
				continue
			}
			for i := range n {
				d := r.Desc(idx + i)
				chunk := u.Chunk(d.Addr)
				if off := d.Addr >> 48; off != wantOff {
					t.Fatalf("descriptor %#x: offset %d, want %d", d.Addr, off, wantOff)
				}
				if chunk%frameSize != 0 || chunk >= uint64(u.NumFrames())*frameSize {
					t.Fatalf("descriptor %#x: Chunk %d is not one of the chunks given to FILL", d.Addr, chunk)
				}
				f := u.Data(d.Addr, d.Len)
				if cap(f) != frameSize-int(wantOff) {
					t.Errorf("cap(Data) %d, want %d", cap(f), frameSize-int(wantOff))
				}
				if !pool.Put(chunk) {
					t.Fatal("a frame came back twice")
				}
				seq, ok := seqOf(f)
				if !ok {
					continue // IPv6 ND or MLD from the inner end
				}
				if seq != batch*100+uint32(got) {
					t.Fatalf("frame %d where %d was due", seq, batch*100+uint32(got))
				}
				got++
			}
			r.Release(n)
			sock.FillFrom(pool, n)
		}
		if got != 100 {
			t.Fatalf("batch %d: received %d of 100", batch, got)
		}
	}

	// TX from odd offsets of chunks.
	l := testutil.OpenPacketSocket(t, env.Inner, testEtherType)
	const n = 300
	tx := sock.TX()
	inFlight := map[uint64]bool{}
	sent, completed := 0, 0
	deadline := time.Now().Add(5 * time.Second)
	for completed < n && time.Now().Before(deadline) {
		if want := min(n-sent, 32); want > 0 {
			idx, got := tx.Reserve(uint32(want))
			for i := range got {
				chunk, ok := pool.Get()
				if !ok {
					t.Fatal("pool empty")
				}
				addr := u.TxAddr(chunk, uint32(1+sent%700)) // odd, past a page at times
				copy(u.Data(addr, 64), testFrame(env.Outer.MAC, env.Inner.MAC, uint32(sent)))
				tx.Set(idx+i, xsk.Desc{Addr: addr, Len: 64})
				inFlight[chunk] = true
				sent++
			}
			tx.Submit(got)
		}
		if err := sock.Kick(); err != nil {
			t.Fatal(err)
		}
		c := sock.Completion()
		idx, got := c.Peek(64)
		for i := range got {
			chunk := u.Chunk(c.Addr(idx + i))
			if !inFlight[chunk] {
				t.Fatalf("completion of %#x (chunk %d), which is not in flight", c.Addr(idx+i), chunk)
			}
			delete(inFlight, chunk)
			pool.Put(chunk)
		}
		c.Release(got)
		completed += int(got)
		if got == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	if completed != n || len(inFlight) != 0 {
		t.Fatalf("%d of %d completed, %d in flight", completed, n, len(inFlight))
	}
	seen, bad := countFrames(l, n, 5*time.Second)
	if len(seen) != n || bad != 0 {
		t.Fatalf("inner end received %d distinct frames of %d (%d bad)", len(seen), n, bad)
	}
	st, err := sock.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.RxDropped+st.RxInvalidDescs+st.TxInvalidDescs+st.RxRingFull+st.RxFillRingEmpty != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestUmemConfigKernel: what Validate accepts, the kernel registers, at
// the bounds of the frame size.
func TestUmemConfigKernel(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, cfg := range []xsk.UmemConfig{
		{FrameSize: 2048, NumFrames: 256, FillSize: 64, CompletionSize: 64},
		{FrameSize: 4096, NumFrames: 256, FillSize: 64, CompletionSize: 64},
		{UnalignedChunks: true, FrameSize: 2048, NumFrames: 256, FillSize: 64, CompletionSize: 64},
		{UnalignedChunks: true, FrameSize: 2049, NumFrames: 255, FillSize: 64, CompletionSize: 64},
		{UnalignedChunks: true, FrameSize: 4096, NumFrames: 256, FillSize: 64, CompletionSize: 64, Headroom: 2048},
	} {
		u, err := xsk.NewUmem(cfg)
		if err != nil {
			t.Errorf("%+v: %v", cfg, err)
			continue
		}
		if err := u.Close(); err != nil {
			t.Error(err)
		}
	}
	// The largest headroom Validate takes: older kernels accept it, newer
	// ones keep room for a struct skb_shared_info too, and the error says
	// so.
	cfg := xsk.UmemConfig{FrameSize: 2048, NumFrames: 256, FillSize: 64, CompletionSize: 64, Headroom: 2048 - xsk.PacketHeadroom - 1}
	if u, err := xsk.NewUmem(cfg); err == nil {
		u.Close()
	} else if !strings.Contains(err.Error(), "smaller headroom") {
		t.Errorf("headroom %d: %v; want an error that says to use a smaller headroom", cfg.Headroom, err)
	}
	for _, cfg := range []xsk.UmemConfig{
		{UnalignedChunks: true, FrameSize: 2047},
		{UnalignedChunks: true, FrameSize: 4097},
		{FrameSize: 3000},
		{CompletionSize: 3},
		{FillSize: 1 << 21, NumFrames: 1 << 22},
	} {
		if _, err := xsk.NewUmem(cfg); !errors.Is(err, os.ErrInvalid) {
			t.Errorf("%+v: %v; want os.ErrInvalid", cfg, err)
		}
	}
}
