package sys_test

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/sys"
)

// ProgRunAttr is the kernel's layout on every GOARCH: 80 bytes, the
// pointers 8 bytes each (GOARCH=386 go test checks a 32-bit host).
func TestProgRunAttrLayout(t *testing.T) {
	var a sys.ProgRunAttr
	if got := unsafe.Sizeof(a); got != 80 {
		t.Errorf("sizeof(ProgRunAttr) = %d, want 80", got)
	}
	if got := unsafe.Sizeof(sys.Pointer{}); got != 8 {
		t.Errorf("sizeof(Pointer) = %d, want 8", got)
	}
	for _, f := range []struct {
		name string
		off  uintptr
		want uintptr
	}{
		{"data_size_out", unsafe.Offsetof(a.DataSizeOut), 12},
		{"data_in", unsafe.Offsetof(a.DataIn), 16},
		{"data_out", unsafe.Offsetof(a.DataOut), 24},
		{"repeat", unsafe.Offsetof(a.Repeat), 32},
		{"duration", unsafe.Offsetof(a.Duration), 36},
		{"ctx_size_in", unsafe.Offsetof(a.CtxSizeIn), 40},
		{"ctx_in", unsafe.Offsetof(a.CtxIn), 48},
		{"ctx_out", unsafe.Offsetof(a.CtxOut), 56},
		{"flags", unsafe.Offsetof(a.Flags), 64},
		{"cpu", unsafe.Offsetof(a.CPU), 68},
		{"batch_size", unsafe.Offsetof(a.BatchSize), 72},
	} {
		if f.off != f.want {
			t.Errorf("offsetof(%s) = %d, want %d", f.name, f.off, f.want)
		}
	}
}

// A Pointer reads as the address when the kernel reads it as a __u64.
func TestPointerAsU64(t *testing.T) {
	b := make([]byte, 4)
	p := sys.SlicePointer(b)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&p)), unsafe.Sizeof(p))
	if got, want := binary.NativeEndian.Uint64(raw), uint64(uintptr(unsafe.Pointer(&b[0]))); got != want {
		t.Errorf("pointer reads as %#x, want %#x", got, want)
	}
	if p.IsNil() {
		t.Error("pointer to a slice IsNil")
	}
	if n := sys.SlicePointer(nil); !n.IsNil() || n != (sys.Pointer{}) {
		t.Errorf("SlicePointer(nil) = %v, want the zero Pointer", n)
	}
	runtime.KeepAlive(b)
}

// InterruptOnDone interrupts a blocking system call once done is closed,
// also when the first signal comes before the call starts, and not before.
func TestInterruptOnDone(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// ppoll with no descriptors sleeps until its timeout or a signal.
	sleep := func(d time.Duration) error {
		ts := unix.NsecToTimespec(d.Nanoseconds())
		_, err := unix.Ppoll(nil, &ts, nil)
		return err
	}

	done := make(chan struct{})
	stop := sys.InterruptOnDone(done)
	if err := sleep(100 * time.Millisecond); err != nil {
		t.Errorf("sleep before done: %v, want no interruption", err)
	}
	close(done)
	time.Sleep(30 * time.Millisecond) // signals now arrive before the call
	start := time.Now()
	err := sleep(10 * time.Second)
	stop()
	if err != unix.EINTR {
		t.Fatalf("sleep after done: %v, want EINTR", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("interrupted after %v", d)
	}
	sys.InterruptOnDone(nil)() // nothing to stop
}
