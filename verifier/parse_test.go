package verifier_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpkit/xdpkit/verifier"
	"golang.org/x/sys/unix"
)

// readLog reads testdata/NAME.log, a log captured from the kernel by
// go test -run TestExplainKernel -update, as ebpf.VerifierError.Log holds it.
func readLog(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func TestParseCaptured(t *testing.T) {
	for _, tc := range []struct {
		log   string
		prog  string // the C program, badPrograms' name
		insn  int
		instr string
		msg   string
		state string
	}{
		{"bad_packet", "bad_packet", 6, "r1 = *(u32 *)(r1 +0)",
			"invalid access to packet, off=0 size=4, R1(id=0,off=0,r=1)\nR1 offset is outside of the packet",
			"R0=1 R1=pkt(r=0) R2=pkt_end() R3=pkt(off=1,r=1) R10=fp0"},
		{"bad_null", "bad_null", 7, "r1 = *(u64 *)(r0 +0)",
			"R0 invalid mem access 'map_value_or_null'",
			// R1-R5 are gone after the helper call.
			"R0=map_value_or_null(id=1,map=counters,ks=4,vs=8) R10=fp0 fp-8=mmmm????"},
		{"bad_null_level2", "bad_null", 7, "r1 = *(u64 *)(r0 +0)",
			"R0 invalid mem access 'map_value_or_null'",
			"R0=map_value_or_null(id=1,map=counters,ks=4,vs=8) R10=fp0 fp-8=mmmm????"},
		{"bad_helper", "bad_helper", 5, "call bpf_skb_load_bytes#26",
			"program of this type cannot use helper bpf_skb_load_bytes#26",
			"R1=ctx() R2=0 R3=fp-4 R4=4 R6=0 R10=fp0"},
		{"bad_loop", "bad_loop", 2, "r2 = r1",
			"infinite loop detected at insn 2",
			// The "cur state" the kernel prints with the message.
			"R1=scalar(id=1,smin=umin=umin32=1,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R2=scalar(smin=umin=umin32=1,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0"},
		{"bad_license", "bad_license", 4, "call bpf_trace_printk#6",
			"cannot call GPL-restricted function from non-GPL compatible program",
			"R1=map_value(map=.rodata,ks=4,vs=11) R2=11 R3=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0"},
		{"bad_return", "bad_return", 1, "exit", "R0 !read_ok", "R1=0 R10=fp0"},
	} {
		t.Run(tc.log, func(t *testing.T) {
			log := readLog(t, tc.log)
			r := verifier.Parse(log)
			file, line := failLine(t, tc.prog)
			if r.Insn != tc.insn {
				t.Errorf("Insn = %d, want %d", r.Insn, tc.insn)
			}
			if r.Instruction != tc.instr {
				t.Errorf("Instruction = %q, want %q", r.Instruction, tc.instr)
			}
			if r.File != file || r.Line != line || !strings.HasSuffix(r.Source, "/* FAIL HERE */") {
				t.Errorf("source = %s:%d %q, want %s:%d and the marked line", r.File, r.Line, r.Source, file, line)
			}
			if r.Message != tc.msg {
				t.Errorf("Message = %q, want %q", r.Message, tc.msg)
			}
			if r.Hint == "" {
				t.Error("no Hint")
			}
			if r.State != tc.state {
				t.Errorf("State = %q\nwant    %q", r.State, tc.state)
			}
			if len(r.Log) != len(log) || r.Truncated {
				t.Errorf("Log has %d lines (want %d), Truncated %v", len(r.Log), len(log), r.Truncated)
			}
		})
	}
}

// TestParseWithoutLineInfo drops the source markers, as a log of a program
// without BTF line info has none.
func TestParseWithoutLineInfo(t *testing.T) {
	var log []string
	for _, l := range readLog(t, "bad_null") {
		if !strings.HasPrefix(l, ";") {
			log = append(log, l)
		}
	}
	r := verifier.Parse(log)
	if r.Insn != 7 || r.File != "" || r.Line != 0 || r.Source != "" {
		t.Errorf("report at %d %s:%d %q, want 7 and no source", r.Insn, r.File, r.Line, r.Source)
	}
	if !strings.Contains(r.String(), "rejected by the verifier at instruction 7:\n  insn:") {
		t.Errorf("String() =\n%s", r.String())
	}
}

func TestParseNoInstruction(t *testing.T) {
	for _, tc := range []struct {
		log  []string
		insn int
		msg  string
		hint string
	}{
		// Errors the kernel finds before it simulates instructions.
		{[]string{"unreachable insn 3", "processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0"},
			3, "unreachable insn 3", "can never run"},
		{[]string{"back-edge from insn 5 to 2", "processed 0 insns (limit 1000000)"}, 5, "back-edge from insn 5 to 2", "jumps backwards"},
		{[]string{"[3] FUNC foo type_id=2", "\tmagic: bad", "Invalid name"}, -1, "Invalid name", ""},
		{[]string{"", "   "}, -1, "", ""},
		{nil, -1, "", ""},
	} {
		r := verifier.Parse(tc.log)
		if r.Insn != tc.insn || r.Message != tc.msg || !strings.Contains(r.Hint, tc.hint) || (tc.hint == "" && r.Hint != "") {
			t.Errorf("Parse(%q) = insn %d message %q hint %q, want %d %q %q", tc.log, r.Insn, r.Message, r.Hint, tc.insn, tc.msg, tc.hint)
		}
	}
}

func TestHints(t *testing.T) {
	// Messages as the kernel prints them (kernel/bpf/verifier.c).
	for _, tc := range []struct{ msg, hint string }{
		{"invalid access to packet, off=14 size=2, R2(id=0,off=14,r=0)", "data + 16 <= data_end"},
		{"R1 invalid mem access 'map_value_or_null'", "for NULL"},
		{"R6 invalid mem access 'ptr_or_null_'", "for NULL"},
		{"R2 invalid mem access 'scalar'", "plain number"},
		{"R0 !read_ok", "return value"},
		{"R3 !read_ok", "clobber R1-R5"},
		{"infinite loop detected at insn 4", "run forever"},
		{"back-edge from insn 9 to 4", "bpf_loop"},
		{"unreachable insn 12", "instruction 12 can never run"},
		{"BPF program is too large. Processed 1000001 insn", "1 million"},
		{"The sequence of 8193 jumps is too complex.", "1 million"},
		{"invalid indirect read from stack R2 off -16+0 size 16", "initialise"},
		{"invalid read from stack off -8+0 size 8", "initialise"},
		{"unknown func bpf_foo#212", "bpf_foo#212 does not exist"},
		{"program of this type cannot use helper bpf_get_current_pid_tgid#14", "bpf_get_current_pid_tgid#14 is not allowed"},
		{"helper call is not allowed in probe", "not allowed for this program type"},
		{"cannot call GPL-restricted function from non-GPL compatible program", "GPL"},
		{"cannot pass map_type 1 into func bpf_redirect_map#51", "bpf_redirect_map#51 does not accept"},
		{"misaligned packet access off 2+0+0 size 4", "aligned"},
		{"invalid stack off=-520 size=8", "512 bytes"},
		{"math between pkt pointer and register with unbounded min value", "clamp"},
		{"R1 unbounded memory access, make sure to bounds check any such access", "lower bound"},
		{"invalid access to map value, value_size=8 off=8 size=8", "past the end"},
		{"Unreleased reference id=2 alloc_insn=7", "release it"},
		{"invalid bpf_context access off=76 size=4", "context field"},
		{"R2 type=pkt expected=fp, map_key", "wrong kind"},
		{"At program exit the register R0 has unknown scalar value should have been in [0, 4]", "out of range"},
	} {
		r := verifier.Parse([]string{"0: R1=ctx() R10=fp0", "0: (b7) r0 = 0", tc.msg})
		if !strings.Contains(r.Hint, tc.hint) {
			t.Errorf("hint for %q = %q, want it to contain %q", tc.msg, r.Hint, tc.hint)
		}
	}
	if r := verifier.Parse([]string{"0: (b7) r0 = 0", "something new the kernel says"}); r.Hint != "" || r.Message != "something new the kernel says" {
		t.Errorf("unknown message: %q hint %q", r.Message, r.Hint)
	}
}

func TestExplainNotVerifier(t *testing.T) {
	if err := verifier.Explain(nil, nil); err != nil {
		t.Errorf("Explain(nil) = %v", err)
	}
	plain := fmt.Errorf("load: %w", unix.EPERM)
	if err := verifier.Explain(plain, nil); err != plain {
		t.Errorf("Explain(plain) = %v, want it unchanged", err)
	}
}

func TestExplainCaptured(t *testing.T) {
	ve := &ebpf.VerifierError{Cause: fmt.Errorf("load program: %w", unix.EACCES), Log: readLog(t, "bad_packet")}
	loadErr := fmt.Errorf("program bad_packet_access: %w", ve)
	err := verifier.Explain(loadErr, nil)

	var e *verifier.Error
	if !errors.As(err, &e) || e.Program != "bad_packet_access" {
		t.Fatalf("Explain = %#v", err)
	}
	var got *ebpf.VerifierError
	if !errors.As(err, &got) || got != ve || !errors.Is(err, unix.EACCES) || !errors.Is(err, loadErr) {
		t.Error("the wrapped errors are not reachable")
	}
	if again := verifier.Explain(err, nil); again != err {
		t.Error("Explain of an explained error wraps it twice")
	}

	want := `program "bad_packet_access" rejected by the verifier at instruction 6:
  source:  bad_packet.c:15   if (*(__u32 *)data == 0) /* FAIL HERE */
  insn:    r1 = *(u32 *)(r1 +0)
  error:   invalid access to packet, off=0 size=4, R1(id=0,off=0,r=1)
           R1 offset is outside of the packet
  why:     the program touches packet memory without first proving it is there: check data + 4 <= data_end (and return early otherwise) before this access
  state:   R0=1 R1=pkt(r=0) R2=pkt_end() R3=pkt(off=1,r=1) R10=fp0
  (full log: 16 lines; format the error with %+v or rerun with --verbose to see it)`
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err.Error(), want)
	}
	for _, verb := range []string{"%v", "%s"} {
		if s := fmt.Sprintf(verb, err); s != want {
			t.Errorf("%s = %q", verb, s)
		}
	}
	wantLong := want + "\nverifier log:\n\t" + strings.Join(ve.Log, "\n\t")
	if s := fmt.Sprintf("%+v", err); s != wantLong {
		t.Errorf("%%+v =\n%s\nwant\n%s", s, wantLong)
	}
	// A caller that wraps the report keeps it.
	if s := fmt.Sprintf("%v", fmt.Errorf("attach: %w", err)); !strings.HasPrefix(s, "attach: program \"bad_packet_access\"") {
		t.Errorf("wrapped: %s", s)
	}
}

