package xdptest_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/testprogs"
	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/packet"
	"github.com/xdpkit/xdpkit/progrun"
	"github.com/xdpkit/xdpkit/xdptest"
)

const (
	echoIn  = "eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(sport=40000,dport=7)/payload(16)"
	echoOut = "eth(src=02:00:00:00:00:02,dst=02:00:00:00:00:01)/ipv4(src=10.0.0.2,dst=10.0.0.1)/udp(sport=7,dport=40000)/payload(16)"
	dnsIn   = "eth/ipv4(ttl=64)/udp(sport=40000,dport=53)/payload(8)"
	dnsOut  = "eth/ipv4(ttl=63)/udp(sport=40000,dport=53)/payload(8)"
	ntp     = "eth/ipv4/udp(dport=123)"
	tcp     = "eth/ipv4/tcp(dport=22)"
)

// hexDump matches a run of hex bytes as a dump shows them ("45 00 00 54").
var hexDump = regexp.MustCompile(`\b[0-9a-f]{2}( [0-9a-f]{2}){3,}\b`)

func TestPassingCases(t *testing.T) {
	prog := xdptest.Load(t, exampleObject, "xdp_example")
	var seenMeta []byte
	cases := []xdptest.Case{
		{Name: "verdict only", Spec: tcp, Want: "XDP_DROP"},
		{Name: "verdict by short name", Spec: echoIn, Want: "tx"},
		{Name: "verdict by number", Spec: ntp, Want: "2"},
		{Name: "packet out by spec", Spec: echoIn, Want: "XDP_TX", WantSpec: echoOut},
		{Name: "packet out by bytes", Packet: xdptest.MustBuild(t, dnsIn), WantPacket: xdptest.MustBuild(t, dnsOut)},
		{Name: "unchanged", Spec: ntp, WantUnchanged: true},
		{Name: "no expectations", Spec: ntp},
		{Name: "check", Spec: echoIn, Check: func(t testing.TB, res progrun.Result) {
			if res.Verdict.Name() != "XDP_TX" || !bytes.Equal(res.Data, xdptest.MustBuild(t, echoOut)) {
				t.Errorf("got %v %x", res.Verdict, res.Data)
			}
		}},
		{Name: "too short", Packet: make([]byte, 10), WantErr: progrun.ErrPacketTooShort},
		{Name: "metadata tag drops", Spec: echoIn, Context: &progrun.XDPContext{Meta: []byte{1, 0, 0, 0}}, Want: "XDP_DROP"},
		{Name: "metadata rewritten", Spec: echoIn, Context: &progrun.XDPContext{Meta: []byte{9, 9, 9, 9}},
			Want: "XDP_TX", WantSpec: echoOut,
			Check: func(t testing.TB, res progrun.Result) {
				seenMeta = res.Context.(*progrun.XDPContext).Meta
			}},
		{Spec: ntp, Check: func(t testing.TB, res progrun.Result) {
			if !strings.HasSuffix(t.Name(), "/case_12") {
				t.Errorf("unnamed case 12 runs as %s", t.Name())
			}
		}},
	}
	prog.RunCases(t, cases)
	if want := []byte{2, 0, 0, 0}; !bytes.Equal(seenMeta, want) {
		t.Errorf("metadata out %x, want %x", seenMeta, want)
	}
}

