package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/packet"
)

// genEnv sets up a veth pair for a gen test, with a name of its own.
func genEnv(t *testing.T) *netenv.Env {
	t.Helper()
	return testutil.NewEnv(t, netenv.Spec{Name: testutil.UniqueName("g")[:netenv.MaxNameLen]})
}

// readableDir returns a temporary directory every user may read, for
// files the tests hand to xdpkit running as nobody.
func readableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "xdpkit-gen-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// genCase is one bad command line: its exit code and what stderr says.
type genCase struct {
	name string
	args []string
	code int
	want []string
}

func checkGenCase(t *testing.T, unprivileged bool, tc genCase) {
	t.Helper()
	res := runXdpkit(t, unprivileged, tc.args...)
	res.want(t, tc.code, tc.args...)
	for _, w := range tc.want {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("xdpkit %s: stderr lacks %q:\n%s", strings.Join(tc.args, " "), w, res.stderr)
		}
	}
}

// writeGenPcap writes frames to a pcap file in dir and returns its path.
func writeGenPcap(t *testing.T, dir, name string, frames ...[]byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := packet.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		if err := w.Write(time.Unix(1, 0), fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeTruncatedPcap writes a classic pcap file in dir whose records are
// frames, each captured whole but the last, which holds only its first
// caplen bytes (as tcpdump -s CAPLEN records it).
func writeTruncatedPcap(t *testing.T, dir, name string, caplen int, frames ...[]byte) string {
	t.Helper()
	var b bytes.Buffer
	le := binary.LittleEndian
	for _, v := range []any{uint32(0xa1b2c3d4), uint16(2), uint16(4), int32(0), uint32(0), uint32(65535), uint32(1)} {
		binary.Write(&b, le, v)
	}
	for i, f := range frames {
		data := f
		if i == len(frames)-1 {
			data = f[:caplen]
		}
		for _, v := range []uint32{1, 0, uint32(len(data)), uint32(len(f))} {
			binary.Write(&b, le, v)
		}
		b.Write(data)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func buildFrame(t *testing.T, spec string) []byte {
	t.Helper()
	frame, err := packet.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	return frame
}

// TestGenBadInput: every bad flag value is refused with exit 2 (5 for a
// missing interface or file) and a message that names the problem and
// the fix, before anything is loaded: the same without privileges. The
// interface is lo, which every namespace has, up and without a veth peer.
func TestGenBadInput(t *testing.T) {
	dir := readableDir(t)
	empty := writeGenPcap(t, dir, "empty.pcap")
	short := writeGenPcap(t, dir, "short.pcap", buildFrame(t, "eth/ipv4/udp"), make([]byte, 10))
	long := writeGenPcap(t, dir, "long.pcap", make([]byte, 4000))
	ping := buildFrame(t, "eth/ipv4/icmp/payload(56)") // 98 bytes, as ping sends
	truncated := writeTruncatedPcap(t, dir, "truncated.pcap", 40, ping, ping, ping)
	ncpu := fmt.Sprint(runtime.NumCPU())
	more := fmt.Sprint(runtime.NumCPU() + 1)
	notPcap := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notPcap, []byte("these are not packets\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// lo has no Ethernet address: --src-mac is needed, else an error.
	lo := []string{"gen", "udp", "lo", "--dst-addr", "127.0.0.2", "--src-mac", "02:00:00:00:00:01"}
	with := func(extra ...string) []string { return append(append([]string{}, lo...), extra...) }
	cases := []genCase{
		{"no interface", []string{"gen", "udp"}, 2, []string{"accepts 1 arg"}},
		{"missing interface", []string{"gen", "udp", "xk-nosuch0"}, 5,
			[]string{`interface "xk-nosuch0" not found`, "xdpkit env setup"}},
		{"missing interface, probe", []string{"gen", "probe", "xk-nosuch0"}, 5, []string{`interface "xk-nosuch0" not found`}},
		{"missing interface, pcap", []string{"gen", "pcap", "xk-nosuch0", empty}, 5, []string{`interface "xk-nosuch0" not found`}},
		{"batch 0", with("--batch", "0"), 2, []string{"--batch 0 out of range", "1 to 256"}},
		{"batch 257", with("--batch", "257"), 2, []string{"--batch 257 out of range"}},
		{"too many threads", with("--threads", more), 2, []string{"--threads " + more, "has " + ncpu + " CPUs"}},
		{"threads 0", with("--threads", "0"), 2, []string{"--threads 0: use 1 or more"}},
		{"cpu twice", with("--cpus", "0,0"), 2, []string{"CPU 0 given twice"}},
		{"cpu out of range", with("--cpus", more), 2, []string{"CPU " + more + " out of range"}},
		{"pps 0", with("--pps", "0"), 2, []string{"--pps 0 sends nothing", "leave --pps out"}},
		{"count 0", with("--count", "0"), 2, []string{"--count 0 sends nothing"}},
		{"negative duration", with("--duration", "-1s"), 2, []string{"--duration -1s"}},
		{"bad interval", with("--interval", "0s"), 2, []string{"--interval 0s"}},
		{"bad peer program", with("--peer-prog=bogus"), 2, []string{`--peer-prog "bogus": use pass`}},
		{"bad rewrite", with("--rewrite-headers", "sometimes"), 2, []string{`--rewrite-headers "sometimes": use auto, always or never`}},
		{"bad action", with("--action", "drop"), 2, []string{`--action "drop": use tx, pass or redirect`}},
		{"redirect without target", with("--action", "redirect"), 2, []string{"--action redirect needs --redirect-to IFACE"}},
		{"redirect-to with tx", with("--action", "tx", "--redirect-to", "lo"), 2, []string{"goes with --action redirect"}},
		{"pass with a peer program", with("--action", "pass", "--peer-prog"), 2, []string{"--peer-prog with --action pass", "drop --peer-prog"}},
		// With pass the source defaults to the veth peer's address: lo has none.
		{"pass without a source", []string{"gen", "udp", "lo", "--action", "pass"}, 2,
			[]string{"no source address: lo is not a veth with a peer xdpkit can see, so give --src-addr"}},
		{"bad dst mac", with("--dst-mac", "02:00:00:00:01"), 2, []string{`--dst-mac "02:00:00:00:01": not an Ethernet address`}},
		{"bad src mac", with("--src-mac", "zz"), 2, []string{`--src-mac "zz"`}},
		{"bad dst addr", []string{"gen", "udp", "lo", "--dst-addr", "10.0.0.300"}, 2, []string{`--dst-addr "10.0.0.300": not an IPv4 or IPv6 address`}},
		{"dst addr range", []string{"gen", "udp", "lo", "--dst-addr", "10.0.0.1-10.0.0.5"}, 2, []string{"only the source address varies"}},
		{"bad src range", with("--src-addr", "10.0.0.9-10.0.0.1"), 2, []string{"write the lower address first"}},
		{"ipv6 src range too wide", with("--src-addr", "fc00::1-fc01::1"), 2, []string{"last 32 bits"}},
		{"cidr too wide", with("--src-addr", "10.0.0.0/0"), 2, []string{"2^32 addresses (4294967296) are too many", "use a /1 or longer"}},
		{"ipv6 /64", with("--src-addr", "fc00::/64"), 2, []string{
			`--src-addr "fc00::/64": 2^64 addresses (18446744073709551616) are too many`,
			"only the last 32 bits of a source address vary, so at most 2^32-1 (4294967295)", "use a /97 or longer"}},
		{"range of 2^32", with("--src-addr", "0.0.0.0-255.255.255.255"), 2, []string{"4294967296 addresses (2^32) are too many"}},
		{"mixed families", []string{"gen", "udp", "lo", "--src-addr", "10.0.0.1", "--dst-addr", "fc00::2"}, 2,
			[]string{"--src-addr 10.0.0.1 is IPv4 but --dst-addr fc00::2 is IPv6", "both as IPv4 or both as IPv6"}},
		{"mixed family in range", with("--src-addr", "10.0.0.1-fc00::1"), 2, []string{"a range is of one family"}},
		{"-6 with IPv4", with("-6"), 2, []string{"-6/--ipv6 asks for IPv6 but the addresses given are IPv4"}},
		{"mapped address", []string{"gen", "udp", "lo", "--dst-addr", "::ffff:10.0.0.1", "--src-mac", "02:00:00:00:00:01"}, 2,
			[]string{"::ffff:10.0.0.1 is an IPv4-mapped IPv6 address: write it as IPv4 (10.0.0.1)"}},
		{"port 0", with("--src-port", "0"), 2, []string{`--src-port "0": a port is 1 to 65535`}},
		{"port too big", with("--dst-port", "70000"), 2, []string{`--dst-port "70000"`}},
		{"bad port range", with("--dst-port", "90-80"), 2, []string{"write the lower port first"}},
		{"dyn-ports with range", with("--dst-port", "80-90", "--dyn-ports", "10"), 2,
			[]string{"--dyn-ports 10 with the range --dst-port 80-90", "both vary the destination port"}},
		{"dyn-ports past 65535", with("--dst-port", "65530", "--dyn-ports", "10"), 2, []string{"goes past port 65535", "at most 6"}},
		{"dyn-ports 0", with("--dyn-ports", "0"), 2, []string{"--dyn-ports 0"}},
		{"size 59", with("--size", "59"), 2, []string{"--size 59", "at least 60 bytes, the Ethernet minimum without the 4-byte FCS"}},
		{"size 0", with("--size", "0"), 2, []string{"--size 0"}},
		{"size over a page", with("--size", "4000"), 2, []string{"--size 4000: frames on lo are 60 to 3408 bytes", "one live-frames page"}},
		{"no source MAC", []string{"gen", "udp", "lo", "--dst-addr", "127.0.0.2"}, 2, []string{"lo has no Ethernet address: give --src-mac"}},
		{"size below the headers", []string{"gen", "tcp", "lo", "--dst-addr", "::1", "--src-mac", "02:00:00:00:00:01", "--size", "60"}, 2, []string{"74 bytes of headers"}},
		{"ttl and hop-limit differ", with("--ttl", "5", "--hop-limit", "6"), 2, []string{"--ttl 5 and --hop-limit 6"}},
		{"ttl 0", with("--ttl", "0"), 2, []string{"--ttl 0"}},
		{"ttl 256", with("--ttl", "256"), 2, []string{"--ttl 256: out of range: use 1 to 255"}},
		{"hop-limit -1", with("--hop-limit", "-1"), 2, []string{"--hop-limit -1: out of range: use 1 to 255"}},
		{"vlan 70000", with("--vlan", "70000"), 2, []string{"--vlan 70000: VLAN ids are 1 to 4094"}},
		{"dyn-ports -1", with("--dyn-ports", "-1"), 2, []string{"--dyn-ports -1: give the number of destination ports"}},
		// Values pflag cannot parse read like the checks above: the flag,
		// the value, what it takes; for every command.
		{"pps -5", with("--pps", "-5"), 2, []string{"xdpkit: --pps -5: not a valid number: give a whole number of 0 or more\n"}},
		{"count too big", with("--count", "99999999999999999999"), 2,
			[]string{"--count 99999999999999999999: out of range: give a whole number from 0 to 18446744073709551615"}},
		{"size not a number", with("--size", "big"), 2, []string{"--size big: not a valid number: give a whole number"}},
		{"duration without unit", with("--duration", "10"), 2, []string{"--duration 10: not a duration: give a number with a unit, such as 10s"}},
		{"cpus not numbers", with("--cpus", "a,b"), 2, []string{"--cpus a,b: not a list of whole numbers"}},
		{"quiet not a bool", with("--quiet=maybe"), 2, []string{"--quiet maybe: not true or false"}},
		{"probe, bad bool", []string{"gen", "probe", "lo", "--no-trial=2"}, 2, []string{"--no-trial 2: not true or false"}},
		{"other command", []string{"map", "create", "m", "--key-size", "-1"}, 2, []string{"--key-size -1: not a valid number: give a whole number of 0 or more"}},
		{"vlan 4095", with("--vlan", "4095"), 2, []string{"--vlan 4095: VLAN ids are 1 to 4094"}},
		{"bad tcp flags", []string{"gen", "tcp", "lo", "--dst-addr", "127.0.0.2", "--src-mac", "02:00:00:00:00:01", "--tcp-flags", "SZ"}, 2, []string{`TCP flags "SZ"`, "FSRPAUEC"}},
		{"icmp has no ports", []string{"gen", "icmp", "lo", "--dst-port", "80"}, 2, []string{"unknown flag: --dst-port"}},
		{"no destination", []string{"gen", "udp", "lo"}, 2, []string{"no destination address: lo is not a veth", "give --dst-addr"}},
		{"empty pcap", []string{"gen", "pcap", "lo", empty}, 2, []string{"holds no frames"}},
		{"short frame", []string{"gen", "pcap", "lo", short}, 2, []string{"record 2 is 10 bytes, shorter than an Ethernet header (14 bytes)"}},
		{"frame too long", []string{"gen", "pcap", "lo", long}, 2, []string{"record 1 is 4000 bytes, longer than the 3408 bytes lo can send", "one live-frames page"}},
		{"truncated record", []string{"gen", "pcap", "lo", truncated}, 2,
			[]string{"record 3 was captured truncated (40 of 98 bytes): recapture without a snap length, tcpdump -s 0"}},
		{"missing pcap", []string{"gen", "pcap", "lo", filepath.Join(dir, "nope.pcap")}, 5, []string{"nope.pcap"}},
		{"not a pcap", []string{"gen", "pcap", "lo", notPcap}, 2, []string{"not a pcap or pcapng file"}},
	}
	t.Run("privileged", func(t *testing.T) {
		testutil.RequirePrivileged(t)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { checkGenCase(t, false, tc) })
		}
	})
	t.Run("unprivileged", func(t *testing.T) {
		if os.Geteuid() != 0 {
			testutil.SkipOrFail(t, "running xdpkit as another user needs root")
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { checkGenCase(t, true, tc) })
		}
	})
}

// TestGenUnprivileged: a valid command line without privileges exits 3
// and names the capabilities.
func TestGenUnprivileged(t *testing.T) {
	env := genEnv(t)
	iface := env.Outer.Interface
	for _, tc := range []genCase{
		{"template", []string{"gen", "udp", iface, "--count", "10", "--peer-prog", "--dst-addr", "10.0.0.2"}, 3, []string{"CAP_BPF"}},
		// The peer's address is in its namespace, which only root enters.
		{"peer out of reach", []string{"gen", "udp", iface, "--count", "10"}, 3,
			[]string{"the veth peer of " + iface + " is in another network namespace", "CAP_SYS_ADMIN", "--dst-addr"}},
		{"pcap", []string{"gen", "pcap", iface, writeGenPcap(t, readableDir(t), "one.pcap", buildFrame(t, "eth/ipv4"))}, 3, []string{"CAP_BPF"}},
		{"probe", []string{"gen", "probe", iface}, 3, []string{"CAP_BPF"}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkGenCase(t, true, tc) })
	}
}

// TestGenEnvBadInput: the errors that depend on the interface: its MTU,
// its peer, its state.
func TestGenEnvBadInput(t *testing.T) {
	env := genEnv(t)
	iface := env.Outer.Interface
	for _, tc := range []genCase{
		{"size over the MTU", []string{"gen", "udp", iface, "--size", "1515"}, 2,
			[]string{"--size 1515: frames on " + iface + " are 60 to 1514 bytes", "MTU (1500) plus the 14-byte Ethernet header"}},
		{"size over the MTU with a tag", []string{"gen", "udp", iface, "--size", "1519", "--vlan", "7"}, 2,
			[]string{"60 to 1518 bytes", "4 bytes of VLAN tag"}},
		{"cannot transmit", []string{"gen", "udp", iface, "--count", "10"}, 4,
			[]string{"cannot transmit XDP frames", "has no XDP program", "--peer-prog"}},
		{"redirect to a missing interface", []string{"gen", "udp", iface, "--count", "10", "--redirect-to", "xk-nosuch0"}, 5,
			[]string{`--redirect-to: interface "xk-nosuch0" not found`}},
		// The defaults come from the target: lo has no MAC, iface has.
		{"redirect defaults from the target", []string{"gen", "udp", iface, "--count", "10", "--redirect-to", "lo", "--dst-addr", "127.0.0.2"}, 2,
			[]string{"lo has no Ethernet address: give --src-mac"}},
		// So does the size limit: lo's is the page's.
		{"redirect size from the target", []string{"gen", "udp", iface, "--count", "10", "--redirect-to", "lo", "--dst-addr", "127.0.0.2",
			"--src-mac", "02:00:00:00:00:01", "--size", "3409"}, 2, []string{"--size 3409: frames on lo are 60 to 3408 bytes", "one live-frames page"}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkGenCase(t, false, tc) })
	}

	// Down last: the env is not used after it.
	out, err := exec.Command("ip", "link", "set", iface, "down").CombinedOutput()
	if err != nil {
		t.Fatalf("ip link set %s down: %v\n%s", iface, err, out)
	}
	checkGenCase(t, false, genCase{"down", []string{"gen", "udp", iface, "--count", "10", "--peer-prog"}, 2,
		[]string{"interface " + iface + " is down", `"ip link set ` + iface + ` up"`}})
	checkGenCase(t, false, genCase{"down, pcap", []string{"gen", "pcap", iface, "/nonexistent.pcap"}, 2,
		[]string{"is down"}})
	res := runXdpkit(t, false, "gen", "probe", iface)
	res.want(t, 4, "gen", "probe", iface)
	if !strings.Contains(res.stdout, "is down") {
		t.Errorf("probe of a down interface:\n%s", res.stdout)
	}
}

