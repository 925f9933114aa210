package caps

import (
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMissingErrorMatches(t *testing.T) {
	err := &MissingError{Caps: []string{"CAP_BPF", "CAP_NET_ADMIN"}}
	if !errors.Is(err, ErrMissing) || !errors.Is(err, os.ErrPermission) {
		t.Fatal("MissingError must match ErrMissing and os.ErrPermission")
	}
	msg := err.Error()
	for _, want := range []string{"CAP_BPF and CAP_NET_ADMIN", "setcap cap_bpf,cap_net_admin+ep"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not contain %q", msg, want)
		}
	}
}

func TestExplainPassesOtherErrors(t *testing.T) {
	if err := Explain(unix.EINVAL, BPF); err != unix.EINVAL {
		t.Fatalf("Explain changed a non-permission error: %v", err)
	}
	if Explain(nil, BPF) != nil {
		t.Fatal("Explain(nil) != nil")
	}
}

func TestRequireMatchesEffectiveSet(t *testing.T) {
	eff, err := Effective()
	if err != nil {
		t.Fatal(err)
	}
	err = Require(NetAdmin)
	if has := eff&(1<<NetAdmin) != 0; has != (err == nil) {
		t.Fatalf("effective set says %v, Require says %v", has, err)
	}
	if String := Cap(63).String(); String != "CAP_63" {
		t.Fatalf("unknown cap named %q", String)
	}
}