// TestExplainTruncated gives Explain the error cilium/ebpf returns when the
// log did not fit even its largest buffer: ENOSPC, and a log whose start the
// kernel dropped (since Linux 6.4 it keeps the end).
func TestExplainTruncated(t *testing.T) {
	log := readLog(t, "bad_null")
	ve := &ebpf.VerifierError{Cause: fmt.Errorf("load program: %w", unix.ENOSPC), Log: log[5:]}
	var e *verifier.Error
	if !errors.As(verifier.Explain(ve, nil), &e) {
		t.Fatal("no *verifier.Error")
	}
	if !e.Report.Truncated || e.Report.Insn != 7 {
		t.Errorf("Truncated %v Insn %d", e.Report.Truncated, e.Report.Insn)
	}
	if !strings.Contains(e.Error(), "cut short by the kernel") {
		t.Errorf("report does not say the log was cut:\n%s", e.Error())
	}
}

func TestExplainEmptyLog(t *testing.T) {
	ve := &ebpf.VerifierError{Cause: fmt.Errorf("load program: %w", unix.EINVAL)}
	err := verifier.Explain(ve, &ebpf.ProgramSpec{Name: "p", Type: ebpf.XDP})
	want := "program \"p\" (XDP) rejected by the verifier:\n  error:   load program: invalid argument\n  (the kernel returned no verifier log)"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func ExampleParse() {
	b, err := os.ReadFile("testdata/bad_null.log")
	if err != nil {
		panic(err)
	}
	r := verifier.Parse(strings.Split(strings.TrimSpace(string(b)), "\n"))
	fmt.Printf("instruction %d at %s:%d\n", r.Insn, r.File, r.Line)
	fmt.Println(r.Message)
	fmt.Println(r.Hint)
	// Output:
	// instruction 7 at bad_null.c:20
	// R0 invalid mem access 'map_value_or_null'
	// the pointer may be NULL: check the result of bpf_map_lookup_elem (or of the helper that returned it) for NULL before using it
}

// TestParseStateLines checks the forms of whole-state lines the kernel
// prints: at a branch target, with frames, and after a popped branch.
func TestParseStateLines(t *testing.T) {
	log := []string{
		"0: R1=ctx() R10=fp0",
		"0: (b7) r0 = 0                        ; R0=0",
		"1: (05) goto pc+1",
		"from 5 to 9 (speculative execution): frame1: R1=pkt(r=0) R10=fp0",
		"9: (61) r2 = *(u32 *)(r1 +0)",
		"invalid access to packet, off=0 size=4, R1(id=0,off=0,r=0)",
	}
	r := verifier.Parse(log)
	if want := "frame1: R1=pkt(r=0) R10=fp0"; r.State != want {
		t.Errorf("State = %q, want %q", r.State, want)
	}
	if r.Insn != 9 || r.Instruction != "r2 = *(u32 *)(r1 +0)" {
		t.Errorf("insn %d %q", r.Insn, r.Instruction)
	}
}
