package verifier_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpkit/xdpkit/internal/testprogs"
	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/verifier"
	"golang.org/x/sys/unix"
)

var update = flag.Bool("update", false, "write the kernel's verifier logs to testdata/NAME.log")

// badProgram is one of bpf/testprogs/bad_*.c: a program the verifier
// rejects, with the line it rejects marked /* FAIL HERE */.
type badProgram struct {
	name    string // bpf/testprogs/NAME.c
	insn    int    // the rejected instruction (see llvm-objdump -d)
	errno   error
	message string // a part of the verifier's message
	hint    string // a part of the hint
}

var badPrograms = []badProgram{
	{"bad_packet", 6, unix.EACCES, "invalid access to packet, off=0 size=4", "data + 4 <= data_end"},
	{"bad_null", 7, unix.EACCES, "R0 invalid mem access 'map_value_or_null'", "for NULL"},
	{"bad_helper", 5, unix.EINVAL, "program of this type cannot use helper bpf_skb_load_bytes#26", "not allowed for this program type"},
	{"bad_loop", 2, unix.EINVAL, "infinite loop detected at insn 2", "run forever"},
	{"bad_license", 4, unix.EINVAL, "cannot call GPL-restricted function from non-GPL compatible program", `SEC("license") = "GPL"`},
	{"bad_return", 1, unix.EACCES, "R0 !read_ok", "without setting a return value"},
}

// failLine returns the file name and number of the line of
// bpf/testprogs/NAME.c marked FAIL HERE, read from the source itself.
func failLine(t *testing.T, name string) (string, int) {
	t.Helper()
	file := name + ".c"
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "bpf", "testprogs", file))
	if err != nil {
		t.Fatal(err)
	}
	line := 0
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "/* FAIL HERE */") {
			if line != 0 {
				t.Fatalf("%s: two lines marked FAIL HERE", file)
			}
			line = i + 1
		}
	}
	if line == 0 {
		t.Fatalf("%s: no line marked FAIL HERE", file)
	}
	return file, line
}

// loadBad loads the one program of testprogs NAME, which the verifier must
// reject, and returns the error and the program's spec.
func loadBad(t *testing.T, name string, opts ebpf.ProgramOptions) (error, *ebpf.ProgramSpec) {
	t.Helper()
	spec, err := testprogs.Spec(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Programs) != 1 {
		t.Fatalf("%s: %d programs, want 1", name, len(spec.Programs))
	}
	var prog *ebpf.ProgramSpec
	for _, p := range spec.Programs {
		prog = p
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: opts})
	if err == nil {
		coll.Close()
		t.Fatalf("%s: the verifier accepted the program", name)
	}
	return err, prog
}

