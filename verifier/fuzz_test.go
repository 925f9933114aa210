package verifier_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xdpkit/xdpkit/verifier"
)

// FuzzParse feeds Parse arbitrary log text, seeded with the logs captured
// from the kernel: it must not panic, and the report it renders must stay
// short whatever the log holds.
func FuzzParse(f *testing.F) {
	logs, err := filepath.Glob(filepath.Join("testdata", "*.log"))
	if err != nil || len(logs) == 0 {
		f.Fatalf("no captured logs in testdata: %v", err)
	}
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("0: (95) exit\nR0 !read_ok")
	f.Add("5: (55) if r2 != 0x0 goto pc-4 2: R1=scalar(var_off=(0x0; 0xff)) ; x @ a.c:1\n; @ b.c:0\nfrom 1 to 3: frame1: R1_w=ctx() fp-8=0\ninfinite loop detected at insn 99999999999999999999")

	f.Fuzz(func(t *testing.T, text string) {
		log := strings.Split(text, "\n")
		r := verifier.Parse(log)
		if r.Insn < -1 {
			t.Fatalf("Insn = %d", r.Insn)
		}
		if len(r.Log) != len(log) {
			t.Fatalf("Log has %d lines, want %d", len(r.Log), len(log))
		}
		if r.Line < 0 {
			t.Fatalf("Line = %d", r.Line)
		}
		s := r.String()
		if len(s) > 8<<10 || strings.Count(s, "\n") > 20 {
			t.Fatalf("report of %d bytes, %d lines:\n%s", len(s), strings.Count(s, "\n")+1, s)
		}
		if utf8.ValidString(text) && !utf8.ValidString(s) {
			t.Fatalf("report of valid UTF-8 is not: %q", s)
		}
	})
}
