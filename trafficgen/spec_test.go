package trafficgen

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/netdev"
)

func TestSpecValidate(t *testing.T) {
	frame := make([]byte, 64)
	ok := func(s Spec) Spec {
		if s.Interface == "" {
			s.Interface = "veth0"
		}
		if s.Frames == nil {
			s.Frames = [][]byte{frame}
		}
		return s
	}
	cases := []struct {
		name string
		spec Spec
		want string // "" means valid
	}{
		{"minimal", ok(Spec{}), ""},
		{"everything", ok(Spec{Count: 10, Duration: time.Second, PPS: 100, Batch: 256, Flows: Flows{DstPorts: 10}}), ""},
		{"no interface", Spec{Frames: [][]byte{frame}}, "no interface"},
		{"no frames", Spec{Interface: "veth0", Frames: [][]byte{}}, "no frames"},
		{"shorter than ethernet", ok(Spec{Frames: [][]byte{make([]byte, 10)}}), "shorter than an Ethernet header"},
		{"short frame", ok(Spec{Frames: [][]byte{make([]byte, 59)}}), "59 bytes"},
		{"long frame", ok(Spec{Frames: [][]byte{make([]byte, MaxFrameLen+1)}}), "3409 bytes"},
		{"second frame short", ok(Spec{Frames: [][]byte{frame, make([]byte, 20)}}), "frame 2"},
		{"flows with frames", ok(Spec{Frames: [][]byte{frame, frame}, Flows: Flows{SrcPorts: 2}}), "single template"},
		{"batch 0 is default", ok(Spec{Batch: 0}), ""},
		{"batch over", ok(Spec{Batch: 257}), "batch 257"},
		{"batch negative", ok(Spec{Batch: -1}), "batch -1"},
		{"threads over CPUs", ok(Spec{Threads: runtime.NumCPU() + 1}), "CPUs"},
		{"threads negative", ok(Spec{Threads: -2}), "threads -2"},
		{"cpus count", ok(Spec{Threads: 1, CPUs: []int{0, 0}}), "2 CPUs for 1 threads"},
		{"negative cpu", ok(Spec{CPUs: []int{-1}}), "0 or more"},
		{"pps over", ok(Spec{PPS: MaxPPS + 1}), "at most"},
		{"count under threads", ok(Spec{Threads: runtime.NumCPU(), Count: uint64(runtime.NumCPU()) - 1}), "count"},
		{"negative duration", ok(Spec{Duration: -time.Second}), "duration"},
		{"redirect without target", ok(Spec{Action: Redirect}), "needs the interface"},
		{"target without redirect", ok(Spec{RedirectTo: "veth1"}), "use action redirect"},
		{"unknown action", ok(Spec{Action: 9}), "unknown action"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				if tc.name == "count under threads" && runtime.NumCPU() == 1 {
					return // count 0 means none
				}
				t.Fatalf("Validate accepted it, want an error with %q", tc.want)
			}
			if !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: %v; want os.ErrInvalid with %q", err, tc.want)
			}
		})
	}
}

func TestParseAction(t *testing.T) {
	for _, a := range []Action{TX, Pass, Redirect} {
		got, err := ParseAction(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAction(%q) = %v, %v", a, got, err)
		}
	}
	if _, err := ParseAction("drop"); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("ParseAction(drop): %v", err)
	}
}

func TestSplit(t *testing.T) {
	got := split(10, 3)
	if len(got) != 3 || got[0] != 4 || got[1] != 3 || got[2] != 3 {
		t.Errorf("split(10, 3) = %v", got)
	}
	if split(0, 2) != nil {
		t.Error("split(0, 2) != nil")
	}
}

func TestConfigureRejectsFlowsItCannotApply(t *testing.T) {
	arp := make([]byte, 60)
	arp[12], arp[13] = 0x08, 0x06
	for _, flows := range []Flows{{DstPorts: 2}, {SrcAddrs: 2}} {
		spec := Spec{Interface: "lo", Frames: [][]byte{arp}, Flows: flows}
		if _, err := configure(&spec, 0, true); !errors.Is(err, os.ErrInvalid) {
			t.Errorf("flows %+v on an ARP frame: %v", flows, err)
		}
	}
	udp, err := Template{Proto: UDP, SrcMAC: testSrcMAC, DstMAC: testDstMAC, Src: mustAddr("10.0.0.1"), Dst: mustAddr("10.0.0.2"), SrcPort: 1, DstPort: 65530}.Frame()
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Interface: "lo", Frames: [][]byte{udp}, Flows: Flows{DstPorts: 7}}
	if _, err := configure(&spec, 0, true); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "65535") {
		t.Errorf("ports past 65535: %v", err)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestRewriteChoice(t *testing.T) {
	veth := &netdev.Device{Kind: "veth"}
	nic := &netdev.Device{Kind: "device"}
	cases := []struct {
		rewrite Rewrite
		out     *netdev.Device
		peer    PeerProgram
		ours    bool // the generator attached the peer program
		want    bool
	}{
		{RewriteAuto, veth, PeerNone, false, true},
		{RewriteAuto, veth, PeerPass, true, true},
		{RewriteAuto, veth, PeerDrop, true, false},
		{RewriteAuto, veth, PeerDrop, false, true}, // the peer's own program: unknown
		{RewriteAuto, nic, PeerNone, false, false},
		{RewriteAuto, nil, PeerNone, false, true}, // Pass
		{RewriteAlways, nic, PeerNone, false, true},
		{RewriteNever, veth, PeerPass, true, false},
	}
	for _, tc := range cases {
		g := &Generator{spec: Spec{Rewrite: tc.rewrite, PeerProgram: tc.peer}, out: tc.out}
		if tc.ours {
			g.peer = io.NopCloser(nil)
		}
		if got := g.rewrites(); got != tc.want {
			t.Errorf("%+v: rewrites() = %v, want %v", tc, got, tc.want)
		}
	}
	for _, r := range []Rewrite{RewriteAuto, RewriteAlways, RewriteNever} {
		if got, err := ParseRewrite(r.String()); err != nil || got != r {
			t.Errorf("ParseRewrite(%q) = %v, %v", r, got, err)
		}
	}
	if _, err := ParseRewrite("sometimes"); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("ParseRewrite(sometimes): %v", err)
	}
}