func TestExplainKernel(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, bp := range badPrograms {
		t.Run(bp.name, func(t *testing.T) {
			loadErr, prog := loadBad(t, bp.name, ebpf.ProgramOptions{})
			var ve *ebpf.VerifierError
			if !errors.As(loadErr, &ve) {
				t.Fatalf("load error is no VerifierError: %v", loadErr)
			}
			if *update {
				path := filepath.Join("testdata", bp.name+".log")
				if err := os.WriteFile(path, []byte(strings.Join(ve.Log, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", path)
			}

			err := verifier.Explain(loadErr, prog)
			var ve2 *ebpf.VerifierError
			if !errors.As(err, &ve2) || ve2 != ve {
				t.Errorf("errors.As does not reach the VerifierError through %T", err)
			}
			if !errors.Is(err, bp.errno) {
				t.Errorf("errors.Is(err, %v) = false", bp.errno)
			}
			var ve3 *verifier.Error
			if !errors.As(err, &ve3) {
				t.Fatalf("Explain returned %T, want *verifier.Error", err)
			}
			r := ve3.Report
			file, line := failLine(t, bp.name)
			if r.Insn != bp.insn {
				t.Errorf("Insn = %d, want %d", r.Insn, bp.insn)
			}
			if r.File != file || r.Line != line {
				t.Errorf("source = %s:%d, want %s:%d", r.File, r.Line, file, line)
			}
			if !strings.Contains(r.Source, "FAIL HERE") {
				t.Errorf("Source = %q, want the marked line", r.Source)
			}
			if !strings.Contains(r.Message, bp.message) {
				t.Errorf("Message = %q, want it to contain %q", r.Message, bp.message)
			}
			if !strings.Contains(r.Hint, bp.hint) {
				t.Errorf("Hint = %q, want it to contain %q", r.Hint, bp.hint)
			}
			if r.Truncated {
				t.Error("Truncated = true")
			}
			if ve3.Program != prog.Name || ve3.Section != "xdp" || ve3.Type != ebpf.XDP {
				t.Errorf("program = %q %q %v", ve3.Program, ve3.Section, ve3.Type)
			}

			short := err.Error()
			for _, want := range []string{
				fmt.Sprintf("program %q (xdp) rejected by the verifier at instruction %d:", prog.Name, bp.insn),
				fmt.Sprintf("source:  %s:%d   ", file, line),
				"error:   " + bp.message,
				"why:     ",
				fmt.Sprintf("(full log: %d lines;", len(ve.Log)),
			} {
				if !strings.Contains(short, want) {
					t.Errorf("report lacks %q:\n%s", want, short)
				}
			}
			if n := strings.Count(short, "\n") + 1; n > 12 {
				t.Errorf("report has %d lines:\n%s", n, short)
			}
			long := fmt.Sprintf("%+v", err)
			if !strings.HasPrefix(long, short+"\nverifier log:\n") || !strings.Contains(long, "\t"+ve.Log[len(ve.Log)-1]) {
				t.Errorf("%%+v does not append the log:\n%s", long)
			}
			t.Logf("%v", err)
		})
	}
}

// TestExplainKernelNoSpec checks the report without a spec: the program's
// name comes from the error, the source from the log's line info.
func TestExplainKernelNoSpec(t *testing.T) {
	testutil.RequirePrivileged(t)
	loadErr, prog := loadBad(t, "bad_packet", ebpf.ProgramOptions{})
	err := verifier.Explain(loadErr, nil)
	var e *verifier.Error
	if !errors.As(err, &e) {
		t.Fatalf("Explain returned %T", err)
	}
	if e.Program != prog.Name {
		t.Errorf("Program = %q, want %q", e.Program, prog.Name)
	}
	file, line := failLine(t, "bad_packet")
	if e.Report.File != file || e.Report.Line != line {
		t.Errorf("source = %s:%d, want %s:%d", e.Report.File, e.Report.Line, file, line)
	}
	if want := fmt.Sprintf("program %q rejected by the verifier at instruction 6:", prog.Name); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("report = %q, want prefix %q", err.Error(), want)
	}
}

// TestExplainKernelLevel2 loads with the most verbose log, which prints the
// whole state before every instruction: the report must not change.
func TestExplainKernelLevel2(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, bp := range badPrograms {
		t.Run(bp.name, func(t *testing.T) {
			loadErr, prog := loadBad(t, bp.name, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelInstruction | ebpf.LogLevelStats})
			var ve *ebpf.VerifierError
			if !errors.As(loadErr, &ve) {
				t.Fatalf("load error is no VerifierError: %v", loadErr)
			}
			if *update && bp.name == "bad_null" {
				path := filepath.Join("testdata", bp.name+"_level2.log")
				if err := os.WriteFile(path, []byte(strings.Join(ve.Log, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", path)
			}
			var e *verifier.Error
			if !errors.As(verifier.Explain(loadErr, prog), &e) {
				t.Fatal("no *verifier.Error")
			}
			file, line := failLine(t, bp.name)
			r := e.Report
			if r.Insn != bp.insn || r.File != file || r.Line != line || !strings.Contains(r.Message, bp.message) {
				t.Errorf("report at %d %s:%d %q, want %d %s:%d %q", r.Insn, r.File, r.Line, r.Message, bp.insn, file, line, bp.message)
			}
			if strings.Contains(r.Message, "verification time") || strings.Contains(r.Message, "stack depth") {
				t.Errorf("Message holds statistics: %q", r.Message)
			}
		})
	}
}

// TestExplainKernelSpecFallback strips the source markers from a real log
// and checks that the source line then comes from the spec's line info.
func TestExplainKernelSpecFallback(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, bp := range badPrograms {
		t.Run(bp.name, func(t *testing.T) {
			loadErr, prog := loadBad(t, bp.name, ebpf.ProgramOptions{})
			var ve *ebpf.VerifierError
			if !errors.As(loadErr, &ve) {
				t.Fatalf("load error is no VerifierError: %v", loadErr)
			}
			var stripped []string
			for _, l := range ve.Log {
				if strings.HasPrefix(l, ";") {
					continue
				}
				if i := strings.Index(l, " ; "); i >= 0 && strings.Contains(l[i:], " @ ") {
					l = l[:i]
				}
				stripped = append(stripped, l)
			}
			noMarkers := &ebpf.VerifierError{Cause: ve.Cause, Log: stripped}
			var e *verifier.Error
			if !errors.As(verifier.Explain(noMarkers, prog), &e) {
				t.Fatal("no *verifier.Error")
			}
			file, line := failLine(t, bp.name)
			if e.Report.Insn != bp.insn || e.Report.File != file || e.Report.Line != line {
				t.Errorf("report at %d %s:%d, want %d %s:%d", e.Report.Insn, e.Report.File, e.Report.Line, bp.insn, file, line)
			}
		})
	}
}