func TestRepeat(t *testing.T) {
	prog := xdptest.Load(t, exampleObject, "xdp_example")
	counted := func(t testing.TB, action uint32) uint64 {
		var n uint64
		if err := prog.Map(t, "verdicts").Lookup(action, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	res := prog.Run(t, xdptest.Case{Name: "repeat", Spec: tcp, Repeat: 1000, Want: "drop"})
	if res.Repeat != 1000 {
		t.Errorf("Result.Repeat %d, want 1000", res.Repeat)
	}
	if n := counted(t, 1); n != 1000 {
		t.Errorf("XDP_DROP counted %d times, want 1000", n)
	}
	prog.Run(t, xdptest.Case{Spec: tcp})
	if n := counted(t, 1); n != 1001 {
		t.Errorf("XDP_DROP counted %d times after one more run, want 1001", n)
	}
}

// TestResultKept checks that Run's Result survives later runs.
func TestResultKept(t *testing.T) {
	prog := xdptest.Load(t, exampleObject, "xdp_example")
	first := prog.Run(t, xdptest.Case{Spec: echoIn, Context: &progrun.XDPContext{Meta: []byte{7, 7, 7, 7}}})
	prog.Run(t, xdptest.Case{Spec: dnsIn, Context: &progrun.XDPContext{Meta: []byte{5, 5, 5, 5, 5, 5, 5, 5}}})
	if !bytes.Equal(first.Data, xdptest.MustBuild(t, echoOut)) {
		t.Errorf("first result's packet overwritten: %x", first.Data)
	}
	if meta := first.Context.(*progrun.XDPContext).Meta; !bytes.Equal(meta, []byte{2, 0, 0, 0}) {
		t.Errorf("first result's metadata overwritten: %x", meta)
	}
}

func TestParallelRuns(t *testing.T) {
	prog := xdptest.Load(t, exampleObject, "xdp_example")
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			for range 50 {
				prog.Run(t, xdptest.Case{Spec: echoIn, Want: "XDP_TX", WantSpec: echoOut})
				prog.Run(t, xdptest.Case{Spec: dnsIn, Want: "XDP_PASS", WantSpec: dnsOut})
			}
		})
	}
}

func TestLoadSpec(t *testing.T) {
	spec, err := ebpf.LoadCollectionSpec(exampleObject)
	if err != nil {
		t.Fatal(err)
	}
	prog := xdptest.LoadSpec(t, spec, "xdp_drop_all")
	if prog.Name != "xdp_drop_all" || prog.Collection == nil || prog.Program != prog.Collection.Programs["xdp_drop_all"] {
		t.Errorf("Program %+v", prog)
	}
	prog.Run(t, xdptest.Case{Spec: echoIn, Want: "XDP_DROP", WantUnchanged: true})
}

// TestTC runs a SCHED_CLS program: TC verdict names and an SKBContext.
func TestTC(t *testing.T) {
	prog := xdptest.Load(t, exampleObject, "tc_mark")
	prog.RunCases(t, []xdptest.Case{
		{Name: "marked 7", Spec: ntp, Context: &progrun.SKBContext{Mark: 7}, Want: "TC_ACT_SHOT", WantUnchanged: true},
		{Name: "short name", Spec: ntp, Context: &progrun.SKBContext{Mark: 7}, Want: "shot"},
		{Name: "marked 42", Spec: tcp, Want: "ok", Check: func(t testing.TB, res progrun.Result) {
			if m := res.Context.(*progrun.SKBContext).Mark; m != 42 {
				t.Errorf("mark out %d, want 42", m)
			}
		}},
	})
	f := capture(t, func(tb testing.TB) { prog.Run(tb, xdptest.Case{Spec: ntp, Want: "shot"}) })
	if msg := f.message(t); !strings.HasPrefix(msg, "verdict: want TC_ACT_SHOT, got TC_ACT_OK (return 0)\n") {
		t.Errorf("message:\n%s", msg)
	}
	f = capture(t, func(tb testing.TB) { prog.Run(tb, xdptest.Case{Name: "x", Spec: ntp, Want: "XDP_TX"}) })
	if msg := f.message(t); !f.fatal || !strings.HasPrefix(msg, `xdptest: case "x": Want: verdict "XDP_TX" is not one of SCHED_CLS's: `) ||
		!strings.Contains(msg, "TC_ACT_SHOT") {
		t.Errorf("message:\n%s", msg)
	}
}

