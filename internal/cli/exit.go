package cli

import (
	"errors"
	"os"

	"github.com/cilium/ebpf"
)

// Exit codes of xdpkit, stable for scripts.
const (
	ExitOK           = 0   // success
	ExitFailure      = 1   // the work failed
	ExitUsage        = 2   // bad usage or input: fix the command line
	ExitPermission   = 3   // missing privileges (CAP_BPF, CAP_NET_ADMIN, root)
	ExitNotSupported = 4   // this kernel or device does not support what was asked
	ExitNotFound     = 5   // an interface, file, program, map, key or env does not exist
	ExitInterrupted  = 130 // interrupted by SIGINT or SIGTERM before the work was done (128 + SIGINT)
)

// ExitCode maps err to one of the Exit constants by what it matches with
// errors.Is, most specific first.
func ExitCode(err error) int {
	if code, ok := commandExitCode(err); ok {
		return code // env exec: the command's own status
	}
	switch {
	case err == nil:
		return ExitOK
	case isUsage(err):
		return ExitUsage
	case isVerifierRejection(err):
		// The kernel says EACCES or EINVAL; neither means the caller lacks
		// privileges or typed a bad flag: the program itself was refused.
		return ExitFailure
	case errors.Is(err, os.ErrPermission):
		return ExitPermission
	case errors.Is(err, ebpf.ErrNotSupported), errors.Is(err, errors.ErrUnsupported):
		return ExitNotSupported
	case errors.Is(err, os.ErrNotExist):
		return ExitNotFound
	case errors.Is(err, os.ErrInvalid), errors.Is(err, os.ErrExist):
		return ExitUsage
	default:
		return ExitFailure
	}
}

// isVerifierRejection reports whether err is a program the verifier
// refused to load.
func isVerifierRejection(err error) bool {
	var ve *ebpf.VerifierError
	return errors.As(err, &ve)
}
