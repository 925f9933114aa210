package xsk

import (
	"encoding/binary"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
)

// Ring benchmarks run on rings in Go memory (see ring_test.go), the
// consumer side playing the kernel. An op is one entry, moved in batches.

const benchBatch = 64

func BenchmarkRingFillCompletion(b *testing.B) {
	p, c, _ := addrRings(2048, 0)
	b.ReportAllocs()
	for n := 0; n < b.N; n += benchBatch {
		idx, got := p.Reserve(benchBatch)
		for i := range got {
			p.Set(idx+i, uint64(i)<<12)
		}
		p.Submit(got)
		idx, got = c.Peek(benchBatch)
		var sum uint64
		for i := range got {
			sum += c.Addr(idx + i)
		}
		c.Release(got)
		_ = sum
	}
}

func BenchmarkRingTxRx(b *testing.B) {
	p, c, _ := descRings(2048, 0)
	b.ReportAllocs()
	for n := 0; n < b.N; n += benchBatch {
		idx, got := p.Reserve(benchBatch)
		for i := range got {
			p.Set(idx+i, Desc{Addr: uint64(i) << 12, Len: 64})
		}
		p.Submit(got)
		idx, got = c.Peek(benchBatch)
		var sum uint32
		for i := range got {
			sum += c.Desc(idx + i).Len
		}
		c.Release(got)
		_ = sum
	}
}

// BenchmarkRingSingle moves entries one at a time: the cost of the atomic
// load and store that batching amortizes.
func BenchmarkRingSingle(b *testing.B) {
	p, c, _ := addrRings(2048, 0)
	b.ReportAllocs()
	for n := range b.N {
		idx, _ := p.Reserve(1)
		p.Set(idx, uint64(n))
		p.Submit(1)
		idx, _ = c.Peek(1)
		_ = c.Addr(idx)
		c.Release(1)
	}
}

// BenchmarkRingSPSC has a producer and a consumer goroutine, as the
// process and the kernel are.
func BenchmarkRingSPSC(b *testing.B) {
	p, c, _ := descRings(2048, 0)
	b.ReportAllocs()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; n < b.N; {
			idx, got := p.Reserve(uint32(min(benchBatch, b.N-n)))
			for i := range got {
				p.Set(idx+i, Desc{Addr: uint64(n), Len: 64})
			}
			if got > 0 {
				p.Submit(got)
				n += int(got)
			} else {
				runtime.Gosched()
			}
		}
	}()
	for n := 0; n < b.N; {
		idx, got := c.Peek(benchBatch)
		for i := range got {
			_ = c.Desc(idx + i)
		}
		if got > 0 {
			c.Release(got)
			n += int(got)
		} else {
			runtime.Gosched()
		}
	}
	wg.Wait()
}

// BenchmarkTxRx sends frames from a copy-mode socket on the outer end of
// a veth pair to a socket on the inner end, 64 at a time, each batch
// received before the next is sent. An op is one frame.
func BenchmarkTxRx(b *testing.B) {
	env := testutil.NewEnv(b, netenv.Spec{NoIPv6: true})
	// Receiver on the inner end, made in its namespace.
	var (
		ru    *Umem
		rs    *Socket
		rprog *Program
	)
	err := env.Do(func() error {
		var err error
		if ru, err = NewUmem(UmemConfig{}); err != nil {
			return err
		}
		if rs, err = NewSocket(ru, SocketConfig{Interface: env.Inner.Interface, Mode: ModeCopy}); err != nil {
			return err
		}
		if rprog, err = AttachProgram(env.Inner.Interface, ProgramOptions{}); err != nil {
			return err
		}
		return rprog.Register(rs)
	})
	b.Cleanup(func() {
		if rprog != nil {
			rprog.Close()
		}
		if rs != nil {
			rs.Close()
		}
		if ru != nil {
			ru.Close()
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	rpool := NewFramePool(ru, 0, ru.NumFrames())
	rs.FillFrom(rpool, rs.Fill().Size())

	tu, err := NewUmem(UmemConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer tu.Close()
	ts, err := NewSocket(tu, SocketConfig{Interface: env.Outer.Interface, NoRX: true, Mode: ModeCopy})
	if err != nil {
		b.Fatal(err)
	}
	defer ts.Close()
	tpool := NewFramePool(tu, 0, tu.NumFrames())
	frame := make([]byte, 64)
	copy(frame, env.Inner.MAC)
	copy(frame[6:], env.Outer.MAC)
	binary.BigEndian.PutUint16(frame[12:], 0x88b5)

	tx, rx := ts.TX(), rs.RX()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	received := 0
	for received < b.N {
		want := min(benchBatch, b.N-received)
		idx, got := tx.Reserve(uint32(want))
		for i := range got {
			a, _ := tpool.Get()
			copy(tu.Data(a, 64), frame)
			tx.Set(idx+i, Desc{Addr: a, Len: 64})
		}
		tx.Submit(got)
		deadline := time.Now().Add(5 * time.Second)
		for n := 0; n < int(got); {
			if err := ts.Kick(); err != nil {
				b.Fatal(err)
			}
			ts.CompleteTo(tpool, benchBatch)
			ridx, rn := rx.Peek(benchBatch)
			for i := range rn {
				d := rx.Desc(ridx + i)
				rpool.Put(ru.Chunk(d.Addr))
			}
			if rn > 0 {
				rx.Release(rn)
				rs.FillFrom(rpool, rn)
				n += int(rn)
			} else if time.Now().After(deadline) {
				st, _ := rs.Stats()
				b.Fatalf("frames lost: %d of a batch of %d received (%+v)", n, got, st)
			}
		}
		received += int(got)
	}
	b.StopTimer()
	ts.CompleteTo(tpool, tx.Size())
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
}