func TestFromProgram(t *testing.T) {
	xdptest.RequirePrivileged(t)
	coll, err := ebpf.LoadCollection(exampleObject)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	prog := xdptest.FromProgram(t, coll.Programs["xdp_example"])
	if prog.Collection != nil || prog.Name != "" {
		t.Errorf("Program %+v", prog)
	}
	prog.RunCases(t, []xdptest.Case{{Spec: echoIn, Want: "XDP_TX", WantSpec: echoOut}})

	f := capture(t, func(tb testing.TB) { prog.Map(tb, "verdicts") })
	if msg := f.message(t); !f.fatal || !strings.Contains(msg, `Map("verdicts"): the program came from FromProgram and has no collection`) {
		t.Errorf("Map on FromProgram: fatal %v, %q", f.fatal, msg)
	}
}

func TestLoadErrors(t *testing.T) {
	xdptest.RequirePrivileged(t)
	spec, err := ebpf.LoadCollectionSpec(exampleObject)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		load func(tb testing.TB)
		want string
	}{
		{"two programs, no name", func(tb testing.TB) { xdptest.Load(tb, exampleObject, "") },
			"xdptest: " + exampleObject + " has 3 programs (tc_mark, xdp_drop_all, xdp_example): name the one to test"},
		{"no such program", func(tb testing.TB) { xdptest.Load(tb, exampleObject, "xdp_nope") },
			`xdptest: ` + exampleObject + ` has no program "xdp_nope"; its programs: tc_mark, xdp_drop_all, xdp_example`},
		{"spec: no such program", func(tb testing.TB) { xdptest.LoadSpec(tb, spec, "xdp_nope") },
			`xdptest: the CollectionSpec has no program "xdp_nope"; its programs: tc_mark, xdp_drop_all, xdp_example`},
		{"no file", func(tb testing.TB) { xdptest.Load(tb, "testdata/missing.o", "") },
			"xdptest: read BPF object: read testdata/missing.o: "},
		{"verifier", func(tb testing.TB) { xdptest.Load(tb, testutilObject("bad_loop"), "") },
			"program bad_infinite_loop: load program: invalid argument:\n\t"},
		{"no map", func(tb testing.TB) { xdptest.Load(tb, exampleObject, "xdp_example").Map(tb, "counters") },
			`xdptest: no map "counters" in the collection of xdp_example; its maps: verdicts`},
		{"bad spec", func(tb testing.TB) { xdptest.MustBuild(tb, "eth/ipv4(ttl=300)") },
			`xdptest: packet SPEC "eth/ipv4(ttl=300)": `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := capture(t, tc.load)
			msg := f.message(t)
			if !f.fatal || !strings.Contains(msg, tc.want) {
				t.Errorf("fatal %v, message:\n%s\nwant it to contain:\n%s", f.fatal, msg, tc.want)
			}
			t.Logf("message:\n%s", msg)
		})
	}
}

// testutilObject is the path of one of xdpkit's own test objects.
func testutilObject(name string) string {
	return testutil.RepoRoot() + "/internal/testprogs/" + name + "_bpfel.o"
}

// failure is a case that must fail with a message containing every one
// of want, in that order.
type failure struct {
	name  string
	c     xdptest.Case
	fatal bool     // the case stops the test
	want  []string // substrings of the message, in order
}

