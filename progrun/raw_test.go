package progrun_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/progrun"
)

// rawSKB returns a 192-byte struct __sk_buff with cb[4] set.
func rawSKB(cb4 uint32) []byte {
	b := make([]byte, 192)
	binary.NativeEndian.PutUint32(b[48+16:], cb4) // cb[4]
	return b
}

// A RawContext does not shrink the buffer typed contexts are encoded in:
// an SKBContext run after a RawContext run on the same Runner works, and
// one after a short RawContext too.
func TestRawContextThenTyped(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_tc", "tc_mark")
	in := tosFrame(53, 64, 0x28)
	want := setIPv4(in, 14, 8, 63)

	res := run(t, r, progrun.Input{Data: in, Context: &progrun.RawContext{Data: rawSKB(41)}})
	wantVerdict(t, res, 0, "TC_ACT_OK")
	wantBytes(t, "packet out (raw context)", res.Data, want)
	out, ok := res.Context.(*progrun.RawContext)
	if !ok || len(out.Data) != 192 {
		t.Fatalf("context out %T of %d bytes, want a 192-byte *progrun.RawContext", res.Context, len(out.Data))
	}
	ne := binary.NativeEndian
	if mark, cb4 := ne.Uint32(out.Data[8:]), ne.Uint32(out.Data[64:]); mark != 0xc0000207 || cb4 != 42 {
		t.Errorf("raw context out: mark %#x cb[4] %d, want 0xc0000207 and 42", mark, cb4)
	}

	for _, raw := range [][]byte{nil, make([]byte, 4)} {
		// An empty RawContext is no context; a short one fails.
		_, err := r.Run(progrun.Input{Data: in, Context: &progrun.RawContext{Data: raw}})
		if (err != nil) != (len(raw) > 0) {
			t.Errorf("%d-byte RawContext: error %v", len(raw), err)
		}
		res = run(t, r, progrun.Input{Data: in, Context: &progrun.SKBContext{CB: [5]uint32{4: 9}}})
		wantVerdict(t, res, 0, "TC_ACT_OK")
		wantBytes(t, "packet out (typed context)", res.Data, want)
		wantCtx := progrun.SKBContext{Mark: 0xc0000207, Priority: 0x28, Ifindex: 1,
			CB: [5]uint32{12345, 53, 0, 0, 10}, WireLen: uint32(len(in))}
		if got := skbOut(t, res); *got != wantCtx {
			t.Errorf("context out after a %d-byte RawContext\n got %+v\nwant %+v", len(raw), *got, wantCtx)
		}
	}
}

// The kernel copies the whole __sk_buff out, and takes no more than it
// in: a RawContext of the wrong size gets a message that says so.
func TestRawContextSize(t *testing.T) {
	testutil.RequirePrivileged(t)
	coll := loadCollection(t, "run_tc")
	in := tosFrame(53, 64, 0)
	long := append(rawSKB(0), 0, 0, 0, 1)
	for _, tc := range []errCase{
		{name: "short", in: progrun.Input{Data: in, Context: &progrun.RawContext{Data: make([]byte, 8)}},
			kind: progrun.ErrContext, also: os.ErrInvalid, errno: unix.ENOSPC,
			msg: []string{"run SCHED_CLS program: the context needs 192 bytes; give a RawContext of at least 192 bytes"}},
		{name: "long", in: progrun.Input{Data: in, Context: &progrun.RawContext{Data: long}},
			kind: progrun.ErrContext, also: os.ErrInvalid, errno: unix.E2BIG,
			msg: []string{"the context is 196 bytes; the kernel takes at most 192 bytes of context for SCHED_CLS", "(kernel: E2BIG)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := progrun.New(coll.Programs["tc_mark"]).Run(tc.in)
			checkErr(t, ebpf.SchedCLS, err, tc)
		})
	}
	// Zeros past the struct are taken; the struct comes back.
	res := run(t, progrun.New(coll.Programs["tc_mark"]), progrun.Input{Data: in,
		Context: &progrun.RawContext{Data: append(rawSKB(1), 0, 0, 0, 0)}})
	if out := res.Context.(*progrun.RawContext); len(out.Data) != 192 || binary.NativeEndian.Uint32(out.Data[64:]) != 2 {
		t.Errorf("context out % x, want 192 bytes with cb[4] 2", out.Data)
	}
}

// The skb types look their interface up by ifindex only: an
// ingress_ifindex no interface has is taken as it is, and a missing
// ifindex is named in the message.
func TestSKBIfindexLookup(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_tc", "tc_mark")
	missing := missingIfindex(t)
	in := tosFrame(53, 64, 0)
	res := run(t, r, progrun.Input{Data: in, Context: &progrun.SKBContext{IngressIfindex: missing}})
	if c := skbOut(t, res); c.IngressIfindex != missing {
		t.Errorf("ingress_ifindex out %d, want %d", c.IngressIfindex, missing)
	}
	_, err := r.Run(progrun.Input{Data: in, Context: &progrun.SKBContext{IngressIfindex: 1, Ifindex: missing}})
	checkErr(t, ebpf.SchedCLS, err, errCase{kind: progrun.ErrNoDevice, also: os.ErrNotExist, errno: unix.ENODEV,
		msg: []string{fmt.Sprintf("context ifindex %d: no such interface", missing)}})
}
