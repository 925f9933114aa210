package xsk

import "testing"

// testUmem is a Umem over Go memory, for the address arithmetic: no
// kernel registration.
func testUmem(cfg UmemConfig) *Umem {
	cfg = cfg.withDefaults()
	return &Umem{cfg: cfg, mem: make([]byte, int(cfg.NumFrames)*int(cfg.FrameSize)), fd: -1}
}

func TestUmemAddressesAligned(t *testing.T) {
	u := testUmem(UmemConfig{FrameSize: 2048, NumFrames: 8, FillSize: 4, CompletionSize: 4})
	if a := u.FrameAddr(3); a != 3*2048 {
		t.Fatalf("FrameAddr(3) = %d", a)
	}
	// A received frame: chunk 3, after the kernel's headroom.
	addr := u.FrameAddr(3) + PacketHeadroom
	d := u.Data(addr, 60)
	if len(d) != 60 || cap(d) != 2048-PacketHeadroom {
		t.Fatalf("Data: len %d cap %d; want 60, %d (to the end of the chunk)", len(d), cap(d), 2048-PacketHeadroom)
	}
	d[0] = 0xaa
	if u.mem[addr] != 0xaa {
		t.Fatal("Data does not alias the UMEM")
	}
	if c := u.Chunk(addr); c != 3*2048 {
		t.Fatalf("Chunk(%d) = %d, want %d", addr, c, 3*2048)
	}
	if c := u.Chunk(u.FrameAddr(7) + 2047); c != 7*2048 {
		t.Fatalf("Chunk of a chunk's last byte = %d", c)
	}
	if a := u.TxAddr(u.FrameAddr(2), 100); a != 2*2048+100 {
		t.Fatalf("TxAddr = %d", a)
	}
	// The last frame's data runs to the end of the memory.
	if d := u.Data(u.FrameAddr(7), 2048); len(d) != 2048 {
		t.Fatal(len(d))
	}
	mustPanic(t, "Data past the chunk", func() { u.Data(u.FrameAddr(2)+100, 2000) })
	mustPanic(t, "Data past the UMEM", func() { u.Data(u.FrameAddr(8), 10) })
}

func TestUmemAddressesUnaligned(t *testing.T) {
	u := testUmem(UmemConfig{UnalignedChunks: true, FrameSize: 3000, NumFrames: 8, FillSize: 4, CompletionSize: 4})
	base := u.FrameAddr(2)
	if base != 6000 {
		t.Fatalf("FrameAddr(2) = %d", base)
	}
	// Descriptors carry the data's offset in the chunk in their top 16
	// bits.
	addr := u.TxAddr(base, 300)
	if addr != base|300<<48 {
		t.Fatalf("TxAddr(%d, 300) = %#x", base, addr)
	}
	if c := u.Chunk(addr); c != base {
		t.Fatalf("Chunk(%#x) = %d, want %d", addr, c, base)
	}
	d := u.Data(addr, 64)
	if len(d) != 64 {
		t.Fatal(len(d))
	}
	d[0] = 0xbb
	if u.mem[base+300] != 0xbb {
		t.Fatal("Data does not start at base+offset")
	}
	// The capacity ends with the chunk, not FrameSize after the data:
	// growing the slice must not reach the next frame.
	if cap(d) != 3000-300 {
		t.Fatalf("cap(Data) = %d, want %d (to the end of the chunk)", cap(d), 3000-300)
	}
	// An address with the offset folded into its base (what the kernel
	// also accepts) works too.
	if d := u.Data(base+300, 64); &d[0] != &u.mem[base+300] {
		t.Fatal("Data of a plain address")
	}
	// The last chunk ends at the end of the memory.
	if d := u.Data(u.TxAddr(u.FrameAddr(7), 10), 100); cap(d) != 3000-10 {
		t.Fatalf("cap at the last chunk %d", cap(d))
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}
