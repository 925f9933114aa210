// Package verifier turns the kernel verifier's log into a short report: the
// failing instruction, its source line (from BTF line info) and the reason.
//
// When the verifier rejects a program, cilium/ebpf returns an
// *ebpf.VerifierError holding the whole log, often hundreds of lines. Parse
// finds what matters in it; Explain wraps the load error in an *Error that
// prints as a report of a few lines:
//
//	program "bad_packet_access" (xdp) rejected by the verifier at instruction 6:
//	  source:  bad_packet.c:15   if (*(__u32 *)data == 0)
//	  insn:    r1 = *(u32 *)(r1 +0)
//	  error:   invalid access to packet, off=0 size=4, R1(id=0,off=0,r=1)
//	           R1 offset is outside of the packet
//	  why:     the program touches packet memory without first proving it is there: check data + 4 <= data_end ...
//	  state:   R0=1 R1=pkt(r=0) R2=pkt_end() R3=pkt(off=1,r=1) R10=fp0
//	  (full log: 16 lines; format the error with %+v or rerun with --verbose to see it)
//
// Parse needs no kernel; the log's format is the one Linux 6.x prints at
// log level 1 or 2, and older kernels' logs give a report with fewer fields.
package verifier

import (
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// Error is a verifier rejection explained: Error() is a short report,
// formatting it with %+v appends the whole verifier log. It wraps the load
// error, so errors.As still finds the *ebpf.VerifierError and errors.Is
// its errno (unix.EACCES, unix.EINVAL, ...).
type Error struct {
	// Program is the rejected program's name; empty when unknown.
	Program string
	// Section is the ELF section the program came from ("xdp"), which names
	// its type the way its author wrote it; empty when unknown.
	Section string
	// Type is the program's type; ebpf.UnspecifiedProgram when unknown.
	Type ebpf.ProgramType
	// Report is what the verifier log says.
	Report *Report

	err error
}

var _ fmt.Formatter = (*Error)(nil)

// Explain returns err unchanged when it is not a verifier rejection (no
// *ebpf.VerifierError in its chain, or nil); else an *Error that wraps err
// and reads as a short report. spec, the program that was loaded, may be
// nil: it gives the report the program's name and type, and the source line
// from BTF line info when the log lacks it. Explain costs one pass over the
// log.
func Explain(err error, spec *ebpf.ProgramSpec) error {
	var ve *ebpf.VerifierError
	if err == nil || !errors.As(err, &ve) {
		return err
	}
	var done *Error
	if errors.As(err, &done) {
		return err
	}

	r := Parse(ve.Log)
	// cilium/ebpf grows the log buffer until the log fits or a limit is
	// hit; then the kernel returns ENOSPC and has cut the log.
	r.Truncated = errors.Is(ve.Cause, unix.ENOSPC)

	e := &Error{Report: r, err: err}
	if spec != nil {
		e.Program = spec.Name
		e.Section = spec.SectionName
		e.Type = spec.Type
		if r.File == "" && r.Source == "" {
			r.sourceFrom(spec.Instructions)
		}
	} else {
		e.Program = programName(err)
	}
	return e
}

// collection.go in cilium/ebpf wraps load errors as "program NAME: ...".
var programNameRE = regexp.MustCompile(`(?:^|: )program ([A-Za-z0-9_.]+): `)

func programName(err error) string {
	if m := programNameRE.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}

// sourceFrom fills the source line of r.Insn from the line info cilium/ebpf
// read from the object's BTF. Line info is attached to the first instruction
// of each source line, so the line of r.Insn is the nearest one at or before
// it. Offsets count 8-byte slots, as the kernel's instruction indexes do.
func (r *Report) sourceFrom(insns asm.Instructions) {
	if r.Insn < 0 {
		return
	}
	var src fmt.Stringer
	iter := insns.Iterate()
	for iter.Next() {
		if int(iter.Offset) > r.Insn {
			break
		}
		if s := iter.Ins.Source(); s != nil {
			src = s
		}
		if int(iter.Offset) == r.Insn && r.Instruction == "" {
			r.Instruction = limit(fmt.Sprint(*iter.Ins), maxFieldLen)
		}
	}
	if src == nil {
		return
	}
	if li, ok := src.(interface {
		FileName() string
		LineNumber() uint32
	}); ok {
		if li.LineNumber() == 0 {
			return // made up by the compiler: no source line
		}
		r.File = limit(path.Base(li.FileName()), maxFieldLen)
		r.Line = int(li.LineNumber())
	}
	r.Source = limit(strings.TrimSpace(src.String()), maxFieldLen)
}

// Unwrap returns the load error Explain was given.
func (e *Error) Unwrap() error { return e.err }

// Error returns the short report, a few lines long whatever the log's size.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("program ")
	if e.Program != "" {
		fmt.Fprintf(&b, "%q ", e.Program)
	}
	switch {
	case e.Section != "":
		fmt.Fprintf(&b, "(%s) ", e.Section)
	case e.Type != ebpf.UnspecifiedProgram:
		fmt.Fprintf(&b, "(%s) ", e.Type)
	}
	b.WriteString("rejected by the verifier")
	// With no message in the log, the errno is all there is to say.
	cause := e.err
	var ve *ebpf.VerifierError
	if errors.As(e.err, &ve) && ve.Cause != nil {
		cause = ve.Cause
	}
	e.Report.write(&b, cause)
	return b.String()
}