func TestFailureMessages(t *testing.T) {
	prog := xdptest.Load(t, exampleObject, "xdp_example")
	for _, tc := range []failure{
		{name: "verdict", c: xdptest.Case{Spec: echoIn, Want: "XDP_PASS"},
			want: []string{"verdict: want XDP_PASS, got XDP_TX (return 3)\n  in:   "}},
		{name: "verdict number", c: xdptest.Case{Spec: tcp, Want: "4"},
			want: []string{"verdict: want XDP_REDIRECT, got XDP_DROP (return 1)"}},
		{name: "packet", c: xdptest.Case{Spec: dnsIn, WantSpec: dnsIn},
			want: []string{"packet out differs from want:\n",
				"  IPv4.TTL: want 64, got 63\n",
				"  IPv4.Checksum: want 0x",
				"\n  in:   ", "\n  want: ", "\n  got:  ",
				"\n  first differing byte at offset 22 of 50: want 40 11"}},
		{name: "unchanged", c: xdptest.Case{Spec: echoIn, WantUnchanged: true},
			want: []string{"packet out differs from packet in (WantUnchanged):\n",
				"02:00:00:00:00:01", "10.0.0.1", "40000",
				"\n  in:   ", "\n  got:  ", "\n  first differing byte at offset 5 of 58: want 02 02"}},
		{name: "packet bytes", c: xdptest.Case{Spec: ntp, WantPacket: xdptest.MustBuild(t, tcp)},
			want: []string{"packet out differs from want:\n", "\n  in:   ", "\n  want: ", "\n  got:  ", "\n  first differing byte at offset 17 (want 54 bytes, got 42): want 28 00"}},
		{name: "check", c: xdptest.Case{Spec: ntp, Check: func(t testing.TB, res progrun.Result) {
			t.Errorf("check saw %s", res.Verdict)
		}}, want: []string{"check saw XDP_PASS"}},
		{name: "error expected", c: xdptest.Case{Name: "runt", Spec: ntp, WantErr: progrun.ErrPacketTooShort},
			want: []string{`case "runt": run succeeded with verdict XDP_PASS (return 2), want an error matching packet shorter than an Ethernet header`}},
		{name: "other error", c: xdptest.Case{Packet: make([]byte, 10), WantErr: progrun.ErrContext},
			want: []string{"unnamed case: run error does not match context not accepted:\n  got:  run XDP program: the packet is 10 bytes"}},
		{name: "run error", fatal: true, c: xdptest.Case{Name: "runt", Packet: make([]byte, 10)},
			want: []string{`case "runt": run: run XDP program: the packet is 10 bytes, shorter than an Ethernet header`, "\n  in:   "}},
		{name: "bad context", fatal: true, c: xdptest.Case{Spec: ntp, Context: &progrun.SKBContext{}},
			want: []string{"unnamed case: run: run XDP program: XDP programs take an XDPContext, not *progrun.SKBContext"}},

		// Bad case definitions name the case and the field.
		{name: "packet and spec", fatal: true, c: xdptest.Case{Name: "both", Packet: []byte{1}, Spec: ntp},
			want: []string{`xdptest: case "both": both Packet and Spec are set`}},
		{name: "no packet", fatal: true, c: xdptest.Case{Name: "none", Want: "pass"},
			want: []string{`xdptest: case "none": no packet in: set Packet or Spec (XDP programs run on a packet)`}},
		{name: "bad spec", fatal: true, c: xdptest.Case{Name: "bad", Spec: "eth/ipv4(ttl=300)"},
			want: []string{`xdptest: case "bad": Spec "eth/ipv4(ttl=300)": `}},
		{name: "bad want spec", fatal: true, c: xdptest.Case{Name: "bad", Spec: ntp, WantSpec: "eth/bogus"},
			want: []string{`xdptest: case "bad": WantSpec "eth/bogus": `}},
		{name: "unknown verdict", fatal: true, c: xdptest.Case{Name: "v", Spec: ntp, Want: "XDP_BOUNCE"},
			want: []string{`xdptest: case "v": Want: verdict "XDP_BOUNCE" is not one of XDP's: XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT`}},
		{name: "two wants", fatal: true, c: xdptest.Case{Name: "w", Spec: ntp, WantSpec: ntp, WantUnchanged: true},
			want: []string{`xdptest: case "w": more than one of WantPacket, WantSpec and WantUnchanged is set`}},
		{name: "error and verdict", fatal: true, c: xdptest.Case{Name: "e", Spec: ntp, Want: "pass", WantErr: progrun.ErrContext},
			want: []string{`xdptest: case "e": WantErr expects the run to fail, but Want is set too`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := capture(t, func(tb testing.TB) { prog.Run(tb, tc.c) })
			msg := f.message(t)
			if f.fatal != tc.fatal {
				t.Errorf("fatal %v, want %v", f.fatal, tc.fatal)
			}
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("message:\n%s\nlacks (in order):\n%s", msg, w)
				}
				rest = rest[i+len(w):]
			}
			// A hex dump is at most the last line of a message.
			lines := strings.Split(msg, "\n")
			for _, line := range lines[:len(lines)-1] {
				if hexDump.MatchString(line) {
					t.Errorf("hex dump before the last line:\n%s", msg)
				}
			}
			t.Logf("message:\n%s", msg)
		})
	}
}

