// Package cli implements the xdpkit command line: one file per noun, each
// turning flags into one library call and its result into human or --json
// output. It holds no logic of its own beyond that.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// globals are the flags and streams every command shares.
type globals struct {
	stdout io.Writer
	stderr io.Writer
	json   bool
}

// Run executes the command line args and returns the process exit code
// (see ExitCode). SIGINT and SIGTERM cancel ctx, so long-running commands
// end cleanly and tear down what they made.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	g := &globals{stdout: stdout, stderr: stderr}
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)

	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if _, ok := commandExitCode(err); !ok {
		fmt.Fprintf(stderr, "xdpkit: %v\n", err)
	}
	return ExitCode(err)
}

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "xdpkit",
		Short: "A toolkit for the Linux XDP fast path",
		Long: `xdpkit loads, attaches, inspects and tests XDP and other BPF programs.

Commands follow "xdpkit <noun> <verb>". Every command accepts --json for
machine-readable output on stdout; progress and errors go to stderr.

Exit codes: 0 success, 1 failure, 2 bad usage or input, 3 missing
privileges, 4 not supported by this kernel, 5 not found.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print machine-readable JSON on stdout")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError{err}
	})

	root.AddCommand(
		newEnvCmd(g),
		newStatusCmd(g),
		newAttachCmd(g),
		newDetachCmd(g),
		newProgCmd(g),
		newMapCmd(g),
		newRunCmd(g),
		newGenCmd(g),
	)
	return root
}

// version is the module version, or the VCS revision of a build from a
// checkout.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev + dirty
}

// usageError marks an error in how xdpkit was called (flags, arguments).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error: the call itself is wrong.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exactArgs is cobra.ExactArgs with errors that ExitCode reports as usage.
func exactArgs(n int) cobra.PositionalArgs {
	return wrapArgs(cobra.ExactArgs(n))
}

// rangeArgs is cobra.RangeArgs with errors that ExitCode reports as usage.
func rangeArgs(min, max int) cobra.PositionalArgs {
	return wrapArgs(cobra.RangeArgs(min, max))
}

// minimumArgs is cobra.MinimumNArgs with errors that ExitCode reports as usage.
func minimumArgs(n int) cobra.PositionalArgs {
	return wrapArgs(cobra.MinimumNArgs(n))
}

func wrapArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{fmt.Errorf("%w (see %q)", err, cmd.CommandPath()+" --help")}
		}
		return nil
	}
}

// isUsage reports whether err is a usageError.
func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}
