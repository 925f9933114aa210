package testutil

import (
	"strings"
	"testing"
)

func TestUniqueName(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		n := UniqueName("xktest")
		if len(n) > 15 || !strings.HasPrefix(n, "xktest") {
			t.Fatalf("bad name %q", n)
		}
		if seen[n] {
			t.Fatalf("duplicate %q", n)
		}
		seen[n] = true
	}
	if n := UniqueName("averyverylongprefix"); len(n) > 15 {
		t.Fatalf("%q longer than IFNAMSIZ-1", n)
	}
}
