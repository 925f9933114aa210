package trafficgen

import (
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/progrun"
)

var (
	testSrcMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	testDstMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

// runProgram loads the generator's program for spec and runs it n times
// with BPF_PROG_RUN (not live: each run gets the template afresh) on one
// CPU, returning the frames it produced.
func runProgram(t *testing.T, spec Spec, n int) [][]byte {
	t.Helper()
	testutil.RequirePrivileged(t)
	c, err := configure(&spec, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := loadProgram(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objs.Close() })
	if len(spec.Frames) > 1 {
		if err := fillFrames(objs.GenFrames, spec.Frames); err != nil {
			t.Fatal(err)
		}
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &set)
	var one unix.CPUSet
	one.Set(0)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Fatal(err)
	}

	r := progrun.New(objs.XdpGen)
	data := spec.Frames[0]
	for _, f := range spec.Frames {
		if len(f) > len(data) {
			data = f
		}
	}
	var out [][]byte
	for i := 0; i < n; i++ {
		res, err := r.Run(progrun.Input{Data: data})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if res.Return != xdpTX {
			t.Fatalf("run %d: verdict %v, want XDP_TX", i, res.Verdict)
		}
		out = append(out, append([]byte(nil), res.Data...))
	}
	return out
}

// checkChecksums fails t unless the IPv4 header checksum and the
// transport checksum of frame are right (summed independently of the
// program, by tmplCheckChecksums).
func checkChecksums(t *testing.T, frame []byte) {
	t.Helper()
	f, err := FieldsOf(frame)
	if err != nil || f.L3 < 0 {
		t.Fatalf("not an IP frame (%v): %x", err, frame)
	}
	tmplCheckChecksums(t, frame, f.L3, f.IPv6)
}

func TestProgramVariesFlows(t *testing.T) {
	cases := []struct {
		name     string
		tmpl     Template
		flows    Flows
		wantAddr bool
	}{
		{"udp4 dports", Template{Proto: UDP, Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), SrcPort: 1000, DstPort: 2000}, Flows{DstPorts: 7}, false},
		{"udp4 all", Template{Proto: UDP, Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), SrcPort: 1000, DstPort: 65530}, Flows{DstPorts: 6, SrcPorts: 3, SrcAddrs: 5}, true},
		{"udp6 all", Template{Proto: UDP, Src: netip.MustParseAddr("fc00::ffff:fffe"), Dst: netip.MustParseAddr("fc00::2"), SrcPort: 1, DstPort: 9, Size: 200}, Flows{DstPorts: 4, SrcPorts: 2, SrcAddrs: 2}, true},
		{"tcp4 all", Template{Proto: TCP, Src: netip.MustParseAddr("192.168.1.250"), Dst: netip.MustParseAddr("10.0.0.2"), SrcPort: 40000, DstPort: 80}, Flows{DstPorts: 3, SrcPorts: 3, SrcAddrs: 9}, true},
		{"tcp6 sports", Template{Proto: TCP, Src: netip.MustParseAddr("fc00::1"), Dst: netip.MustParseAddr("fc00::2"), SrcPort: 40000, DstPort: 443}, Flows{SrcPorts: 100}, false},
		{"icmp6 addrs", Template{Proto: ICMP, Src: netip.MustParseAddr("fc00::1"), Dst: netip.MustParseAddr("fc00::2")}, Flows{SrcAddrs: 5}, true},
		{"icmp4 addrs", Template{Proto: ICMP, Src: netip.MustParseAddr("10.1.1.1"), Dst: netip.MustParseAddr("10.0.0.2")}, Flows{SrcAddrs: 5}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.tmpl.SrcMAC, tc.tmpl.DstMAC = testSrcMAC, testDstMAC
			frame, err := tc.tmpl.Frame()
			if err != nil {
				t.Fatal(err)
			}
			f, err := FieldsOf(frame)
			if err != nil {
				t.Fatal(err)
			}
			n := 60
			frames := runProgram(t, Spec{Interface: "lo", Frames: [][]byte{frame}, Flows: tc.flows}, n)
			nd, ns, na := max(tc.flows.DstPorts, 1), max(tc.flows.SrcPorts, 1), max(tc.flows.SrcAddrs, 1)
			for i, out := range frames {
				if len(out) != len(frame) {
					t.Fatalf("frame %d is %d bytes, want %d", i, len(out), len(frame))
				}
				checkChecksums(t, out)
				k := uint64(i)
				if f.HasPorts() {
					dport := binary.BigEndian.Uint16(out[f.SrcPort+2:])
					sport := binary.BigEndian.Uint16(out[f.SrcPort:])
					if want := tc.tmpl.DstPort + uint16(k%uint64(nd)); dport != want {
						t.Errorf("frame %d: destination port %d, want %d", i, dport, want)
					}
					if want := tc.tmpl.SrcPort + uint16(k/uint64(nd)%uint64(ns)); sport != want {
						t.Errorf("frame %d: source port %d, want %d", i, sport, want)
					}
				}
				if tc.wantAddr {
					base := binary.BigEndian.Uint32(frame[f.SrcAddr:])
					got := binary.BigEndian.Uint32(out[f.SrcAddr:])
					if want := base + uint32(k/uint64(nd)/uint64(ns)%uint64(na)); got != want {
						t.Errorf("frame %d: source address word %#x, want %#x", i, got, want)
					}
				}
			}
		})
	}
}

func TestProgramCopiesFrames(t *testing.T) {
	var frames [][]byte
	for i, size := range []int{60, 300, 1514} {
		tmpl := Template{Proto: UDP, SrcMAC: testSrcMAC, DstMAC: testDstMAC, Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), SrcPort: 1, DstPort: uint16(100 + i), Size: size}
		f, err := tmpl.Frame()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	out := runProgram(t, Spec{Interface: "lo", Frames: frames}, 7)
	for i, got := range out {
		if want := frames[i%len(frames)]; string(got) != string(want) {
			t.Errorf("frame %d: got %d bytes %x..., want frame %d (%d bytes)", i, len(got), got[:min(len(got), 40)], i%len(frames), len(want))
		}
	}
}