// TestGenProbe: a fresh veth cannot transmit (its peer has no program),
// and the report says to use --peer-prog; with it, the trial delivers.
func TestGenProbe(t *testing.T) {
	env := genEnv(t)
	iface := env.Outer.Interface
	args := []string{"gen", "probe", iface}
	res := runXdpkit(t, false, args...)
	res.want(t, 4, args...)
	for _, w := range []string{iface + ": veth", "veth peer     " + env.Inner.Interface, "in netns " + env.Inner.Netns,
		"peer program  none", "verdict: " + iface + " cannot transmit XDP frames", "--peer-prog"} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("probe report lacks %q:\n%s", w, res.stdout)
		}
	}
	if strings.Contains(res.stdout, "Spec.PeerPass") {
		t.Errorf("the report speaks of the library's field:\n%s", res.stdout)
	}

	args = []string{"gen", "probe", iface, "--peer-prog", "--json"}
	out := runXdpkit(t, false, args...).want(t, 0, args...)
	var p struct {
		Interface   string  `json:"interface"`
		Kind        string  `json:"kind"`
		Up          bool    `json:"up"`
		MTU         int     `json:"mtu"`
		XDPFeatures *string `json:"xdp_features"`
		CanTransmit bool    `json:"can_transmit"`
		Peer        *struct {
			Name  string `json:"name"`
			Netns string `json:"netns"`
		} `json:"peer"`
		Trial *struct {
			Sent      uint64  `json:"sent"`
			OK        bool    `json:"ok"`
			Delivered *uint64 `json:"delivered"`
		} `json:"trial"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if p.Interface != iface || p.Kind != "veth" || !p.Up || p.MTU != 1500 || !p.CanTransmit ||
		p.Peer == nil || p.Peer.Name != env.Inner.Interface || p.Peer.Netns != env.Inner.Netns {
		t.Errorf("probe --json: %s", out)
	}
	if p.Trial == nil || p.Trial.Sent != 1 || !p.Trial.OK || p.Trial.Delivered == nil || *p.Trial.Delivered != 1 {
		t.Errorf("trial: want 1 frame sent and delivered: %s", out)
	}
	requireNoPeerProgram(t, iface)

	// The human report names the program --peer-prog attached, and says
	// the trial plainly. The peer counts the host's own frames too (IPv6
	// neighbour discovery on a fresh pair): 1 or a few.
	trial := regexp.MustCompile(`(?m)^trial: sent 1 frame, the peer counted [1-9][0-9]*: it arrived$`)
	for _, tc := range []struct{ flag, want, not string }{
		{"--peer-prog", "peer program  none (--peer-prog attached a pass-through program for the trial)", "drops"},
		{"--peer-prog=drop", "peer program  none (--peer-prog=drop attached a program that counts and drops the frame for the trial)", "pass-through"},
	} {
		args := []string{"gen", "probe", iface, tc.flag}
		out := runXdpkit(t, false, args...).want(t, 0, args...)
		if !strings.Contains(out, tc.want) || strings.Contains(out, tc.not) || !trial.MatchString(out) ||
			!strings.Contains(out, "verdict: "+iface+" can transmit XDP frames") {
			t.Errorf("xdpkit %s: want %q and a plain trial line, no %q:\n%s", strings.Join(args, " "), tc.want, tc.not, out)
		}
		requireNoPeerProgram(t, iface)
	}

	args = []string{"gen", "probe", iface, "--no-trial"}
	res = runXdpkit(t, false, args...)
	res.want(t, 4, args...)
}

// genReport is the --json report of a sending gen command.
type genReport struct {
	Interface      string   `json:"interface"`
	Mode           string   `json:"mode"`
	Frames         uint64   `json:"frames"`
	Bytes          uint64   `json:"bytes"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`
	PPS            float64  `json:"pps"`
	Mbps           float64  `json:"mbps"`
	Delivered      *uint64  `json:"delivered"`
	ActiveSeconds  *float64 `json:"active_seconds"`
	Interrupted    bool     `json:"interrupted"`
	Count          uint64   `json:"count"`
	PPSTarget      uint64   `json:"pps_target"`
	Paced          uint64   `json:"paced"`
	PcapFrames     int      `json:"pcap_frames"`
	Device         *struct {
		Interface     string  `json:"interface"`
		TxPackets     uint64  `json:"tx_packets"`
		TxDropped     uint64  `json:"tx_dropped"`
		Peer          string  `json:"peer"`
		PeerRxPackets *uint64 `json:"peer_rx_packets"`
	} `json:"device"`
	Threads []struct {
		CPU    int     `json:"cpu"`
		Frames uint64  `json:"frames"`
		PPS    float64 `json:"pps"`
	} `json:"threads"`
}

// parseGenReport parses a --json report and checks its rates: over the
// time from the first frame (active_seconds), which the kernel's set-up
// of the run makes shorter than elapsed_seconds.
func parseGenReport(t *testing.T, out string) genReport {
	t.Helper()
	var r genReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if r.ActiveSeconds == nil {
		t.Fatalf("no active_seconds: %s", out)
	}
	if a := *r.ActiveSeconds; r.Frames > 0 && (a <= 0 || a >= r.ElapsedSeconds) {
		t.Errorf("active %.4fs, elapsed %.4fs: want 0 < active < elapsed", a, r.ElapsedSeconds)
	}
	if a := *r.ActiveSeconds; a > 0 {
		if want := float64(r.Frames) / a; r.PPS < want*0.999 || r.PPS > want*1.001 {
			t.Errorf("pps %.1f, want frames/active_seconds = %.1f", r.PPS, want)
		}
	}
	return r
}

// checkDelivered checks that want frames arrived at the peer. The
// counters are the interface's: the host's own frames (ARP, IPv6
// neighbour and router solicitations, MLD on a fresh pair) may add a few.
func checkDelivered(t *testing.T, r genReport, want uint64) {
	t.Helper()
	if r.Delivered == nil || *r.Delivered < want || *r.Delivered > want+5 {
		t.Errorf("delivered %v, want %d (+ at most 5 frames of the host's own)", r.Delivered, want)
	}
	if r.Delivered != nil && *r.Delivered != want {
		t.Logf("delivered %d: %d frames of the host's own", *r.Delivered, *r.Delivered-want)
	}
}

// TestGenUDPCount: --count is exact, and every frame arrives.
func TestGenUDPCount(t *testing.T) {
	env := genEnv(t)
	iface := env.Outer.Interface
	args := []string{"gen", "udp", iface, "--count", "1000", "--peer-prog=drop", "--json"}
	res := runXdpkit(t, false, args...)
	r := parseGenReport(t, res.want(t, 0, args...))
	if r.Interface != iface || r.Mode != "udp" || r.Frames != 1000 || r.Bytes != 60000 || r.Count != 1000 ||
		r.Interrupted || len(r.Threads) != 1 || r.Threads[0].Frames != 1000 || r.Device == nil {
		t.Errorf("report: %s", res.stdout)
	}
	checkDelivered(t, r, 1000)
	if res.stderr != "" {
		t.Errorf("stderr: %s", res.stderr)
	}
	requireNoPeerProgram(t, iface)

	// The human report, and the others of the family.
	for _, args := range [][]string{
		{"gen", "tcp", iface, "--count", "500", "-6", "--peer-prog", "--dyn-ports", "50", "--src-port", "1000-1009", "--tcp-flags", "SA"},
		{"gen", "icmp", iface, "--count", "500", "--peer-prog", "--src-addr", "10.99.0.0/28", "--size", "128", "--ttl", "3"},
		{"gen", "udp", iface, "--count", "600", "--peer-prog", "--threads", "2", "--batch", "16", "--interval", "50ms"},
	} {
		res := runXdpkit(t, false, args...)
		out := res.want(t, 0, args...)
		n := args[4] // --count
		if !strings.Contains(out, iface+": "+n+" frames sent in") || !strings.Contains(out, "delivered: ") {
			t.Errorf("xdpkit %s:\n%s", strings.Join(args, " "), out)
		}
		if !strings.Contains(res.stderr, iface+": sending "+args[1]) {
			t.Errorf("no start line:\n%s", res.stderr)
		}
	}
}

// TestGenPcap replays a pcap of three frames, one of them padded, three
// times.
func TestGenPcap(t *testing.T) {
	env := genEnv(t)
	iface := env.Outer.Interface
	// Addressed to another host, so that the peer's stack does not answer.
	path := writeGenPcap(t, t.TempDir(), "three.pcap",
		buildFrame(t, "eth(dst=02:00:00:00:00:02)/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(dport=1)/payload(100)"),
		buildFrame(t, "eth(dst=02:00:00:00:00:02)/ipv6(src=fc00::1,dst=fc00::2)/tcp(dport=2)"),
		buildFrame(t, "eth(dst=02:00:00:00:00:02)/arp"))
	args := []string{"gen", "pcap", iface, path, "--count", "9", "--peer-prog", "--json"}
	res := runXdpkit(t, false, args...)
	r := parseGenReport(t, res.want(t, 0, args...))
	if r.Mode != "pcap" || r.Frames != 9 || r.PcapFrames != 3 {
		t.Errorf("report: %s", res.stdout)
	}
	// 142 + 74 + 60 (the 42-byte ARP padded), three times.
	if want := uint64(3 * (142 + 74 + 60)); r.Bytes != want {
		t.Errorf("bytes %d, want %d", r.Bytes, want)
	}
	checkDelivered(t, r, 9)

	args = []string{"gen", "pcap", iface, path, "--count", "9", "--peer-prog"}
	res = runXdpkit(t, false, args...)
	res.want(t, 0, args...)
	if !strings.Contains(res.stderr, "the 3 frames of "+path) || !strings.Contains(res.stderr, "1 of them padded to 60 bytes") {
		t.Errorf("start line:\n%s", res.stderr)
	}
}

// TestGenInterrupted: SIGINT ends an unbounded run within a second with
// the report, which says it was interrupted, and exit 130, and leaves no
// program on the peer.
func TestGenInterrupted(t *testing.T) {
	env := genEnv(t)
	iface := env.Outer.Interface
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testutil.BuildCLI(t), "gen", "udp", iface, "--peer-prog", "--json", "--interval", "100ms")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	took := time.Since(start)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	t.Logf("ended %v after SIGINT", took)
	if took > time.Second {
		t.Errorf("took %v to end after SIGINT, want at most 1s", took)
	}
	r := parseGenReport(t, stdout.String())
	if !r.Interrupted || r.Frames == 0 || r.ElapsedSeconds < 1 || r.ElapsedSeconds > 3 {
		t.Errorf("report: %s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "interrupted after") || !strings.Contains(stderr.String(), "sent ") {
		t.Errorf("stderr lacks the live lines or the interruption:\n%s", stderr.String())
	}
	requireNoPeerProgram(t, iface)
}

// TestGenDurationPPS: --duration ends the run and --pps paces it; the
// rate, over the time from the first frame, is the one asked for, and a
// rate the kernel cannot reach is a warning.
func TestGenDurationPPS(t *testing.T) {
	env := genEnv(t)
	iface := env.Outer.Interface
	args := []string{"gen", "udp", iface, "--pps", "20000", "--duration", "1s", "--peer-prog", "--json"}
	res := runXdpkit(t, false, args...)
	r := parseGenReport(t, res.want(t, 0, args...))
	if r.Interrupted || r.PPSTarget != 20000 || r.ElapsedSeconds < 0.9 || r.ElapsedSeconds > 1.5 {
		t.Errorf("report: %+v", r)
	}
	// Loose bounds: the run includes the kernel's set-up of the call.
	if r.Frames < 15000 || r.Frames > 20500 {
		t.Errorf("%d frames in %.2fs at --pps 20000", r.Frames, r.ElapsedSeconds)
	}
	// The rate leaves the set-up out: within 2 % of --pps, unless the
	// machine was too slow, which the warning then says.
	warned := strings.Contains(res.stderr, "warning: --pps 20000 was not reached")
	switch {
	case r.PPS > 20000*1.02:
		t.Errorf("%.0f pps over %.3fs at --pps 20000: more than 2 %% over", r.PPS, *r.ActiveSeconds)
	case r.PPS < 20000*0.98 && !warned:
		t.Errorf("%.0f pps at --pps 20000 and no warning:\n%s", r.PPS, res.stderr)
	case r.PPS >= 20000*0.98 && warned:
		t.Errorf("%.0f pps at --pps 20000 and a warning:\n%s", r.PPS, res.stderr)
	case warned:
		t.Logf("a slow machine: %.0f pps at --pps 20000", r.PPS)
	}

	// No kernel sends 10^9 frames per second: the warning says so.
	args = []string{"gen", "udp", iface, "--pps", "1000000000", "--count", "20000", "--peer-prog=drop"}
	res = runXdpkit(t, false, args...)
	out := res.want(t, 0, args...)
	if !strings.Contains(out, "pacing: target 1000.00 Mpps, reached ") ||
		!strings.Contains(res.stderr, "warning: --pps 1000000000 was not reached") ||
		!strings.Contains(res.stderr, "the CPUs or the kernel did not go faster") {
		t.Errorf("xdpkit %s: no warning:\nstdout: %s\nstderr: %s", strings.Join(args, " "), out, res.stderr)
	}
}

// TestGenRedirect: with --redirect-to the frames leave by the target, so
// the frame's defaults, the peer program, the counts and the delivery
// are the target's, not IFACE's.
func TestGenRedirect(t *testing.T) {
	a, b := genEnv(t), genEnv(t)
	args := []string{"gen", "udp", a.Outer.Interface, "--redirect-to", b.Outer.Interface, "--peer-prog=drop", "--count", "1000", "--json"}
	res := runXdpkit(t, false, args...)
	r := parseGenReport(t, res.want(t, 0, args...))
	if r.Frames != 1000 || r.Interface != a.Outer.Interface || r.Device == nil ||
		r.Device.Interface != b.Outer.Interface || r.Device.Peer != b.Inner.Interface {
		t.Errorf("report: %s", res.stdout)
	}
	checkDelivered(t, r, 1000)
	requireNoPeerProgram(t, a.Outer.Interface)
	requireNoPeerProgram(t, b.Outer.Interface)

	// The frame goes from B's outer end to its inner end.
	args = []string{"gen", "udp", a.Outer.Interface, "--redirect-to", b.Outer.Interface, "--peer-prog=drop", "--count", "100"}
	res = runXdpkit(t, false, args...)
	out := res.want(t, 0, args...)
	from := netip.AddrPortFrom(b.Outer.IPv4.Addr(), 1024).String()
	to := netip.AddrPortFrom(b.Inner.IPv4.Addr(), 9).String()
	macs := b.Outer.MAC.String() + " > " + b.Inner.MAC.String()
	if !strings.Contains(res.stderr, "udp "+from+" > "+to+", 60-byte frames, "+macs) {
		t.Errorf("start line: want %s > %s, %s:\n%s", from, to, macs, res.stderr)
	}
	for _, w := range []string{a.Outer.Interface + ": 100 frames redirected out of " + b.Outer.Interface,
		"device " + b.Outer.Interface + ": tx ", "peer " + b.Inner.Interface + ": rx ", "delivered: "} {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
}

// TestGenPass: --action pass injects the frames into this host's stack as
// if they arrived on IFACE from its veth peer: by default they are
// addressed to IFACE and come from the peer, so a socket on IFACE's
// address receives every one.
func TestGenPass(t *testing.T) {
	env := genEnv(t)
	iface := env.Outer.Interface
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(env.Outer.IPv4.Addr(), 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Room for every datagram, whatever the socket's limit.
	if raw, err := conn.SyscallConn(); err == nil {
		raw.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 4<<20)
		})
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	received := make(chan []netip.AddrPort, 1)
	go func() {
		var from []netip.AddrPort
		buf := make([]byte, 2048)
		for len(from) < 100 {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, addr, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			from = append(from, addr)
		}
		received <- from
	}()

	args := []string{"gen", "udp", iface, "--action", "pass", "--dst-port", fmt.Sprint(port), "--count", "100"}
	res := runXdpkit(t, false, args...)
	out := res.want(t, 0, args...)
	if !strings.Contains(out, iface+": 100 frames passed to this host's stack in ") {
		t.Errorf("report:\n%s", out)
	}
	for _, not := range []string{"delivered", "device "} {
		if strings.Contains(out, not) {
			t.Errorf("report of a pass run speaks of %q:\n%s", not, out)
		}
	}
	if strings.Contains(res.stderr, "warning") {
		t.Errorf("warning for a pass run:\n%s", res.stderr)
	}
	// The frame comes from the peer to IFACE: addresses and MACs.
	want := fmt.Sprintf("udp %s > %s, 60-byte frames, %s > %s (%s's own)",
		netip.AddrPortFrom(env.Inner.IPv4.Addr(), 1024), netip.AddrPortFrom(env.Outer.IPv4.Addr(), uint16(port)),
		env.Inner.MAC, env.Outer.MAC, iface)
	if !strings.Contains(res.stderr, want) {
		t.Errorf("start line: want %q:\n%s", want, res.stderr)
	}

	from := <-received
	if len(from) != 100 {
		t.Errorf("the socket received %d datagrams, want 100", len(from))
	}
	if len(from) > 0 && from[0] != netip.AddrPortFrom(env.Inner.IPv4.Addr(), 1024) {
		t.Errorf("datagrams from %v, want the peer's address %v", from[0], env.Inner.IPv4.Addr())
	}
}

// requireNoPeerProgram fails t if the veth peer of iface has an XDP
// program.
func requireNoPeerProgram(t *testing.T, iface string) {
	t.Helper()
	dev, err := netdev.Lookup(iface)
	if err != nil {
		t.Fatal(err)
	}
	if dev.Peer == nil {
		t.Fatalf("%s has no peer netdev can see", iface)
	}
	if dev.Peer.XDPProgID != 0 {
		t.Errorf("peer %s still has XDP program %d", dev.Peer.Name, dev.Peer.XDPProgID)
	}
}
