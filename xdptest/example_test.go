package xdptest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/xdpkit/xdpkit/progrun"
	"github.com/xdpkit/xdpkit/xdptest"
)

// The object the tests load: testdata/example.c, compiled reproducibly
// (no absolute paths, DWARF stripped, BTF kept) so that
// scripts/check-generated.sh can check the committed object.
//go:generate clang -O2 -g -Wall -Werror -target bpfel -fno-ident -fdebug-compilation-dir . -I../bpf/include -c testdata/example.c -o testdata/example_bpfel.o
//go:generate llvm-strip -g testdata/example_bpfel.o

const exampleObject = "testdata/example_bpfel.o"

// TestFirewall is the example of the package documentation, word for
// word but for the object's path.
func TestFirewall(t *testing.T) {
	prog := xdptest.Load(t, exampleObject, "xdp_example")
	prog.RunCases(t, []xdptest.Case{{
		Name:     "echo",
		Spec:     "eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(sport=40000,dport=7)/payload(16)",
		Want:     "XDP_TX",
		WantSpec: "eth(src=02:00:00:00:00:02,dst=02:00:00:00:00:01)/ipv4(src=10.0.0.2,dst=10.0.0.1)/udp(sport=7,dport=40000)/payload(16)",
	}, {
		Name: "tcp dropped",
		Spec: "eth/ipv4/tcp(dport=22)",
		Want: "drop",
	}, {
		Name:     "dns ttl",
		Spec:     "eth/ipv4(ttl=64)/udp(sport=40000,dport=53)/payload(8)",
		Want:     "XDP_PASS",
		WantSpec: "eth/ipv4(ttl=63)/udp(sport=40000,dport=53)/payload(8)",
	}, {
		Name:          "other udp untouched",
		Spec:          "eth/ipv4/udp(dport=123)",
		Want:          "pass",
		WantUnchanged: true,
	}, {
		Name:    "tagged by an earlier program",
		Spec:    "eth/ipv4/udp(dport=7)",
		Context: &progrun.XDPContext{Meta: []byte{1, 0, 0, 0}},
		Want:    "XDP_DROP",
	}, {
		Name:    "runt frame",
		Packet:  make([]byte, 10),
		WantErr: progrun.ErrPacketTooShort,
	}, {
		Name:   "counted",
		Spec:   "eth/ipv4/udp(dport=123)",
		Repeat: 100,
		Check: func(t testing.TB, res progrun.Result) {
			var n uint64
			if err := prog.Map(t, "verdicts").Lookup(uint32(2), &n); err != nil {
				t.Fatal(err)
			}
			if n < 100 {
				t.Errorf("XDP_PASS counted %d times, want at least 100", n)
			}
		},
	}})
}

// TestFirewallIsTheDocExample checks that TestFirewall is still the
// package documentation's example.
func TestFirewallIsTheDocExample(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var example []string
	for _, line := range strings.Split(string(doc), "\n") {
		if code, ok := strings.CutPrefix(line, "//\t"); ok {
			example = append(example, code)
		}
	}
	docFunc := funcText(strings.Join(example, "\n")+"\n", "TestFirewall")
	testFunc := funcText(string(src), "TestFirewall")
	testFunc = strings.Replace(testFunc, "exampleObject", `"firewall.o"`, 1)
	if docFunc == "" || docFunc != testFunc {
		t.Errorf("TestFirewall and the example in doc.go differ:\ndoc.go:\n%s\nexample_test.go:\n%s", docFunc, testFunc)
	}
}

// funcText returns the text of func name in src, from "func" to the
// closing brace at the start of a line.
func funcText(src, name string) string {
	start := strings.Index(src, "\nfunc "+name+"(")
	if start < 0 {
		return ""
	}
	end := strings.Index(src[start:], "\n}\n")
	if end < 0 {
		return ""
	}
	return src[start+1 : start+end+2]
}
