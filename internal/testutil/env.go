package testutil

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/netenv"
)

// RequireNetenv is RequirePrivileged plus CAP_SYS_ADMIN, which making and
// entering network namespaces takes: what a test of netenv envs needs.
func RequireNetenv(t testing.TB) {
	t.Helper()
	RequirePrivileged(t)
	if err := caps.Require(caps.NetAdmin, caps.SysAdmin); err != nil {
		SkipOrFail(t, "test environments need privileges: %v", err)
	}
}

var sweepOnce sync.Once

// envSetupWait bounds how long NewEnv waits for the netenv lock and the
// setup, so that a process hung while holding the lock fails the tests
// that need an env instead of stalling them forever.
const envSetupWait = time.Minute

// NewEnv sets up a netenv test environment for t and tears it down when t
// ends, passed or failed. It skips (locally) or fails (in CI) without
// privileges (see RequireNetenv). An empty spec.Name gets a unique "t"+8
// hex name. The env is Temporary: if the test binary is killed before its
// cleanup runs, the next NewEnv of any test binary removes it
// (netenv.SweepOrphans), and "xdpkit env teardown --all" removes it too.
// It fails t if the setup takes over a minute (another process holding
// the netenv lock: the message names it).
func NewEnv(t testing.TB, spec netenv.Spec) *netenv.Env {
	t.Helper()
	RequireNetenv(t)
	sweepOnce.Do(func() {
		if swept, err := netenv.SweepOrphans(); err != nil {
			t.Logf("sweeping envs of dead test binaries: %v", err)
		} else if len(swept) > 0 {
			t.Logf("removed envs left by dead test binaries: %v", swept)
		}
	})
	if spec.Name == "" {
		spec.Name = UniqueName("t")[:netenv.MaxNameLen]
	}
	spec.Temporary = true
	ctx, cancel := context.WithTimeout(t.Context(), envSetupWait)
	defer cancel()
	env, err := netenv.Setup(ctx, spec)
	if err != nil {
		t.Fatalf("netenv: %v", err)
	}
	for _, note := range env.Notes {
		t.Logf("env %s: %s", env.Name, note)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Errorf("tear down env %s: %v", env.Name, err)
		}
	})
	return env
}

// NewQuietEnv is NewEnv for tests that count frames: IPv4 only, and IPv6
// switched off on both ends (an end without IPv6 addresses still sends
// neighbour discovery and MLD reports from its link-local address), so
// that nothing but the test's own frames crosses the veth.
func NewQuietEnv(t testing.TB, spec netenv.Spec) *netenv.Env {
	t.Helper()
	spec.NoIPv6 = true
	env := NewEnv(t, spec)
	for _, end := range []netenv.End{env.Outer, env.Inner} {
		if out, err := end.Exec(context.Background(), "sysctl", "-qw", "net.ipv6.conf."+end.Interface+".disable_ipv6=1"); err != nil {
			t.Fatalf("disable IPv6 on %s: %v\n%s", end.Interface, err, out)
		}
	}
	return env
}
