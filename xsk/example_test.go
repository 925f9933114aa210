package xsk_test

import (
	"fmt"
	"time"

	"github.com/xdpkit/xdpkit/xsk"
)

// Receive on queue 0 of eth0 with xdpkit's redirect program, counting
// frames and handing their UMEM frames straight back to the FILL ring.
func Example() {
	umem, err := xsk.NewUmem(xsk.UmemConfig{}) // 4096 frames of 4096 bytes
	if err != nil {
		panic(err)
	}
	defer umem.Close()
	sock, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: "eth0", Queue: 0, NeedWakeup: true})
	if err != nil {
		panic(err)
	}
	defer sock.Close() // before umem.Close: deferred calls run last-in first-out

	prog, err := xsk.AttachProgram("eth0", xsk.ProgramOptions{}) // or xsk.LoadPinnedXSKMap(path)
	if err != nil {
		panic(err)
	}
	defer prog.Close()
	if err := prog.Register(sock); err != nil { // the entry goes when sock closes
		panic(err)
	}
	pool := xsk.NewFramePool(umem, 0, umem.NumFrames())
	sock.FillFrom(pool, sock.Fill().Size())

	rx := sock.RX()
	var frames, bytes int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		idx, n := rx.Peek(64) // a start index and a count, no slice
		if n == 0 {
			sock.WakeRX() // a syscall only when the kernel asks for one
			sock.Poll(10*time.Millisecond, false)
			continue
		}
		for i := range n {
			d := rx.Desc(idx + i)
			frame := umem.Data(d.Addr, d.Len) // aliases the UMEM: no copy
			frames, bytes = frames+1, bytes+len(frame)
			pool.Put(umem.Chunk(d.Addr))
		}
		rx.Release(n)
		sock.FillFrom(pool, n)
	}
	st, _ := sock.Stats()
	fmt.Printf("%d frames, %d bytes, %d dropped for want of FILL entries\n", frames, bytes, st.RxFillRingEmpty)
}
