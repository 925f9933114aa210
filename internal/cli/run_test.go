package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/packet"
)

// exampleObject is xdptest's example program: UDP to port 7 is swapped and
// sent back (XDP_TX), TCP dropped, UDP to 53 passed with its TTL lowered,
// anything else passed unchanged; verdicts are counted in map "verdicts".
func exampleObject() string {
	return filepath.Join(testutil.RepoRoot(), "xdptest", "testdata", "example_bpfel.o")
}

const (
	echoSpec = "eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(sport=1000,dport=7)/payload(16)"
	tcpSpec  = "eth/ipv4/tcp(dport=80)"
	dnsSpec  = "eth/ipv4/udp(dport=53)/payload(8)"
)

func TestRunTable(t *testing.T) {
	testutil.RequirePrivileged(t)
	args := []string{"run", exampleObject(), "--prog", "xdp_example",
		"--packet", echoSpec, "--packet", tcpSpec, "--packet", dnsSpec, "--dump-maps"}
	out := runXdpkit(t, false, args...).want(t, 0, args...)
	for _, want := range []string{
		"program xdp_example (xdp)",
		"1  XDP_TX", "2  XDP_DROP", "3  XDP_PASS",
		"udp 1000 > 7 payload 16",
		"summary: 3 runs: XDP_TX 1 (33%), XDP_DROP 1 (33%), XDP_PASS 1 (33%)",
		"map verdicts (array):",
		"key: 1  value: 1", "key: 2  value: 1", "key: 3  value: 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestRunJSON checks the --json stream: a result per packet, then the
// summary, then the maps.
func TestRunJSON(t *testing.T) {
	testutil.RequirePrivileged(t)
	args := []string{"run", exampleObject(), "--prog", "xdp_example", "--json",
		"--packet", echoSpec, "--packet", dnsSpec, "--dump-maps"}
	out := runXdpkit(t, false, args...).want(t, 0, args...)
	var kinds []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		kind, _ := line["kind"].(string)
		if kind == "" {
			kind = "entry"
		}
		kinds = append(kinds, kind)
		switch {
		case kind == "result" && line["index"] == 1.0:
			if line["verdict"] != "XDP_TX" || line["return"] != 3.0 || line["len_in"] != 58.0 || line["len_out"] != 58.0 {
				t.Errorf("result 1: %v", line)
			}
			want, err := packet.Build("eth(src=02:00:00:00:00:02,dst=02:00:00:00:00:01)/ipv4(src=10.0.0.2,dst=10.0.0.1)/udp(sport=7,dport=1000)/payload(16)")
			if err != nil {
				t.Fatal(err)
			}
			if got := line["data_out"]; got != hex.EncodeToString(want) {
				t.Errorf("data_out %v, want the swapped frame %x", got, want)
			}
			if _, ok := line["context_out"].(map[string]any); !ok {
				t.Errorf("no context_out: %v", line)
			}
		case kind == "summary":
			v, _ := line["verdicts"].(map[string]any)
			if line["runs"] != 2.0 || v["XDP_TX"] != 1.0 || v["XDP_PASS"] != 1.0 || line["errors"] != 0.0 {
				t.Errorf("summary: %v", line)
			}
		}
	}
	got := strings.Join(kinds, ",")
	if !strings.HasPrefix(got, "result,result,summary,map,entry") {
		t.Errorf("line kinds %s", got)
	}
}

// TestRunPcap replays a pcap with a bad record in the middle: the record
// is reported by number, the others run, the output pcap has one frame per
// run, and the exit code says something was skipped.
func TestRunPcap(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	writePcapWithBadRecord(t, in, []string{echoSpec, tcpSpec, dnsSpec})
	outPath := filepath.Join(dir, "out.pcap")
	args := []string{"run", exampleObject(), "--prog", "xdp_example", "--pcap", in, "--out", outPath, "--out-verdict", "tx,XDP_PASS"}
	res := runXdpkit(t, false, args...)
	res.want(t, 1, args...)
	if !strings.Contains(res.stderr, "record 2:") || !strings.Contains(res.stderr, "skipped") {
		t.Errorf("stderr does not name the bad record:\n%s", res.stderr)
	}
	if !strings.Contains(res.stdout, "summary: 3 runs") || !strings.Contains(res.stdout, "1 pcap records skipped") {
		t.Errorf("stdout:\n%s", res.stdout)
	}
	f, err := os.Open(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := packet.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 { // the TCP frame was dropped and --out-verdict left it out
		t.Errorf("out.pcap has %d frames, want 2", n)
	}
}

// writePcapWithBadRecord writes the frames of specs to path, with a record
// whose capture length exceeds the snapshot length as record 2.
func writePcapWithBadRecord(t *testing.T, path string, specs []string) {
	t.Helper()
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 128) // snaplen
	le.PutUint32(hdr[20:], 1)   // Ethernet
	buf := hdr
	record := func(data []byte, caplen int) {
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(time.Now().Unix()))
		le.PutUint32(rec[8:], uint32(caplen))
		le.PutUint32(rec[12:], uint32(caplen))
		buf = append(append(buf, rec...), data...)
	}
	for i, s := range specs {
		frame, err := packet.Build(s)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			record(make([]byte, 200), 200) // over the 128-byte snaplen
		}
		record(frame, len(frame))
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj := exampleObject()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"several programs", []string{"run", obj, "--packet", echoSpec}, 2,
			[]string{"pick one with --prog NAME", "xdp_example (xdp)", "tc_mark (sched_cls)"}},
		{"no such program", []string{"run", obj, "--prog", "nope", "--packet", echoSpec}, 5,
			[]string{`no program "nope"`, "xdp_example"}},
		{"no packets", []string{"run", obj, "--prog", "xdp_example"}, 2,
			[]string{"give --packet HEX|SPEC or --pcap FILE"}},
		{"short packet", []string{"run", obj, "--prog", "xdp_example", "--packet", echoSpec, "--packet", "00112233"}, 2,
			[]string{`--packet "00112233" is 4 bytes, shorter than an Ethernet header (14 bytes)`}},
		{"out is a directory", []string{"run", obj, "--prog", "xdp_example", "--packet", echoSpec, "--out", os.TempDir()}, 2,
			[]string{"is a directory: give a file name"}},
		{"bad spec", []string{"run", obj, "--prog", "xdp_example", "--packet", "eth/ipv5"}, 2,
			[]string{`unknown layer "ipv5"`}},
		{"bad ctx field", []string{"run", obj, "--prog", "xdp_example", "--packet", echoSpec, "--ctx", "mark=1"}, 2,
			[]string{`no context field "mark"`, "ingress_ifindex, rx_queue_index, meta"}},
		{"refused skb field", []string{"run", obj, "--prog", "tc_mark", "--packet", echoSpec, "--ctx", "hash=1"}, 2,
			[]string{"does not accept __sk_buff.hash in a test run", "mark, priority"}},
		{"missing interface", []string{"run", obj, "--prog", "xdp_example", "--packet", echoSpec, "--ctx", "ingress_ifindex=xk-nosuch0"}, 5,
			[]string{`no interface "xk-nosuch0"`}},
		{"bad meta", []string{"run", obj, "--prog", "xdp_example", "--packet", echoSpec, "--ctx", "meta=010203"}, 2,
			[]string{"metadata is 3 bytes", "multiple of 4"}},
		{"bad out verdict", []string{"run", obj, "--prog", "xdp_example", "--packet", echoSpec, "--out", "/tmp/x.pcap", "--out-verdict", "shot"}, 2,
			[]string{`verdict "shot" is not one of XDP's`}},
		{"out verdict without out", []string{"run", obj, "--prog", "xdp_example", "--packet", echoSpec, "--out-verdict", "tx"}, 2,
			[]string{"--out-verdict needs --out FILE"}},
		{"missing object", []string{"run", "/nonexistent.o", "--packet", echoSpec}, 5,
			[]string{"no such file"}},
		{"missing pcap", []string{"run", obj, "--prog", "xdp_example", "--pcap", "/nonexistent.pcap"}, 5,
			[]string{"/nonexistent.pcap"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runXdpkit(t, false, tc.args...)
			res.want(t, tc.code, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
		})
	}
}

