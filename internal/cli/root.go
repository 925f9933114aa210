// Package cli implements the xdpkit command line: one file per noun, each
// turning flags into one library call and its result into human or --json
// output. It holds no logic of its own beyond that.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
		// pflag says `invalid argument "-5" for "--pps" flag:
		// strconv.ParseUint: parsing "-5": invalid syntax`; say it as the
		// commands' own checks do: the flag, the value, what it takes.
		var iv *pflag.InvalidValueError
		if errors.As(err, &iv) {
			return usageError{cliTextError{msg: flagValueText(iv), err: err}}
		}
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
		newXskCmd(g),
	)
	return root
}

// flagValueText words a value pflag could not parse: "--pps -5: not a
// valid number: give a whole number of 0 or more".
func flagValueText(iv *pflag.InvalidValueError) string {
	f := iv.GetFlag()
	head := fmt.Sprintf("--%s %s", f.Name, iv.GetValue())
	var ne *strconv.NumError
	outOfRange := errors.As(iv, &ne) && errors.Is(ne.Err, strconv.ErrRange)
	switch t := f.Value.Type(); t {
	case "uint", "uint8", "uint16", "uint32", "uint64":
		bits := 64
		if t != "uint" {
			bits, _ = strconv.Atoi(strings.TrimPrefix(t, "uint"))
		}
		if outOfRange {
			return fmt.Sprintf("%s: out of range: give a whole number from 0 to %d", head, uint64(math.MaxUint64)>>(64-bits))
		}
		return head + ": not a valid number: give a whole number of 0 or more"
	case "int", "int8", "int16", "int32", "int64":
		bits := 64
		if t != "int" {
			bits, _ = strconv.Atoi(strings.TrimPrefix(t, "int"))
		}
		if outOfRange {
			return fmt.Sprintf("%s: out of range: give a whole number from %d to %d", head,
				int64(math.MinInt64)>>(64-bits), int64(math.MaxInt64)>>(64-bits))
		}
		return head + ": not a valid number: give a whole number"
	case "float32", "float64":
		return head + ": not a valid number: give a number such as 1 or 0.5"
	case "intSlice", "uintSlice", "int32Slice", "int64Slice":
		return head + ": not a list of whole numbers: give them separated by commas, such as 0,2"
	case "duration":
		return head + ": not a duration: give a number with a unit, such as 10s, 500ms or 1m30s"
	case "bool":
		return fmt.Sprintf("%s: not true or false: give --%s, --%s=true or --%s=false", head, f.Name, f.Name, f.Name)
	}
	return fmt.Sprintf("%s: %v", head, errors.Unwrap(iv))
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