// String returns the report without a program name, as Error prints it.
func (r *Report) String() string {
	var b strings.Builder
	b.WriteString("rejected by the verifier")
	r.write(&b, nil)
	return b.String()
}

// write prints the report behind its first words; cause stands in for the
// message when the log has none.
func (r *Report) write(b *strings.Builder, cause error) {
	if r.Insn >= 0 {
		fmt.Fprintf(b, " at instruction %d", r.Insn)
	}
	b.WriteString(":")
	field := func(name, value string) {
		if value == "" {
			return
		}
		lines := strings.Split(value, "\n")
		fmt.Fprintf(b, "\n  %-8s %s", name+":", lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(b, "\n  %-8s %s", "", l)
		}
	}
	switch {
	case r.File != "" && r.Line > 0:
		field("source", fmt.Sprintf("%s:%d   %s", r.File, r.Line, r.Source))
	default:
		field("source", r.Source)
	}
	field("insn", r.Instruction)
	msg := r.Message
	if msg == "" && cause != nil {
		msg = limit(cause.Error(), maxFieldLen)
	}
	field("error", msg)
	field("why", r.Hint)
	field("state", r.State)
	switch {
	case len(r.Log) == 0:
		b.WriteString("\n  (the kernel returned no verifier log)")
	case r.Truncated:
		fmt.Fprintf(b, "\n  (full log: %d lines, cut short by the kernel, so this report may miss the cause; format the error with %%+v or rerun with --verbose to see it)", len(r.Log))
	default:
		fmt.Fprintf(b, "\n  (full log: %d lines; format the error with %%+v or rerun with --verbose to see it)", len(r.Log))
	}
}

// Format formats the error: %s and %v print the short report (as Error),
// %+v the report followed by the whole verifier log, one tab-indented line
// per log line, and %q the report quoted.
func (e *Error) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		_, _ = io.WriteString(f, e.Error())
		if f.Flag('+') {
			_, _ = io.WriteString(f, "\nverifier log:")
			for _, line := range e.Report.Log {
				_, _ = io.WriteString(f, "\n\t")
				_, _ = io.WriteString(f, line)
			}
		}
	case 's':
		_, _ = io.WriteString(f, e.Error())
	case 'q':
		fmt.Fprintf(f, "%q", e.Error())
	default:
		fmt.Fprintf(f, "%%!%c(verifier.Error=%s)", verb, e.Error())
	}
}