func TestRunUnprivileged(t *testing.T) {
	testutil.RequirePrivileged(t)
	args := []string{"run", exampleObject(), "--prog", "xdp_example", "--packet", echoSpec}
	res := runXdpkit(t, true, args...)
	res.want(t, 3, args...)
	if !strings.Contains(res.stderr, "CAP_BPF") {
		t.Errorf("stderr does not name the capability:\n%s", res.stderr)
	}
}

// TestRunTypes runs a program of every family through the CLI: the
// context-only types with --ctx, the packet types with --packet, and the
// type the kernel refuses.
func TestRunTypes(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj := func(name string) string {
		return filepath.Join(testutil.RepoRoot(), "internal", "testprogs", name+"_bpfel.o")
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // in stdout, or in stderr when code != 0
	}{
		// sum: ctx {a, b, sum} -> sum = a + b, returns a - b.
		{"syscall", []string{obj("run_syscall"), "--ctx", "data=050000000300000000000000"}, 0,
			[]string{"sum (syscall)", "1  2 ", "ctx=050000000300000008000000"}},
		// record_args returns args[0] ^ args[1].
		{"raw tracepoint", []string{obj("run_raw_tp"), "--ctx", "arg0=6", "--ctx", "arg1=3", "--ctx", "cpu=1"}, 0,
			[]string{"record_args (raw_tracepoint)", "1  5 "}},
		{"struct_ops", []string{obj("run_struct_ops"), "--prog", "dummy_test_1", "--ctx", "arg0=0"}, 0,
			[]string{"dummy_test_1 (struct_ops)", "1  -1 "}},
		{"sk_lookup", []string{obj("run_sk_lookup"), "--ctx", "local_port=7008", "--ctx", "protocol=tcp"}, 0,
			[]string{"SK_DROP"}},
		{"sk_lookup without context", []string{obj("run_sk_lookup")}, 2,
			[]string{"SK_LOOKUP programs need a context", "--ctx local_ip="}},
		{"flow dissector", []string{obj("run_flow"), "--packet", "eth/ipv4(src=1.2.3.4,dst=5.6.7.8)/tcp(sport=1,dport=2)"}, 0,
			[]string{"BPF_OK", "flow n_proto=0x0800 proto=6 1.2.3.4:1 > 5.6.7.8:2 nhoff=14 thoff=34", " 54 "}},
		{"socket filter", []string{obj("run_skb"), "--prog", "sock_keep", "--packet", "eth/ipv4/udp/payload(100)"}, 0,
			[]string{"keep 28"}},
		{"tc", []string{obj("run_tc"), "--prog", "tc_mark", "--packet", "eth/ipv4/udp(dport=9)", "--ctx", "mark=1"}, 0,
			[]string{"TC_ACT_SHOT"}},
		{"lwt_seg6local refused", []string{obj("run_skb"), "--prog", "seg6_prog", "--packet", "eth/ipv6/udp"}, 4,
			[]string{"the kernel has no test runner for LWT_SEG6LOCAL programs", "ENOTSUPP"}},
		{"tail call slot empty", []string{obj("run_tailcall"), "--prog", "tail_entry", "--packet", "eth/ipv4"}, 0,
			[]string{"XDP_PASS"}},
		{"tail call filled with --set", []string{obj("run_tailcall"), "--prog", "tail_entry", "--set", "jmp[0]=tail_drop",
			"--set", "hits[0]=40", "--packet", "eth/ipv4", "--packet", "eth/ipv6", "--dump-maps"}, 0,
			[]string{"summary: 2 runs: XDP_DROP 2 (100%)", "key: 0  value: 42"}},
		{"--set without brackets", []string{obj("run_tailcall"), "--prog", "tail_entry", "--set", "jmp=tail_drop", "--packet", "eth/ipv4"}, 2,
			[]string{"want MAP[KEY]=VALUE"}},
		{"--set on a missing map", []string{obj("run_tailcall"), "--prog", "tail_entry", "--set", "nope[0]=1", "--packet", "eth/ipv4"}, 5,
			[]string{`no map "nope" in the object; it has: hits, jmp`}},
		{"--set a missing program", []string{obj("run_tailcall"), "--prog", "tail_entry", "--set", "jmp[0]=nope", "--packet", "eth/ipv4"}, 5,
			[]string{`no program "nope" in the object; it has: tail_drop, tail_entry`}},
		// test_2 stores a1 + a2 + a3 + a4 = 1312 (0x520) in the state.
		{"struct_ops state", []string{obj("run_struct_ops"), "--prog", "dummy_test_2", "--ctx", "state=00000000",
			"--ctx", "arg1=7", "--ctx", "arg2=300", "--ctx", "arg3=5", "--ctx", "arg4=1000"}, 0,
			[]string{"state=20050000", "1  -293 "}},
		// A ".struct_ops" section (cilium/ebpf reads only ".struct_ops.link").
		{"struct_ops section", []string{obj("run_struct_ops_sec"), "--ctx", "state=01000000"}, 0,
			[]string{"sec_test_1 (struct_ops)", "1  7 ", "state=65000000"}},
		{"packet to a context-only type", []string{obj("run_syscall"), "--packet", "eth/ipv4"}, 2,
			[]string{"syscall programs take no packet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run"}, tc.args...)
			res := runXdpkit(t, false, args...)
			out := res.want(t, tc.code, args...)
			if tc.code != 0 {
				out = res.stderr
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestRunPcapErrors: a record the kernel refuses (shorter than an
// Ethernet header) is a failed run with its own JSON line, the others
// run, and the exit code is 1; a pcap without packets is an error too.
func TestRunPcapErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	w, err := packet.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := packet.Build(echoSpec)
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{make([]byte, 10), frame} {
		if err := w.Write(time.Unix(1, 0), data); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	args := []string{"run", exampleObject(), "--prog", "xdp_example", "--pcap", in, "--json"}
	res := runXdpkit(t, false, args...)
	res.want(t, 1, args...)
	var kinds []string
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		kinds = append(kinds, v["kind"].(string))
		if v["kind"] == "error" && (v["source"] != in+"#1" || !strings.Contains(v["error"].(string), "shorter than an Ethernet header")) {
			t.Errorf("error line %v", v)
		}
	}
	if got := strings.Join(kinds, ","); got != "error,result,summary" {
		t.Errorf("line kinds %s, want error,result,summary", got)
	}
	if !strings.Contains(res.stderr, "1 of 2 runs failed") {
		t.Errorf("stderr: %s", res.stderr)
	}

	empty := filepath.Join(dir, "empty.pcap")
	f, err = os.Create(empty)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := packet.NewWriter(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	args = []string{"run", exampleObject(), "--prog", "xdp_example", "--pcap", empty}
	res = runXdpkit(t, false, args...)
	res.want(t, 1, args...)
	if !strings.Contains(res.stderr, "no packet ran") {
		t.Errorf("stderr: %s", res.stderr)
	}
}

// TestRunInterrupted: SIGINT during a long --repeat stops the run
// promptly, prints the summary of what finished, and exits 130.
func TestRunInterrupted(t *testing.T) {
	testutil.RequirePrivileged(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testutil.BuildCLI(t), "run", exampleObject(), "--prog", "xdp_example",
		"--packet", tcpSpec, "--packet", dnsSpec, "--repeat", "4000000000")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v to stop after SIGINT", d)
	}
	if !strings.Contains(stderr.String(), "interrupted after 0 runs") || !strings.Contains(stdout.String(), "summary: 0 runs") {
		t.Errorf("stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	}
}