// TestRunCasesNames checks the subtests RunCases runs the cases in. (Its
// failure messages are Run's, checked with a fake testing.TB above:
// RunCases needs a real *testing.T.)
func TestRunCasesNames(t *testing.T) {
	prog := xdptest.Load(t, exampleObject, "xdp_example")
	var names []string
	var mu sync.Mutex
	prog.RunCases(t, []xdptest.Case{
		{Name: "first", Spec: ntp, Check: func(t testing.TB, _ progrun.Result) { mu.Lock(); names = append(names, t.Name()); mu.Unlock() }},
		{Spec: ntp, Check: func(t testing.TB, _ progrun.Result) { mu.Lock(); names = append(names, t.Name()); mu.Unlock() }},
	})
	want := []string{t.Name() + "/first", t.Name() + "/case_2"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("subtests %q, want %q", names, want)
	}
}

func TestPrivilegePolicy(t *testing.T) {
	missing := &caps.MissingError{Caps: []string{"CAP_BPF", "CAP_NET_ADMIN"}}
	how := "xdptest: loading and running BPF programs needs CAP_BPF and CAP_NET_ADMIN, which this test process lacks: " +
		"run the tests as root (go test -exec sudo ./...) or build the test binary and grant it the capabilities " +
		"(go test -c -o pkg.test && sudo setcap cap_bpf,cap_net_admin+ep pkg.test && ./pkg.test)"
	for _, ci := range []string{"", "1", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			f := capture(t, func(tb testing.TB) { xdptest.RequirePrivilegedWith(tb, missing) })
			if ci == "true" {
				msg := f.message(t)
				if !f.fatal || f.skipped != "" || !strings.HasPrefix(msg, how+"\nCI=true, so this fails instead of skipping") {
					t.Errorf("CI=true: fatal %v, skipped %q, message:\n%s", f.fatal, f.skipped, msg)
				}
				return
			}
			if f.skipped != how || len(f.errs) > 0 {
				t.Errorf("CI=%q: errors %q, skipped:\n%s\nwant:\n%s", ci, f.errs, f.skipped, how)
			}
		})
	}
	t.Run("privileged", func(t *testing.T) {
		t.Setenv("CI", "true")
		f := capture(t, func(tb testing.TB) { xdptest.RequirePrivilegedWith(tb, nil) })
		if f.fatal || f.skipped != "" || len(f.errs) > 0 {
			t.Errorf("with privileges: %+v", f)
		}
	})
}

func TestMustBuild(t *testing.T) {
	want, err := packet.Build(ntp)
	if err != nil {
		t.Fatal(err)
	}
	if got := xdptest.MustBuild(t, ntp); !bytes.Equal(got, want) {
		t.Errorf("MustBuild %x, want %x", got, want)
	}
}

// TestLoadStructOps: Load readies STRUCT_OPS programs for test runs, as
// xdpkit run does, so one of several loads by name.
func TestLoadStructOps(t *testing.T) {
	p := xdptest.Load(t, testprogs.Path("run_struct_ops"), "dummy_test_1")
	res := p.Run(t, xdptest.Case{Context: &progrun.StructOpsContext{Args: []uint64{0}, State: progrun.Bytes{1, 0, 0, 0}}})
	if res.Return != 2 {
		t.Errorf("return %d, want 2", res.Return)
	}
}

// TestProgramLiteral: a Program built as a literal gets its runner on
// first use.
func TestProgramLiteral(t *testing.T) {
	loaded := xdptest.Load(t, exampleObject, "xdp_example")
	p := &xdptest.Program{Program: loaded.Program}
	p.Run(t, xdptest.Case{Spec: "eth/ipv4/tcp", Want: "XDP_DROP"})
}
