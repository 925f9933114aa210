package xdptest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/packet"
	"github.com/xdpkit/xdpkit/progrun"
)

// Case is one run of a program: what goes in and what is expected out.
// Every expectation is optional; a Case with none only checks that the run
// succeeds.
type Case struct {
	// Name names the case's subtest in RunCases ("case N" when empty) and
	// its failures.
	Name string

	// Packet is the packet in, from its Ethernet header. Give it or Spec
	// (not both) for the program types that take a packet.
	Packet []byte
	// Spec is the packet in as a packet SPEC, built with packet.Build:
	// "eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(dport=53)/payload(64)".
	Spec string
	// Context is the context in, such as a *progrun.XDPContext with
	// metadata or an ingress interface; nil for the kernel's default.
	Context progrun.Context
	// Repeat runs the program this many times in one call (0 means once);
	// the Result is that of the last run.
	Repeat uint32

	// Want is the expected verdict, by name or number as
	// progrun.ParseVerdict reads it for the program's type: "XDP_TX",
	// "tx", "TC_ACT_SHOT", "shot", "2". "" does not check the verdict.
	Want string
	// WantPacket is the expected packet out.
	WantPacket []byte
	// WantSpec is the expected packet out as a packet SPEC. With neither
	// WantPacket nor WantSpec (nor WantUnchanged) the packet out is not
	// checked.
	WantSpec string
	// WantUnchanged expects the packet out to equal the packet in. (For
	// SOCKET_FILTER, CGROUP_SKB and LWT programs the kernel hands the
	// Ethernet header back zeroed; see progrun.Result.Data.)
	WantUnchanged bool
	// Check, when set, is called with the run's Result (a copy the caller
	// may keep) after the other checks, in the case's test.
	Check func(t testing.TB, res progrun.Result)
	// WantErr expects the run to fail with an error matching it
	// (errors.Is), such as progrun.ErrPacketTooShort; the other
	// expectations must then be unset.
	WantErr error
}

// caseLabel names a case in messages: by its Name, else by its number in
// RunCases, else as "unnamed case".
func caseLabel(c *Case, number int) string {
	switch {
	case c.Name != "":
		return fmt.Sprintf("case %q", c.Name)
	case number > 0:
		return fmt.Sprintf("case %d", number)
	}
	return "unnamed case"
}

// prepared is a Case turned into bytes and numbers.
type prepared struct {
	in      []byte
	want    []byte // nil: packet out not checked
	verdict *progrun.Verdict
}

// prepare checks c and builds its packets, failing t with a message that
// names the case and the field when c is not a valid case.
func (p *Program) prepare(t testing.TB, c *Case, label string) prepared {
	t.Helper()
	bad := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("xdptest: %s: %s", label, fmt.Sprintf(format, args...))
	}
	typ := p.Program.Type()
	var pr prepared
	switch {
	case c.Packet != nil && c.Spec != "":
		bad("both Packet and Spec are set: give the packet in once")
	case c.Spec != "":
		b, err := packet.Build(c.Spec)
		if err != nil {
			bad("Spec %q: %v", c.Spec, err)
		}
		pr.in = b
	case c.Packet != nil:
		pr.in = c.Packet
	case takesPacket(typ):
		bad("no packet in: set Packet or Spec (%s programs run on a packet)", typ)
	}

	wants := 0
	for _, set := range []bool{c.WantPacket != nil, c.WantSpec != "", c.WantUnchanged} {
		if set {
			wants++
		}
	}
	if wants > 1 {
		bad("more than one of WantPacket, WantSpec and WantUnchanged is set: expect the packet out once")
	}
	if c.WantErr != nil {
		var set []string
		if c.Want != "" {
			set = append(set, "Want")
		}
		if wants > 0 {
			set = append(set, "a packet out")
		}
		if c.Check != nil {
			set = append(set, "Check")
		}
		if len(set) > 0 {
			bad("WantErr expects the run to fail, but %s is set too: a failed run has no verdict, packet or Result",
				strings.Join(set, " and "))
		}
	}
	switch {
	case c.WantSpec != "":
		b, err := packet.Build(c.WantSpec)
		if err != nil {
			bad("WantSpec %q: %v", c.WantSpec, err)
		}
		pr.want = b
	case c.WantPacket != nil:
		pr.want = c.WantPacket
	case c.WantUnchanged:
		pr.want = pr.in
		if pr.want == nil {
			pr.want = []byte{}
		}
	}
	if c.Want != "" {
		v, err := progrun.ParseVerdict(typ, c.Want)
		if err != nil {
			bad("Want: %v", err)
		}
		pr.verdict = &v
	}
	return pr
}

// takesPacket reports whether programs of type t run on a packet.
func takesPacket(t ebpf.ProgramType) bool {
	switch t {
	case ebpf.XDP, ebpf.SchedCLS, ebpf.SchedACT, ebpf.SocketFilter, ebpf.CGroupSKB,
		ebpf.LWTIn, ebpf.LWTOut, ebpf.LWTXmit, ebpf.LWTSeg6Local, ebpf.FlowDissector:
		return true
	}
	return false
}

