package xdptest_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// fakeTB records what a helper reports instead of failing the real test.
// Fatal and Skip end the calling goroutine (runtime.Goexit) as the real
// ones do, so call the helper through capture. Cleanup, Log and the rest
// go to the real test.
type fakeTB struct {
	testing.TB
	mu      sync.Mutex
	errs    []string // Error and Fatal messages, in order
	fatal   bool
	skipped string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) record(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, msg)
}

func (f *fakeTB) Error(args ...any)                 { f.record(strings.TrimSuffix(fmt.Sprintln(args...), "\n")) }
func (f *fakeTB) Errorf(format string, args ...any) { f.record(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Fail()                             { f.record("Fail") }
func (f *fakeTB) Failed() bool                      { f.mu.Lock(); defer f.mu.Unlock(); return len(f.errs) > 0 }

func (f *fakeTB) Fatal(args ...any) {
	f.Error(args...)
	f.FailNow()
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.FailNow()
}

func (f *fakeTB) FailNow() {
	f.mu.Lock()
	f.fatal = true
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Skip(args ...any) {
	f.mu.Lock()
	f.skipped = strings.TrimSuffix(fmt.Sprintln(args...), "\n")
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Skipf(format string, args ...any) { f.Skip(fmt.Sprintf(format, args...)) }
func (f *fakeTB) SkipNow()                         { f.Skip("SkipNow") }
func (f *fakeTB) Skipped() bool                    { f.mu.Lock(); defer f.mu.Unlock(); return f.skipped != "" }

// capture runs fn with a fakeTB in a goroutine of its own, so that a
// Fatal or Skip ends only fn, and returns what fn reported.
func capture(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	t.Helper()
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

// message returns the one message f recorded, failing t unless there is
// exactly one.
func (f *fakeTB) message(t *testing.T) string {
	t.Helper()
	if len(f.errs) != 1 {
		t.Fatalf("want one failure message, got %d: %q", len(f.errs), f.errs)
	}
	return f.errs[0]
}
