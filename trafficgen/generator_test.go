package trafficgen

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/builtin"
	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/packet"
	"github.com/xdpkit/xdpkit/xdp"
)

// envFrame builds a UDP frame from env's outer end to its inner end.
func envFrame(t *testing.T, env *netenv.Env, tmpl Template) []byte {
	t.Helper()
	tmpl.SrcMAC, tmpl.DstMAC = env.Outer.MAC, env.Inner.MAC
	if !tmpl.Src.IsValid() {
		tmpl.Src, tmpl.Dst = env.Outer.IPv4.Addr(), env.Inner.IPv4.Addr()
	}
	if tmpl.SrcPort == 0 {
		tmpl.SrcPort, tmpl.DstPort = 4000, 9
	}
	f, err := tmpl.Frame()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// run makes a generator for spec, runs it to its end and returns the
// final stats; the generator is closed.
func run(t *testing.T, spec Spec) Stats {
	t.Helper()
	g, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := g.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGeneratorCountIsExact(t *testing.T) {
	for _, threads := range []int{1, 2} {
		t.Run(strings.Repeat("t", threads), func(t *testing.T) {
			if threads > runtime.NumCPU() {
				t.Skipf("%d threads need %d CPUs", threads, threads)
			}
			env := testutil.NewEnv(t, netenv.Spec{Queues: threads})
			frame := envFrame(t, env, Template{Proto: UDP})
			const count = 100_003
			counted := countAtPeer(t, env)
			s := run(t, Spec{Interface: env.Outer.Interface, Frames: [][]byte{frame}, Count: count, Threads: threads})
			if s.Frames != count {
				t.Errorf("sent %d frames, want %d", s.Frames, count)
			}
			if s.Bytes != count*uint64(len(frame)) {
				t.Errorf("sent %d bytes, want %d", s.Bytes, count*uint64(len(frame)))
			}
			if s.Device == nil || !s.Device.Peer {
				t.Fatalf("no device counters: %+v", s.Device)
			}
			if s.Device.PeerRxPackets < count {
				t.Errorf("peer received %d frames, want at least %d", s.Device.PeerRxPackets, count)
			}
			if got := counted(); got != count {
				t.Errorf("xdp_count on the peer counted %d UDP frames, want %d", got, count)
			}
			var perWorker uint64
			for _, w := range s.Workers {
				perWorker += w.Frames
			}
			if perWorker != count || len(s.Workers) != threads {
				t.Errorf("workers %+v do not add up to %d", s.Workers, count)
			}
			if !s.Done {
				t.Error("final stats not marked done")
			}
		})
	}
}

func TestGeneratorRefusesVethWithoutPeerProgram(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	_, err := New(Spec{Interface: env.Outer.Interface, Frames: [][]byte{envFrame(t, env, Template{Proto: UDP})}, Count: 10})
	if !errors.Is(err, ErrCannotTransmit) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("New: %v, want ErrCannotTransmit", err)
	}
	for _, want := range []string{env.Inner.Interface, "peer-prog", "no XDP program"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// Pass injects locally: no transmission, no refusal.
	g, err := New(Spec{Interface: env.Outer.Interface, Frames: [][]byte{envFrame(t, env, Template{Proto: UDP})}, Count: 10, Action: Pass})
	if err != nil {
		t.Fatalf("New with Pass: %v", err)
	}
	g.Close()
}

func TestGeneratorBadInput(t *testing.T) {
	testutil.RequirePrivileged(t)
	env := testutil.NewEnv(t, netenv.Spec{})
	frame := envFrame(t, env, Template{Proto: UDP})
	if _, err := New(Spec{Interface: "xk-nonexistent0", Frames: [][]byte{frame}}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing interface: %v, want os.ErrNotExist", err)
	}
	if _, err := New(Spec{Interface: env.Outer.Interface, Frames: [][]byte{make([]byte, 2000)}, PeerProgram: PeerPass}); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "MTU") {
		t.Errorf("frame over the MTU: %v", err)
	}
	if _, err := env.Outer.Exec(t.Context(), "ip", "link", "set", env.Outer.Interface, "down"); err != nil {
		t.Fatal(err)
	}
	_, err := New(Spec{Interface: env.Outer.Interface, Frames: [][]byte{frame}, PeerProgram: PeerPass})
	if !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "down") {
		t.Errorf("interface down: %v", err)
	}
	d, err := netdev.Lookup(env.Outer.Interface)
	if err != nil || d.Peer == nil || d.Peer.XDPProgID != 0 {
		t.Errorf("after failed New calls the peer has XDP program %v (%v)", d.Peer, err)
	}
}