// Run runs one case in the current test and checks its expectations,
// reporting each mismatch with t.Errorf; a bad case definition or an
// unexpected run error stops the test (t.Fatalf). It returns a copy of the
// run's Result (the zero Result when the run failed).
func (p *Program) Run(t testing.TB, c Case) progrun.Result {
	t.Helper()
	return p.run(t, &c, 0)
}

// run runs c, the number'th case of RunCases (0 for Run).
func (p *Program) run(t testing.TB, c *Case, number int) progrun.Result {
	t.Helper()
	label := caseLabel(c, number)
	pr := p.prepare(t, c, label)

	p.mu.Lock()
	if p.runner == nil { // a Program made as a literal, not by Load
		if p.Program == nil {
			p.mu.Unlock()
			t.Fatalf("xdptest: %s: the Program has no program (make it with Load, LoadSpec or FromProgram)", label)
		}
		p.runner = progrun.New(p.Program)
	}
	res, err := p.runner.Run(progrun.Input{Data: pr.in, Context: c.Context, Repeat: c.Repeat})
	res = res.Clone()
	p.mu.Unlock()

	if c.WantErr != nil {
		switch {
		case err == nil:
			t.Errorf("%s: run succeeded with verdict %s, want an error matching %v\n  in:   %s",
				label, verdictString(res.Verdict), c.WantErr, describe(pr.in))
			return res
		case !errors.Is(err, c.WantErr):
			t.Errorf("%s: run error does not match %v:\n  got:  %v", label, c.WantErr, err)
		}
		return progrun.Result{}
	}
	if err != nil {
		t.Fatalf("%s: run: %v\n  in:   %s", label, err, describe(pr.in))
	}

	if pr.verdict != nil && pr.verdict.Code != res.Return {
		t.Errorf("verdict: want %s, got %s\n  in:   %s", pr.verdict, verdictString(res.Verdict), describe(pr.in))
	}
	if pr.want != nil && !bytes.Equal(pr.want, res.Data) {
		t.Error(packetMismatch(pr.in, pr.want, res.Data, c.WantUnchanged))
	}
	if c.Check != nil {
		c.Check(t, res.Clone())
	}
	return res
}

// RunCases runs each case as a subtest of t named after the case ("case
// N", counting from 1, when it has no name), in order.
func (p *Program) RunCases(t *testing.T, cases []Case) {
	t.Helper()
	for i, c := range cases {
		name := c.Name
		if name == "" {
			name = "case " + strconv.Itoa(i+1)
		}
		t.Run(name, func(t *testing.T) {
			t.Helper()
			p.run(t, &c, i+1)
		})
	}
}

// verdictString is "XDP_PASS (return 2)", or the bare number for a
// return value without a name.
func verdictString(v progrun.Verdict) string {
	if v.Name() == "" {
		return v.String()
	}
	return fmt.Sprintf("%s (return %d)", v.Name(), v.Code)
}

// describe is packet.Describe, with a name for no packet at all.
func describe(b []byte) string {
	if len(b) == 0 {
		return "(no packet)"
	}
	return packet.Describe(b)
}

// packetMismatch explains how the packet out differs from the one
// expected: the differing fields layer by layer, a one-line summary of the
// packets in, wanted and got, and the first differing bytes last.
func packetMismatch(in, want, got []byte, unchanged bool) string {
	var sb strings.Builder
	if unchanged {
		sb.WriteString("packet out differs from packet in (WantUnchanged):\n")
	} else {
		sb.WriteString("packet out differs from want:\n")
	}
	diffs := packet.Diff(want, got)
	if len(diffs) > 0 {
		for _, line := range strings.Split(strings.TrimRight(packet.FormatDiff(diffs), "\n"), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				sb.WriteString("  " + line + "\n")
			}
		}
	}
	if unchanged {
		fmt.Fprintf(&sb, "  in:   %s\n", describe(in))
	} else {
		fmt.Fprintf(&sb, "  in:   %s\n  want: %s\n", describe(in), describe(want))
	}
	fmt.Fprintf(&sb, "  got:  %s\n", describe(got))
	sb.WriteString("  " + byteDiff(want, got))
	return sb.String()
}

// hexWindow is how many bytes byteDiff shows from the first difference.
const hexWindow = 16

// byteDiff describes where want and got first differ, with the bytes
// there: the last line of a mismatch, for what the layer diff cannot name.
func byteDiff(want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	hexAt := func(b []byte) string {
		if i >= len(b) {
			return "(end)"
		}
		end := min(i+hexWindow, len(b))
		s := fmt.Sprintf("% x", b[i:end])
		if end < len(b) {
			s += " ..."
		}
		return s
	}
	sizes := fmt.Sprintf("of %d", len(got))
	if len(want) != len(got) {
		sizes = fmt.Sprintf("(want %d bytes, got %d)", len(want), len(got))
	}
	return fmt.Sprintf("first differing byte at offset %d %s: want %s, got %s", i, sizes, hexAt(want), hexAt(got))
}
