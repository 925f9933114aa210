package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// xskSpec is spec with a name of an xsk test's own, for testutil.NewEnv
// or, where frames are counted, testutil.NewQuietEnv.
func xskSpec(spec netenv.Spec) netenv.Spec {
	spec.Name = testutil.UniqueName("x")[:netenv.MaxNameLen]
	return spec
}

// hasXDP reports whether the interface of end has an XDP program, by
// "ip link show".
func hasXDP(t *testing.T, end netenv.End) (bool, string) {
	t.Helper()
	out, err := end.Exec(context.Background(), "ip", "link", "show", "dev", end.Interface)
	if err != nil {
		t.Fatal(err)
	}
	return xdpShown.Match(out), string(out)
}

// xdpShown matches what "ip link show" prints for an attached XDP
// program, in any mode.
var xdpShown = regexp.MustCompile(`\sxdp(generic|offload|multi)?\s|prog/xdp`)

// requireNoXDP fails t if the interface of end has an XDP program.
func requireNoXDP(t *testing.T, end netenv.End) {
	t.Helper()
	if ok, out := hasXDP(t, end); ok {
		t.Errorf("%s still has an XDP program:\n%s", end.Interface, out)
	}
}

// waitXDP waits until the interface of end has an XDP program: an xsk
// command has bound its sockets and attached its program. The sockets are
// registered in the program's map just after: a little more time covers
// that.
func waitXDP(t *testing.T, end netenv.End, bg *xskBackground) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ok, _ := hasXDP(t, end); ok {
			time.Sleep(200 * time.Millisecond)
			return
		}
		if bg.exited() || time.Now().After(deadline) {
			r := bg.wait(t)
			t.Fatalf("xdpkit %s attached no program (exit %d)\nstdout: %s\nstderr: %s", strings.Join(bg.args, " "), r.code, r.stdout, r.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe to write from a process's copier
// and read from the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// xskBackground is xdpkit running in the background.
type xskBackground struct {
	args           []string
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	err            error
}

// startXdpkit starts the xdpkit binary with args inside end's namespace
// and kills it when t ends if it still runs.
func startXdpkit(t *testing.T, end netenv.End, args ...string) *xskBackground {
	t.Helper()
	return startCommand(t, end, nil, args...)
}

// startCommand is startXdpkit with the binary run by the command prefix,
// such as setpriv and its flags.
func startCommand(t *testing.T, end netenv.End, prefix []string, args ...string) *xskBackground {
	t.Helper()
	bg := &xskBackground{args: args, done: make(chan struct{})}
	argv := append(append(append([]string{}, prefix...), testutil.BuildCLI(t)), args...)
	bg.cmd = end.Command(context.Background(), argv...)
	bg.cmd.Stdout, bg.cmd.Stderr = &bg.stdout, &bg.stderr
	if err := bg.cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	go func() {
		bg.err = bg.cmd.Wait()
		close(bg.done)
	}()
	t.Cleanup(func() {
		if !bg.exited() {
			bg.cmd.Process.Kill()
			<-bg.done
		}
	})
	return bg
}

func (bg *xskBackground) exited() bool {
	select {
	case <-bg.done:
		return true
	default:
		return false
	}
}

// waitStderr waits until stderr has s.
func (bg *xskBackground) waitStderr(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(bg.stderr.String(), s) {
		if bg.exited() || time.Now().After(deadline) {
			r := bg.wait(t)
			t.Fatalf("xdpkit %s: no %q on stderr (exit %d)\nstdout: %s\nstderr: %s", strings.Join(bg.args, " "), s, r.code, r.stdout, r.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// interrupt sends SIGINT.
func (bg *xskBackground) interrupt(t *testing.T) {
	t.Helper()
	if err := bg.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
}

// wait waits at most 10 seconds for the command to end and returns what
// it printed and its exit code.
func (bg *xskBackground) wait(t *testing.T) cliResult {
	t.Helper()
	select {
	case <-bg.done:
	case <-time.After(10 * time.Second):
		bg.cmd.Process.Kill()
		<-bg.done
		t.Errorf("xdpkit %s did not end within 10s: killed", strings.Join(bg.args, " "))
	}
	code := 0
	var exit *exec.ExitError
	if errors.As(bg.err, &exit) {
		code = exit.ExitCode()
	} else if bg.err != nil {
		t.Fatalf("xdpkit %v: %v", bg.args, bg.err)
	}
	return cliResult{bg.stdout.String(), bg.stderr.String(), code}
}

// xskReportFields are the fields every --json report has.
var xskReportFields = []string{"app", "interface", "queues", "bind_mode", "bind_requested", "zero_copy", "need_wakeup",
	"busy_poll", "xdp_mode", "frame_size", "frames_per_queue", "ring_size", "batch", "elapsed_s", "active_s",
	"rx_packets", "rx_bytes", "rx_pps", "rx_mbps", "tx_packets", "tx_bytes", "tx_pps", "tx_mbps", "tx_dropped",
	"socket", "per_queue", "program", "interrupted", "count", "duration_s", "pps_target"}

// parseXskReport parses a --json report: one object on one line, with
// every field, rates over active_s.
func parseXskReport(t *testing.T, out string) xskReportJSON {
	t.Helper()
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("want one line of JSON:\n%s", out)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &fields); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	for _, f := range xskReportFields {
		if _, ok := fields[f]; !ok {
			t.Errorf("no %q in %s", f, out)
		}
	}
	var r xskReportJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	check := func(name string, n uint64, pps float64) {
		want := 0.0
		if r.ActiveSeconds > 0 {
			want = float64(n) / r.ActiveSeconds
		}
		if math.Abs(pps-want) > want*1e-9+1e-9 {
			t.Errorf("%s %v, want %s_packets/active_s = %v", name, pps, name[:2], want)
		}
	}
	check("rx_pps", r.RxPackets, r.RxPPS)
	check("tx_pps", r.TxPackets, r.TxPPS)
	if r.ActiveSeconds > r.ElapsedSeconds {
		t.Errorf("active %v > elapsed %v", r.ActiveSeconds, r.ElapsedSeconds)
	}
	return r
}

func socketDropCount(s xsk.Statistics) uint64 {
	return s.RxDropped + s.RxRingFull + s.RxFillRingEmpty + s.RxInvalidDescs + s.TxInvalidDescs
}

// TestXskBadInput: every bad command line is refused with its exit code
// and a message that names the flag and the fix, and leaves no program on
// the interface.
func TestXskBadInput(t *testing.T) {
	env := testutil.NewEnv(t, xskSpec(netenv.Spec{}))
	iface := env.Outer.Interface
	rx := func(extra ...string) []string { return append([]string{"xsk", "rx", iface, "-d", "100ms"}, extra...) }
	tx := func(extra ...string) []string { return append([]string{"xsk", "tx", iface, "-n", "10"}, extra...) }

	// A pinned map that is not an XSKMAP.
	arrPin := pinNewMap(t, ebpf.Array, "xkarr")

	cases := []genCase{
		{"no interface", []string{"xsk", "rx"}, 2, []string{"accepts 1 arg"}},
		{"unknown interface", []string{"xsk", "rx", "xk-nosuch0"}, 5, []string{`interface "xk-nosuch0" not found`, "xdpkit env setup"}},
		{"unknown interface, ping", []string{"xsk", "ping", "xk-nosuch0"}, 5, []string{`interface "xk-nosuch0" not found`}},
		{"copy and zerocopy", rx("--copy", "--zerocopy"), 2, []string{"--copy with --zerocopy: give one of them, or neither"}},
		{"frame size 3000", rx("--frame-size", "3000"), 2, []string{"--frame-size 3000: ", "use 2048 or 4096"}},
		{"frame size 0", rx("--frame-size", "0"), 2, []string{"--frame-size 0: give a positive number (the default is 4096)"}},
		{"ring size 1000", rx("--ring-size", "1000"), 2, []string{"--ring-size 1000: ", "not a power of two", "try 1024"}},
		{"ring size 0", rx("--ring-size", "0"), 2, []string{"--ring-size 0: give a positive number (the default is 2048)"}},
		{"ring size too big", rx("--ring-size", "4194304"), 2, []string{"--ring-size 4194304: ", "not a power of two between 1 and "}},
		{"too few frames", rx("--frames", "1000"), 2, []string{"--frames 1000: ", "too small for the rings", "2048-entry FILL ring", "use 4096 frames or more"}},
		{"too few frames for smaller rings", rx("--ring-size", "512", "--frames", "1000"), 2, []string{"--frames 1000: ", "use 1024 frames or more"}},
		{"rings too big for the frames", rx("--ring-size", "4096"), 2, []string{"--ring-size 4096: ", "use 8192 frames or more"}},
		{"frames 0", rx("--frames", "0"), 2, []string{"--frames 0: give a positive number"}},
		{"pps on rx", rx("--pps", "1000"), 2, []string{"--pps applies to xsk tx only", "drop --pps"}},
		{"pps on fwd", []string{"xsk", "fwd", iface, "--pps", "10"}, 2, []string{"--pps applies to xsk tx only"}},
		{"pps 0 on tx", tx("--pps", "0"), 2, []string{"--pps 0 sends nothing"}},
		{"queue out of range", rx("--queue", "5"), 2, []string{"--queue 5: queue 5 is out of range", iface + " has 1 queue"}},
		{"queues out of range", rx("--queues", "2"), 2, []string{"--queue 0 --queues 2: queue 1 is out of range"}},
		{"queue out of range, tx", tx("--queue", "3"), 2, []string{"--queue 3: queue 3 is out of range"}},
		{"queues 0", rx("--queues", "0"), 2, []string{"--queues 0: give a positive number"}},
		{"queues too many", rx("--queues", "2000"), 2, []string{"--queues 2000: ", "use 1 to 1024"}},
		{"negative queue", rx("--queue", "-1"), 2, []string{"--queue -1: not a valid number"}},
		{"zero-copy on veth", rx("--zerocopy"), 4, []string{"does not support zero-copy", "use copy mode (--copy)"}},
		{"zero-copy on veth, tx", tx("--zerocopy"), 4, []string{"does not support zero-copy", "use copy mode (--copy)"}},
		{"batch 0", rx("--batch", "0"), 2, []string{"--batch 0: give a positive number"}},
		{"batch over the ring", rx("--ring-size", "64", "--frames", "128", "--batch", "65"), 2, []string{"--batch 65: ", "use at most 64"}},
		{"count 0", rx("--count", "0"), 2, []string{"--count 0 receives nothing"}},
		{"duration 0", rx("--duration", "0s"), 2, []string{"--duration 0s: give a positive duration"}},
		{"interval 0", rx("--interval", "0s"), 2, []string{"--interval 0s: give a positive period"}},
		{"bad xdp mode", rx("--xdp-mode", "offload"), 2, []string{`--xdp-mode "offload": use native or generic`}},
		{"xdp mode with xskmap", rx("--xskmap", arrPin, "--xdp-mode", "generic"), 2, []string{"--xdp-mode with --xskmap", "drop --xdp-mode"}},
		{"xskmap on tx", tx("--xskmap", arrPin), 2, []string{"--xskmap with xsk tx", "drop --xskmap"}},
		{"missing xskmap", rx("--xskmap", "/sys/fs/bpf/xk-nosuch-map"), 5, []string{"no pinned map at /sys/fs/bpf/xk-nosuch-map"}},
		{"xskmap not an XSKMAP", rx("--xskmap", arrPin), 2, []string{"not an XSKMAP"}},
		{"budget without busy poll", rx("--busy-poll-budget", "16"), 2, []string{"--busy-poll-budget 16 needs --busy-poll"}},
		{"busy poll 0", rx("--busy-poll", "0s"), 2, []string{"--busy-poll 0s: give a positive time"}},
		{"budget too big", rx("--busy-poll", "20us", "--busy-poll-budget", "70000"), 2, []string{"--busy-poll-budget 70000: give 1 to 65535"}},
		{"bad proto", tx("--proto", "sctp"), 2, []string{`--proto "sctp": use udp, tcp or icmp`}},
		{"ports with icmp", tx("--proto", "icmp", "--dst-port", "80"), 2, []string{"--dst-port with --proto icmp: an echo request has no ports"}},
		{"tcp flags with udp", tx("--tcp-flags", "SA"), 2, []string{"--tcp-flags with --proto udp"}},
		{"bad tcp flags", tx("--proto", "tcp", "--tcp-flags", "SZ"), 2, []string{`TCP flags "SZ"`}},
		{"source range", tx("--src-addr", "10.0.0.0/24"), 2, []string{"--src-addr 10.0.0.0/24: xsk tx sends one frame over and over"}},
		{"port range", tx("--dst-port", "80-90"), 2, []string{"--dst-port 80-90: xsk tx sends one frame over and over: give one port"}},
		{"no dyn-ports", tx("--dyn-ports", "5"), 2, []string{"unknown flag: --dyn-ports"}},
		{"size over the MTU", tx("--size", "1515"), 2, []string{"--size 1515: frames on " + iface + " are 60 to 1514 bytes", "MTU (1500)"}},
		{"size 59", tx("--size", "59"), 2, []string{"--size 59"}},
		{"bad dst mac", tx("--dst-mac", "zz"), 2, []string{`--dst-mac "zz": not an Ethernet address`}},
		{"template flag on rx", rx("--dst-port", "80"), 2, []string{"unknown flag: --dst-port"}},
		{"multicast addr", []string{"xsk", "ping", iface, "--addr", "ff02::1"}, 2, []string{"--addr ff02::1", "multicast", "give a unicast address"}},
		{"bad addr", []string{"xsk", "ping", iface, "--addr", "10.0.0.300"}, 2, []string{`--addr "10.0.0.300": not an IPv4 or IPv6 address`}},
		{"addr on rx", rx("--addr", "10.0.0.1"), 2, []string{"unknown flag: --addr"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkGenCase(t, false, tc)
			requireNoXDP(t, env.Outer)
		})
	}

	// The flag is named once, whether the library's words name it or not.
	t.Run("zero-copy hint once", func(t *testing.T) {
		res := runXdpkit(t, false, rx("--zerocopy")...)
		if n := strings.Count(res.stderr, "--copy"); n != 1 {
			t.Errorf("--copy %d times:\n%s", n, res.stderr)
		}
	})

	// A UMEM larger than memory and swap together: mmap refuses it at
	// once, unless the kernel overcommits always (then MAP_POPULATE would
	// call the OOM killer: not tried).
	t.Run("UMEM beyond memory", func(t *testing.T) {
		const frames = 100_000_000
		if !mmapRefuses(t, frames*xsk.DefaultFrameSize) {
			t.Skip("the kernel may overcommit a UMEM of that size")
		}
		checkGenCase(t, false, genCase{"enomem", rx("--frames", fmt.Sprint(frames)), 2,
			[]string{"allocating a ", "cannot allocate memory", "give a smaller --frames"}})
		requireNoXDP(t, env.Outer)
	})

	t.Run("unprivileged", func(t *testing.T) {
		for _, tc := range []genCase{
			{"rx", rx(), 3, []string{"CAP_NET_RAW", "CAP_BPF", "CAP_NET_ADMIN"}},
			{"ping", []string{"xsk", "ping", iface, "-d", "100ms"}, 3, []string{"CAP_NET_RAW"}},
			{"tx", tx("--dst-addr", env.Inner.IPv4.Addr().String()), 3, []string{"CAP_NET_RAW"}},
			// The default destination is the veth peer's address, in a
			// namespace only CAP_SYS_ADMIN enters: the missing
			// capabilities of the command come first.
			{"tx, default destination", tx(), 3, []string{"this needs CAP_NET_RAW: "}},
			// Flags are checked first: exit 2 without privileges too.
			{"bad flags", rx("--frame-size", "3000"), 2, []string{"--frame-size 3000"}},
			{"unknown interface", []string{"xsk", "rx", "xk-nosuch0"}, 5, []string{"not found"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkGenCase(t, true, tc)
				requireNoXDP(t, env.Outer)
			})
		}
	})

	// A socket of this test holds queue 0: the command finds it busy.
	t.Run("queue busy", func(t *testing.T) {
		umem, err := xsk.NewUmem(xsk.UmemConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer umem.Close()
		sock, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: iface, Mode: xsk.ModeCopy})
		if err != nil {
			t.Fatal(err)
		}
		defer sock.Close()
		for _, tc := range []genCase{
			{"rx", rx(), 2, []string{"binding to " + iface + " queue 0: the queue already has an AF_XDP socket", "close it, share its UMEM, or try again; or choose another --queue"}},
			{"ping", []string{"xsk", "ping", iface, "-d", "100ms"}, 2, []string{"already has an AF_XDP socket"}},
		} {
			checkGenCase(t, false, tc)
			requireNoXDP(t, env.Outer)
		}
	})

	// Down last: the env is not used after it.
	if out, err := exec.Command("ip", "link", "set", iface, "down").CombinedOutput(); err != nil {
		t.Fatalf("ip link set %s down: %v\n%s", iface, err, out)
	}
	checkGenCase(t, false, genCase{"down", rx(), 2, []string{"interface " + iface + " is down", `"ip link set ` + iface + ` up"`}})
	requireNoXDP(t, env.Outer)
}

// pinNewMap makes a map of one 4-byte entry of typ, pins it in
// /sys/fs/bpf under a name of its own beginning with prefix, and returns
// the path; the map and its pin go when t ends.
func pinNewMap(t *testing.T, typ ebpf.MapType, prefix string) string {
	t.Helper()
	testutil.RequireBPFFS(t, "/sys/fs/bpf")
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	pin := filepath.Join("/sys/fs/bpf", testutil.UniqueName(prefix))
	if err := m.Pin(pin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Unpin() })
	return pin
}

// mmapRefuses reports whether the kernel refuses an anonymous mapping of
// size bytes at once: its overcommit policy is the heuristic (0) or
// strict (2) one, and size is more than memory and swap together.
func mmapRefuses(t *testing.T, size uint64) bool {
	t.Helper()
	policy, err := os.ReadFile("/proc/sys/vm/overcommit_memory")
	if err != nil || strings.TrimSpace(string(policy)) == "1" {
		return false
	}
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return false
	}
	var total uint64
	for _, line := range strings.Split(string(meminfo), "\n") {
		var kib uint64
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kib); err == nil {
			total += kib << 10
		} else if _, err := fmt.Sscanf(line, "SwapTotal: %d kB", &kib); err == nil {
			total += kib << 10
		}
	}
	return total > 0 && size > total
}

// TestXskPing: xsk ping on the outer end answers the inner end's ARP,
// neighbour solicitations and echo requests, IPv4 and IPv6; Ctrl-C ends
// it with the report and exit 130, and nothing stays attached.
func TestXskPing(t *testing.T) {
	env := testutil.NewEnv(t, xskSpec(netenv.Spec{}))
	bg := startXdpkit(t, env.Outer, "xsk", "ping", env.Outer.Interface, "--interval", "200ms", "--duration", "12s")
	bg.waitStderr(t, env.Outer.Interface+": xsk ping on queue 0, copy mode")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The inner end must learn the outer end's MAC from the responder.
	if _, err := env.Exec(ctx, "ip", "neigh", "flush", "all"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		argv []string
	}{
		{"IPv4", []string{"ping", "-c", "3", "-i", "0.2", "-W", "1", env.Outer.IPv4.Addr().String()}},
		{"IPv6", []string{"ping", "-6", "-c", "3", "-i", "0.2", "-W", "1", env.Outer.IPv6.Addr().String()}},
	} {
		out, err := env.Exec(ctx, tc.argv...)
		if sent, received, ok := netenv.ParsePingStats(out); !ok || sent != 3 || received != 3 {
			t.Errorf("%s: %d of %d replies (%v):\n%s", tc.name, received, sent, err, out)
		}
	}
	bg.interrupt(t)
	r := bg.wait(t)
	r.want(t, ExitInterrupted, bg.args...)
	for _, re := range []string{
		`(?m)^  replies   arp-reply [1-9]\d*, neighbor-advertisement [1-9]\d*, echo-reply-v4 3, echo-reply-v6 3$`,
		`(?m)^  ignored   \d+ frames that were not requests$`,
		`(?m)^` + regexp.QuoteMeta(env.Outer.Interface) + `: xsk ping on queue 0 ran .* \(interrupted\)$`,
		`(?m)^  program   xdpkit's redirect program \(native mode\): queue 0: [1-9]\d* redirected`,
		`(?m)^  bind      copy mode \(zero-copy not active`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("report lacks %s:\n%s", re, r.stdout)
		}
	}
	for _, w := range []string{"AF_XDP RX:", "       TX:", "period:0.2", "      drops: rx_dropped 0", "    replies: arp-reply", "  ignored ", "interrupted after"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	requireNoXDP(t, env.Outer)
}

// TestXskRxCount: xsk rx --count N on the outer end receives exactly
// the N frames xdpkit gen sends it from the inner end, with no drops, and
// exits 0. gen needs the receiving end to have an XDP program, which xsk
// rx's provides; from the inner namespace gen cannot see the outer end
// (its namespace has no name), so the destination is given.
func TestXskRxCount(t *testing.T) {
	env := testutil.NewQuietEnv(t, xskSpec(netenv.Spec{}))
	const n = 10000
	bg := startXdpkit(t, env.Outer, "xsk", "rx", env.Outer.Interface, "--count", fmt.Sprint(n), "--json", "--duration", "10s")
	waitXDP(t, env.Outer, bg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := env.Inner.Exec(ctx, testutil.BuildCLI(t), "gen", "udp", env.Inner.Interface, "--count", fmt.Sprint(n), "--pps", "100000", "-q",
		"--dst-addr", env.Outer.IPv4.Addr().String(), "--dst-mac", env.Outer.MAC.String()); err != nil {
		t.Fatalf("gen in %s: %v\n%s", env.Inner.Netns, err, out)
	}
	res := bg.wait(t)
	r := parseXskReport(t, res.want(t, 0, bg.args...))
	if r.App != "rx" || r.Interface != env.Outer.Interface || r.RxPackets != n || r.RxBytes != 60*n || r.TxPackets != 0 || r.Count != n ||
		r.Interrupted || r.BindMode != "copy" || r.BindRequested != "auto" || r.ZeroCopy {
		t.Errorf("report: %s", res.stdout)
	}
	if d := socketDropCount(r.Socket); d != 0 {
		t.Errorf("%d socket drops: %+v", d, r.Socket)
	}
	if r.RxPPS <= 0 || r.ActiveSeconds <= 0 || r.ActiveSeconds > r.ElapsedSeconds {
		t.Errorf("rx_pps %v over %vs active, %vs elapsed", r.RxPPS, r.ActiveSeconds, r.ElapsedSeconds)
	}
	if len(r.Program) != 1 || r.Program[0].Queue != 0 || r.Program[0].Redirected != n || r.Program[0].Passed != 0 {
		t.Errorf("program counters %+v, want %d redirected on queue 0", r.Program, n)
	}
	if len(r.PerQueue) != 1 || r.PerQueue[0].RxPackets != n {
		t.Errorf("per_queue %+v", r.PerQueue)
	}
	if strings.Contains(res.stderr, "warning") || strings.Contains(res.stderr, "AF_XDP RX:") {
		t.Errorf("stderr: %s", res.stderr)
	}
	requireNoXDP(t, env.Outer)
}

// rxPackets returns the RX packets counter of end's interface.
func rxPackets(t *testing.T, end netenv.End) uint64 {
	t.Helper()
	out, err := end.Exec(context.Background(), "ip", "-s", "-j", "link", "show", "dev", end.Interface)
	if err != nil {
		t.Fatal(err)
	}
	var links []struct {
		Stats struct {
			RX struct {
				Packets uint64 `json:"packets"`
			} `json:"rx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -s -j link show: %v\n%s", err, out)
	}
	return links[0].Stats.RX.Packets
}

// TestXskTx: xsk tx --count N from the outer end: the inner end receives
// N frames, built by gen's template flags.
func TestXskTx(t *testing.T) {
	env := testutil.NewQuietEnv(t, xskSpec(netenv.Spec{}))
	const n = 20000
	before := rxPackets(t, env.Inner)
	// To another host's MAC, so that the inner stack, which drops them,
	// sends no ICMP errors back and so no ARP that would add to the count.
	args := []string{"xsk", "tx", env.Outer.Interface, "--count", fmt.Sprint(n), "--json", "--dst-mac", "02:00:00:00:00:02"}
	res := runXdpkit(t, false, args...)
	r := parseXskReport(t, res.want(t, 0, args...))
	got := rxPackets(t, env.Inner) - before
	if got != n {
		t.Errorf("the inner end received %d frames, want %d", got, n)
	}
	if r.App != "tx" || r.TxPackets != n || r.TxBytes != 60*n || r.RxPackets != 0 || r.FrameLen != 60 ||
		r.XDPMode != nil || r.Program != nil || r.TxPPS <= 0 {
		t.Errorf("report: %s", res.stdout)
	}
	requireNoXDP(t, env.Outer)

	// The frame is gen's template: --proto icmp, --size, the defaults
	// from the interface and its peer. --pps paces it.
	sock := testutil.OpenPacketSocket(t, env.Inner, 0x0800)
	args = []string{"xsk", "tx", env.Outer.Interface, "--count", "100", "--proto", "icmp", "--size", "100", "--pps", "2000", "--ttl", "9"}
	res = runXdpkit(t, false, args...)
	out := res.want(t, 0, args...)
	if !strings.Contains(out, "  sent      100 frames (10000 bytes) in ") || !strings.Contains(out, "  tx ring   found empty ") ||
		strings.Contains(out, "tx_ring_empty 0,") {
		t.Errorf("report:\n%s", out)
	}
	want := fmt.Sprintf("sending icmp %s > %s, 100-byte frames, %s > %s (", env.Outer.IPv4.Addr(), env.Inner.IPv4.Addr(), env.Outer.MAC, env.Inner.MAC)
	if !strings.Contains(res.stderr, want) {
		t.Errorf("start line: want %q:\n%s", want, res.stderr)
	}
	var frames int
	sock.Receive(2*time.Second, func(f []byte) bool {
		if len(f) == 100 && bytes.Equal(f[0:6], env.Inner.MAC) && bytes.Equal(f[6:12], env.Outer.MAC) &&
			f[14+8] == 9 && f[14+9] == 1 && f[34] == 8 { // TTL 9, ICMP, echo request
			frames++
		}
		return frames < 100
	})
	if frames != 100 {
		t.Errorf("the inner end received %d of the 100 echo requests", frames)
	}
}

// TestXskFwd: frames sent from the inner end come back to it with their
// MACs swapped.
func TestXskFwd(t *testing.T) {
	env := testutil.NewQuietEnv(t, xskSpec(netenv.Spec{}))
	const n = 50
	bg := startXdpkit(t, env.Outer, "xsk", "fwd", env.Outer.Interface, "--count", fmt.Sprint(n), "--json", "--duration", "10s")
	waitXDP(t, env.Outer, bg)
	const etherType = 0x88b5 // local experimental: no stack takes it
	sock := testutil.OpenPacketSocket(t, env.Inner, etherType)
	for i := range n {
		f := make([]byte, 64)
		copy(f[0:6], env.Outer.MAC)
		copy(f[6:12], env.Inner.MAC)
		binary.BigEndian.PutUint16(f[12:], etherType)
		binary.BigEndian.PutUint32(f[14:], uint32(i))
		if err := sock.Send(f); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[uint32]bool{}
	sock.Receive(3*time.Second, func(f []byte) bool {
		if len(f) < 18 || binary.BigEndian.Uint16(f[12:]) != etherType {
			return true
		}
		if !bytes.Equal(f[0:6], env.Inner.MAC) || !bytes.Equal(f[6:12], env.Outer.MAC) {
			t.Errorf("frame %s > %s: want the MACs swapped (%s > %s)", netMAC(f[6:12]), netMAC(f[0:6]), env.Outer.MAC, env.Inner.MAC)
			return false
		}
		seen[binary.BigEndian.Uint32(f[14:])] = true
		return len(seen) < n
	})
	if len(seen) != n {
		t.Errorf("%d of %d frames came back", len(seen), n)
	}
	res := bg.wait(t)
	r := parseXskReport(t, res.want(t, 0, bg.args...))
	if r.App != "fwd" || r.RxPackets != n || r.TxPackets != n || r.RxBytes != r.TxBytes || r.TxDropped != 0 ||
		len(r.Program) != 1 || r.Program[0].Redirected != n {
		t.Errorf("report: %s", res.stdout)
	}
	requireNoXDP(t, env.Outer)
}

func netMAC(b []byte) string {
	parts := make([]string, len(b))
	for i, v := range b {
		parts[i] = fmt.Sprintf("%02x", v)
	}
	return strings.Join(parts, ":")
}

// TestXskJSON: the --json report of a run on two queues with every
// socket option set, and the live lines on stderr (--interval given).
func TestXskJSON(t *testing.T) {
	env := testutil.NewQuietEnv(t, xskSpec(netenv.Spec{Queues: 2}))
	args := []string{"xsk", "rx", env.Outer.Interface, "--queues", "2", "--duration", "500ms", "--interval", "100ms", "--json",
		"--copy", "--wakeup", "--batch", "32", "--frame-size", "2048", "--frames", "1024", "--ring-size", "512",
		"--busy-poll", "20us", "--busy-poll-budget", "16", "--xdp-mode", "generic"}
	res := runXdpkit(t, false, args...)
	r := parseXskReport(t, res.want(t, 0, args...))
	if r.App != "rx" || len(r.Queues) != 2 || r.Queues[0] != 0 || r.Queues[1] != 1 || len(r.PerQueue) != 2 ||
		r.PerQueue[1].Queue != 1 || r.BindMode != "copy" || r.BindRequested != "copy" || !r.NeedWakeup ||
		r.FrameSize != 2048 || r.FramesPerQueue != 1024 || r.RingSize != 512 || r.Batch != 32 ||
		r.XDPMode == nil || *r.XDPMode != "generic" || r.Program == nil || r.Interrupted || r.Replies != nil {
		t.Errorf("report: %s", res.stdout)
	}
	if r.ElapsedSeconds < 0.5 || r.ElapsedSeconds > 2 {
		t.Errorf("elapsed %vs for --duration 500ms", r.ElapsedSeconds)
	}
	if bp := r.BusyPoll; bp == nil || bp.TimeoutUS != 20 || bp.Budget != 16 {
		t.Errorf("busy_poll: %s", res.stdout)
	}
	lines := regexp.MustCompile(`(?m)^AF_XDP RX: +[\d,]+ pkts \( +[\d,]+ pps\) +[\d,]+ Kbytes \( +[\d,]+ Mbits/s\) period:0\.\d{3}$`).FindAllString(res.stderr, -1)
	if len(lines) < 3 || !strings.Contains(res.stderr, "      drops: rx_dropped 0  rx_ring_full 0") || strings.Contains(res.stderr, "tx_ring_empty") {
		t.Errorf("want a live line every 100ms on stderr:\n%s", res.stderr)
	}
	requireNoXDP(t, env.Outer)

	// The human report has a line per queue.
	args = []string{"xsk", "rx", env.Outer.Interface, "--queues", "2", "--duration", "200ms", "-q"}
	out := runXdpkit(t, false, args...).want(t, 0, args...)
	for _, re := range []string{`(?m)xsk rx on queues 0-1 ran `, `(?m)^  queue 0   rx \d+ frames, `, `(?m)^  queue 1   rx \d+ frames, `} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("report lacks %s:\n%s", re, out)
		}
	}
	// The ping report has the replies; tx has no program.
	args = []string{"xsk", "ping", env.Outer.Interface, "--duration", "100ms", "--json", "--addr", "10.99.0.1,10.99.0.2"}
	res = runXdpkit(t, false, args...)
	r = parseXskReport(t, res.want(t, 0, args...))
	if r.Replies == nil || r.Ignored == nil || *r.Ignored != r.RxPackets || !strings.Contains(res.stdout, `"addrs":["10.99.0.1","10.99.0.2"]`) {
		t.Errorf("ping report: %s", res.stdout)
	}
}

// TestXskXSKMap: with --xskmap the sockets go into the pinned XSKMAP of
// a program that is attached already (here xsk's default program,
// attached by the test): xdpkit attaches nothing and leaves that program
// in place.
func TestXskXSKMap(t *testing.T) {
	testutil.RequireBPFFS(t, "/sys/fs/bpf")
	env := testutil.NewQuietEnv(t, xskSpec(netenv.Spec{}))

	// Without a program on the interface, nothing would reach the
	// sockets: the run says so at the start.
	lonePin := pinNewMap(t, ebpf.XSKMap, "xklone")
	args := []string{"xsk", "rx", env.Outer.Interface, "--xskmap", lonePin, "-d", "100ms", "-q"}
	res := runXdpkit(t, false, args...)
	res.want(t, 0, args...)
	if want := "warning: " + env.Outer.Interface + " has no XDP program attached: nothing reaches the sockets until a program " +
		"that redirects into the XSKMAP " + lonePin + " is attached"; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
	}

	prog, err := xsk.AttachProgram(env.Outer.Interface, xsk.ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	pin := filepath.Join("/sys/fs/bpf", testutil.UniqueName("xkmap"))
	if err := prog.XSKMap().Map().Pin(pin); err != nil {
		t.Fatal(err)
	}
	defer prog.XSKMap().Map().Unpin()

	const n = 20
	bg := startXdpkit(t, env.Outer, "xsk", "rx", env.Outer.Interface, "--xskmap", pin, "--count", fmt.Sprint(n), "--duration", "10s")
	bg.waitStderr(t, "sockets registered in "+pin)
	const etherType = 0x88b5
	sock := testutil.OpenPacketSocket(t, env.Inner, etherType)
	for range n {
		f := make([]byte, 60)
		copy(f[0:6], env.Outer.MAC)
		copy(f[6:12], env.Inner.MAC)
		binary.BigEndian.PutUint16(f[12:], etherType)
		if err := sock.Send(f); err != nil {
			t.Fatal(err)
		}
	}
	res = bg.wait(t)
	out := res.want(t, 0, bg.args...)
	if strings.Contains(res.stderr, "warning") {
		t.Errorf("stderr: %s", res.stderr)
	}
	for _, w := range []string{fmt.Sprintf("  received  %d frames (%d bytes)", n, 60*n), "  program   your own, through the XSKMAP " + pin} {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
	if ok, show := hasXDP(t, env.Outer); !ok {
		t.Errorf("the test's program was detached:\n%s", show)
	}
	c, err := prog.Counters()
	if err != nil || len(c) != 1 || c[0].Redirected != n {
		t.Errorf("the program redirected %+v (%v), want %d", c, err, n)
	}
}

// TestXskCapabilities: the capabilities the error message of xsk rx names
// are all it needs (the redirect program loads without CAP_PERFMON).
// Without CAP_IPC_LOCK the UMEM must fit under RLIMIT_MEMLOCK: one that
// does not is refused with exit 3, naming the flags that make it smaller.
func TestXskCapabilities(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		testutil.SkipOrFail(t, "setpriv (util-linux) is needed to run with given capabilities: %v", err)
	}
	env := testutil.NewEnv(t, xskSpec(netenv.Spec{}))
	// Those of the message of TestXskBadInput/unprivileged/rx.
	const caps = "+net_raw,+bpf,+net_admin"
	setpriv := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
		"--inh-caps=-all," + caps, "--ambient-caps=" + caps, "--bounding-set=-all," + caps}

	bg := startCommand(t, env.Outer, setpriv, "xsk", "rx", env.Outer.Interface, "-d", "300ms", "--frames", "1024", "--ring-size", "512")
	res := bg.wait(t)
	res.want(t, 0, bg.args...)
	if !strings.Contains(res.stdout, "xsk rx on queue 0 ran ") {
		t.Errorf("report:\n%s", res.stdout)
	}
	requireNoXDP(t, env.Outer)

	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl); err != nil {
		t.Fatal(err)
	}
	const umem = xsk.DefaultNumFrames * xsk.DefaultFrameSize // 16 MiB
	if rl.Cur >= umem {
		t.Skipf("RLIMIT_MEMLOCK %d holds the default UMEM of %d bytes", rl.Cur, umem)
	}
	bg = startCommand(t, env.Outer, setpriv, "xsk", "rx", env.Outer.Interface, "-d", "300ms")
	res = bg.wait(t)
	res.want(t, ExitPermission, bg.args...)
	for _, w := range []string{"locked-memory limit", "--frames", "--ring-size", "--frame-size 2048", "16 MiB here"} {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
		}
	}
	requireNoXDP(t, env.Outer)
}

// TestXskFrameTooLong: with an MTU longer than a UMEM frame holds, the
// run warns at the start, and the frames the kernel drops for their
// length are said to be too long, not missed by slow threads.
func TestXskFrameTooLong(t *testing.T) {
	env := testutil.NewQuietEnv(t, xskSpec(netenv.Spec{MTU: 3000}))
	bg := startXdpkit(t, env.Outer, "xsk", "rx", env.Outer.Interface, "--frame-size", "2048", "--count", "1", "--duration", "10s", "-q")
	waitXDP(t, env.Outer, bg)
	const etherType = 0x88b5
	sock := testutil.OpenPacketSocket(t, env.Inner, etherType)
	// A frame too long for a 2048-byte UMEM frame (1792 bytes after the
	// headroom), then one that fits and ends the run.
	for _, size := range []int{2500, 60} {
		f := make([]byte, size)
		copy(f[0:6], env.Outer.MAC)
		copy(f[6:12], env.Inner.MAC)
		binary.BigEndian.PutUint16(f[12:], etherType)
		if err := sock.Send(f); err != nil {
			t.Fatal(err)
		}
	}
	res := bg.wait(t)
	res.want(t, 0, bg.args...)
	for _, w := range []string{
		"warning: " + env.Outer.Interface + "'s MTU 3000 lets frames of up to 3014 bytes arrive (3018 with a VLAN tag), but a --frame-size 2048 UMEM frame holds 1792",
		"warning: the kernel dropped 1 frames longer than a UMEM frame holds (rx_dropped 1): a --frame-size 2048 frame holds 1792 bytes",
		"use --frame-size 4096",
		"  drops     rx_dropped 1, rx_ring_full 0, fill_ring_empty 0,",
	} {
		if !strings.Contains(res.stderr+res.stdout, w) {
			t.Errorf("output lacks %q:\nstdout: %s\nstderr: %s", w, res.stdout, res.stderr)
		}
	}
	if strings.Contains(res.stderr, "did not keep up") {
		t.Errorf("stderr blames slowness:\n%s", res.stderr)
	}
}