func TestGeneratorStopIsPrompt(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	g, err := New(Spec{Interface: env.Outer.Interface, Frames: [][]byte{envFrame(t, env, Template{Proto: UDP})}, PeerProgram: PeerPass})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if s := g.Stats(); s.Frames == 0 || s.Done {
		t.Fatalf("running generator: %+v", s)
	}
	start := time.Now()
	g.Stop()
	s, err := g.Wait()
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped in %v after %d frames", took, s.Frames)
	if took > 100*time.Millisecond {
		t.Errorf("Stop took %v, want at most 100ms", took)
	}
	if !s.Done || s.Frames == 0 {
		t.Errorf("final stats %+v", s)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := netdev.Lookup(env.Outer.Interface)
	if err != nil || d.Peer == nil || d.Peer.XDPProgID != 0 {
		t.Errorf("after Close the peer still has an XDP program: %+v (%v)", d.Peer, err)
	}
}

func TestGeneratorDuration(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	start := time.Now()
	s := run(t, Spec{Interface: env.Outer.Interface, Frames: [][]byte{envFrame(t, env, Template{Proto: UDP})}, Duration: 500 * time.Millisecond, PeerProgram: PeerPass})
	took := time.Since(start)
	if took < 500*time.Millisecond || took > 700*time.Millisecond {
		t.Errorf("a 500ms run took %v", took)
	}
	if s.Frames == 0 || s.Elapsed < 500*time.Millisecond {
		t.Errorf("stats %+v", s)
	}
}

// TestGeneratorPaces checks the rate over two seconds; the bounds allow
// for a slow machine at the high rate, but never for sending too much.
func TestGeneratorPaces(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	frame := envFrame(t, env, Template{Proto: UDP})
	for _, tc := range []struct {
		pps uint64
		d   time.Duration
		// least is the lowest share of the rate accepted: a busy
		// machine (tests of other packages run beside this one) may not
		// reach a high rate, but it must never exceed any.
		least float64
	}{{1000, 2 * time.Second, 0.95}, {200_000, 2 * time.Second, 0.5}, {50_000, 5 * time.Second, 0.98}} {
		s := run(t, Spec{Interface: env.Outer.Interface, Frames: [][]byte{frame}, PPS: tc.pps, Duration: tc.d, PeerProgram: PeerDrop})
		rate := Rate(s.Frames, s.Active)
		t.Logf("asked %d pps for %v: sent %d frames in %v (%v since the first): %.0f pps, %d paced", tc.pps, tc.d, s.Frames, s.Elapsed, s.Active, rate, s.Paced)
		if rate > float64(tc.pps)*1.02 || rate < float64(tc.pps)*tc.least {
			t.Errorf("asked %d pps, sent %.0f pps", tc.pps, rate)
		}
	}
	// --count with --pps: exact count, at the rate.
	s := run(t, Spec{Interface: env.Outer.Interface, Frames: [][]byte{frame}, PPS: 5000, Count: 2500, PeerProgram: PeerPass})
	if s.Frames != 2500 {
		t.Errorf("paced count: sent %d, want 2500", s.Frames)
	}
	if s.Elapsed < 400*time.Millisecond || s.Elapsed > 700*time.Millisecond {
		t.Errorf("2500 frames at 5000 pps took %v, want about 500ms", s.Elapsed)
	}
}

// countAtPeer attaches xdp_count to env's inner end and returns a function
// that reads how many IPv4 UDP frames it counted.
func countAtPeer(t *testing.T, env *netenv.Env) func() uint64 {
	t.Helper()
	var att *xdp.Attachment
	err := env.Inner.Do(func() error {
		var err error
		att, err = xdp.Attach(xdp.AttachOptions{Interface: env.Inner.Interface, Object: builtin.XDPCountObject()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { att.Close() })
	return func() uint64 {
		key := struct {
			EtherType uint16
			Proto     uint8
			_         uint8
		}{EtherType: 0x0800, Proto: 17}
		var total uint64
		for i := 0; i < 100; i++ { // the peer counts in its NAPI poll
			var perCPU []struct{ Packets, Bytes uint64 }
			if err := att.Map("xdp_count_stats").Lookup(&key, &perCPU); err != nil {
				t.Fatal(err)
			}
			var sum uint64
			for _, c := range perCPU {
				sum += c.Packets
			}
			if sum == total && i > 0 {
				break
			}
			total = sum
			time.Sleep(10 * time.Millisecond)
		}
		return total
	}
}

// capture runs tcpdump on env's inner end while send runs, and returns the
// frames it captured that match filter and came from the outer end.
func capture(t *testing.T, env *netenv.Env, filter string, want int, send func()) [][]byte {
	t.Helper()
	file := filepath.Join(t.TempDir(), "cap.pcap")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := env.Inner.Command(ctx, "tcpdump", "-i", env.Inner.Interface, "-w", file, "-U", "-n", "-c", strconv.Itoa(want), "-B", "16384", "-Q", "in", "ether src "+env.Outer.MAC.String()+" and ("+filter+")")
	if err := cmd.Start(); err != nil {
		testutil.SkipOrFail(t, "tcpdump (install it: scripts/setup.sh): %v", err)
	}
	for i := 0; i < 100; i++ {
		if st, err := os.Stat(file); err == nil && st.Size() > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	send()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	r, err := packet.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var frames [][]byte
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		frames = append(frames, append([]byte(nil), rec.Data...))
	}
	return frames
}

// TestGeneratorFramesOnTheWire captures what arrives at the peer: the
// template's headers, the destination ports spread over --dyn-ports, and
// valid checksums, also after the kernel recycled the pages many times.
func TestGeneratorFramesOnTheWire(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	for _, tc := range []struct {
		name   string
		tmpl   Template
		filter string
	}{
		{"udp4", Template{Proto: UDP, Size: 128, TTL: 9}, "udp"},
		{"udp6", Template{Proto: UDP, Src: env.Outer.IPv6.Addr(), Dst: env.Inner.IPv6.Addr(), SrcPort: 777, DstPort: 5000}, "udp"},
		{"tcp4", Template{Proto: TCP, SrcPort: 1234, DstPort: 80}, "tcp"},
		// The peer's stack untags VLAN frames in place, in pages that
		// come back to the generator's pool: the headers must be
		// written anew for every frame.
		{"udp4 vlan", Template{Proto: UDP, VLAN: 7}, "vlan and udp"},
		{"tcp6 vlan", Template{Proto: TCP, VLAN: 4094, Src: env.Outer.IPv6.Addr(), Dst: env.Inner.IPv6.Addr(), SrcPort: 1, DstPort: 2}, "vlan and tcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame := envFrame(t, env, tc.tmpl)
			const n = 640
			flows := Flows{DstPorts: 10, SrcPorts: 2, SrcAddrs: 2}
			frames := capture(t, env, tc.filter, n, func() {
				run(t, Spec{Interface: env.Outer.Interface, Frames: [][]byte{frame}, Flows: flows, Count: n, PPS: 5000, Batch: 16, PeerProgram: PeerPass})
			})
			if len(frames) != n {
				t.Fatalf("captured %d frames, want %d", len(frames), n)
			}
			f, _ := FieldsOf(frame)
			seen := map[string]int{}
			for _, got := range frames {
				checkChecksums(t, got)
				if len(got) != len(frame) {
					t.Fatalf("captured a %d-byte frame, sent %d", len(got), len(frame))
				}
				seen[string(got[f.SrcAddr:f.SrcAddr+4])+string(got[f.SrcPort:f.SrcPort+4])]++
				// Everything but the varied fields and their checksums
				// is the template's: MACs, tag, TTL, addresses, lengths.
				masked := [][2]int{{f.SrcAddr, 4}, {f.SrcPort, 4}, {f.L4Checksum, 2}, {f.IPChecksum, 2}}
				if d := differs(frame, got, masked); d >= 0 {
					t.Fatalf("byte %d differs from the template's:\n got %x\nwant %x", d, got, frame)
				}
			}
			if want := 10 * 2 * 2; len(seen) != want {
				t.Errorf("%d distinct flows, want %d", len(seen), want)
			}
			for flow, k := range seen {
				if k != n/40 {
					t.Errorf("flow %x seen %d times, want %d", flow, k, n/40)
				}
			}
		})
	}
}

// differs returns the first offset at which a and b differ outside the
// masked ranges ({offset, length}, negative offsets ignored), or -1.
func differs(a, b []byte, masked [][2]int) int {
	for i := range a {
		skip := false
		for _, m := range masked {
			if m[0] >= 0 && i >= m[0] && i < m[0]+m[1] {
				skip = true
			}
		}
		if !skip && (i >= len(b) || a[i] != b[i]) {
			return i
		}
	}
	return -1
}

func TestGeneratorPcapModeKeepsOrder(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	var frames [][]byte
	for i, size := range []int{60, 333, 1000} {
		frames = append(frames, envFrame(t, env, Template{Proto: UDP, SrcPort: 1, DstPort: uint16(7000 + i), Size: size}))
	}
	got := capture(t, env, "udp", 9, func() {
		run(t, Spec{Interface: env.Outer.Interface, Frames: frames, Count: 9, PeerProgram: PeerPass})
	})
	if len(got) != 9 {
		t.Fatalf("captured %d frames, want 9", len(got))
	}
	for i, g := range got {
		if string(g) != string(frames[i%3]) {
			t.Errorf("frame %d differs from pcap frame %d", i, i%3)
		}
	}
}

func TestGeneratorPassInjectsLocally(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: env.Outer.IPv4.Addr().AsSlice()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := uint16(conn.LocalAddr().(*net.UDPAddr).Port)
	// From the inner end to the outer end, injected on the outer end as
	// if it had arrived there: a local socket receives the datagrams.
	tmpl := Template{Proto: UDP, SrcMAC: env.Inner.MAC, DstMAC: env.Outer.MAC, Src: env.Inner.IPv4.Addr(), Dst: env.Outer.IPv4.Addr(), SrcPort: 5, DstPort: port, Payload: []byte("xdpkit")}
	frame, err := tmpl.Frame()
	if err != nil {
		t.Fatal(err)
	}
	const count = 50
	s := run(t, Spec{Interface: env.Outer.Interface, Frames: [][]byte{frame}, Count: count, Action: Pass})
	if s.Frames != count {
		t.Errorf("injected %d frames, want %d", s.Frames, count)
	}
	buf := make([]byte, 2048)
	got := 0
	for got < count {
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := conn.ReadFromUDP(buf); err != nil {
			break
		}
		got++
	}
	if got != count {
		t.Errorf("the local socket received %d datagrams, want %d", got, count)
	}
}

func TestGeneratorRefusesNoCarrier(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	frame := envFrame(t, env, Template{Proto: UDP})
	if _, err := env.Inner.Exec(t.Context(), "ip", "link", "set", env.Inner.Interface, "down"); err != nil {
		t.Fatal(err)
	}
	_, err := New(Spec{Interface: env.Outer.Interface, Frames: [][]byte{frame}, Count: 10, PeerProgram: PeerDrop})
	if !errors.Is(err, ErrCannotTransmit) || !strings.Contains(err.Error(), "no carrier") {
		t.Fatalf("New with the peer down: %v, want ErrCannotTransmit saying no carrier", err)
	}
	if d, err := netdev.Lookup(env.Outer.Interface); err != nil || d.Peer == nil || d.Peer.XDPProgID != 0 {
		t.Errorf("the refused run left a program on the peer: %+v, %v", d.Peer, err)
	}
}

// TestGeneratorRedirect runs the frames on one interface and redirects
// them out of another: the peer program, the check and the counters are
// the target's.
func TestGeneratorRedirect(t *testing.T) {
	a := testutil.NewEnv(t, netenv.Spec{})
	b := testutil.NewEnv(t, netenv.Spec{})
	frame := envFrame(t, b, Template{Proto: UDP})
	counted := countAtPeer(t, b)
	s := run(t, Spec{Interface: a.Outer.Interface, Frames: [][]byte{frame}, Count: 5000, Action: Redirect, RedirectTo: b.Outer.Interface})
	if s.Frames != 5000 || s.Device == nil || s.Device.TxPackets < 5000 {
		t.Errorf("redirect: %d frames, device %+v", s.Frames, s.Device)
	}
	if got := counted(); got != 5000 {
		t.Errorf("the target's peer counted %d UDP frames, want 5000", got)
	}
	// A target that does not exist.
	_, err := New(Spec{Interface: a.Outer.Interface, Frames: [][]byte{frame}, Count: 10, Action: Redirect, RedirectTo: a.Outer.Interface + "x"})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("redirect to a missing interface: %v", err)
	}
}
