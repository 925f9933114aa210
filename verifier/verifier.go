// Package verifier turns the kernel verifier's log into a short report: the
// failing instruction, its source line (from BTF line info) and the reason.
package verifier

import "github.com/cilium/ebpf"

// Explain returns err unchanged when it is not a verifier rejection; else an
// error that wraps err and reads as a short report. spec may be nil.
// (Placeholder: the report is being written.)
func Explain(err error, spec *ebpf.ProgramSpec) error {
	return err
}
