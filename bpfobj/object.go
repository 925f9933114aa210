// Package bpfobj is the bpf() system call made ergonomic, like bpftool:
// load BPF objects and pin their programs and maps, list the programs and
// maps in the kernel, and read, write and create maps with keys and values
// formatted from their BTF types (package btfvalue does the formatting).
//
// Errors match the os sentinels a caller can act on with errors.Is: a
// missing file, map or key matches os.ErrNotExist; bad input (not an ELF
// file, a wrong key size, a bad reference) matches os.ErrInvalid; an
// existing key updated with UpdateNoExist matches os.ErrExist; missing
// privileges match os.ErrPermission. A program the verifier rejects matches
// ErrVerifier only, whatever errno the kernel returned.
package bpfobj

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpkit/xdpkit/internal/bpffs"
	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/verifier"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrInvalidInput is matched by errors about what the caller gave: a
	// key of the wrong size, a bad map reference, flags. It wraps
	// os.ErrInvalid.
	ErrInvalidInput = errs.Markf(os.ErrInvalid, "invalid input")

	// ErrNotBPF is matched when a file is not an ELF object for BPF. It
	// wraps os.ErrInvalid.
	ErrNotBPF = errs.Markf(os.ErrInvalid, "not a BPF object")

	// ErrNotBPFFS is matched when a pin path is not on a BPF filesystem;
	// such errors also match os.ErrInvalid.
	ErrNotBPFFS = bpffs.ErrNotBPFFS

	// ErrVerifier is matched when the kernel verifier rejects a program.
	// The error also answers errors.As for *ebpf.VerifierError, which
	// holds the full log.
	ErrVerifier = errors.New("rejected by the verifier")
)

// LoadOptions control Load. The zero value is the default.
type LoadOptions struct {
	// VerifierLog asks the verifier for its log even when a program
	// passes (Program.VerifierLog). A rejection always carries the log.
	VerifierLog bool
	// TestRun prepares the object for BPF_PROG_RUN rather than for
	// attaching: STRUCT_OPS programs that no struct_ops map claims get
	// their target from their section (SEC("struct_ops/test_1") is
	// bpf_dummy_ops.test_1, the one struct the kernel test-runs), and
	// struct_ops maps are left out, since a test run registers nothing
	// and the kernel refuses to fill bpf_dummy_ops maps.
	TestRun bool
}

// Object is a loaded BPF object: its programs and maps, live in the kernel
// until Close (unless pinned).
type Object struct {
	// Programs are the loaded programs, sorted by name.
	Programs []*Program
	// Maps are the created maps, sorted by name.
	Maps []*Map

	coll *ebpf.Collection
}

// Program is one loaded program of an Object.
type Program struct {
	Name string
	Type ebpf.ProgramType
	ID   ebpf.ProgramID
	// Tag is the kernel's hash of the instructions, as bpftool shows it.
	Tag string
	// Insns is the number of instructions in the object (8-byte slots).
	Insns int
	// VerifiedInsns is how many instructions the verifier processed, zero
	// before Linux 5.16.
	VerifiedInsns uint32
	// HasBTF and HasLineInfo report whether the kernel holds BTF and line
	// info for the program (source lines in the verifier log and bpftool).
	HasBTF, HasLineInfo bool
	// VerifierLog is the verifier's log on success, when
	// LoadOptions.VerifierLog asked for it.
	VerifierLog string

	// Program is the live program; Object.Close closes it.
	Program *ebpf.Program
}

// Load loads every program and map of the ELF object at path.
//
// Errors: a missing file matches os.ErrNotExist; a file that is not a BPF
// object matches ErrNotBPF (and os.ErrInvalid); a program rejected by the
// verifier matches ErrVerifier and reads as verifier.Explain's report;
// missing privileges match os.ErrPermission and name the capability.
func Load(path string, opts *LoadOptions) (*Object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("load %s: %w (give the path of the .o file clang built)", path, err)
		}
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return LoadBytes(path, data, opts)
}

// LoadBytes is Load for an object already in memory; name is used in
// errors.
func LoadBytes(name string, data []byte, opts *LoadOptions) (*Object, error) {
	if opts == nil {
		opts = &LoadOptions{}
	}
	if err := checkELF(data); err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	if opts.TestRun {
		data = hideStructOpsSection(data)
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(data))
	switch {
	case err != nil && bytes.Contains(data, []byte(".struct_ops\x00")) && errors.Is(err, ebpf.ErrNotSupported):
		return nil, fmt.Errorf("load %s: %w: the object names its STRUCT_OPS programs in a \".struct_ops\" section, "+
			"which xdpkit loads only to test-run them (xdpkit run); declare the struct in SEC(\".struct_ops.link\") instead", name, err)
	case errors.Is(err, ebpf.ErrNotSupported):
		return nil, fmt.Errorf("load %s: %w", name, err)
	case err != nil:
		return nil, fmt.Errorf("load %s: parse: %w (%w)", name, err, ErrNotBPF)
	}

	if opts.TestRun {
		PrepareTestRun(spec)
	}
	copts := ebpf.CollectionOptions{}
	if opts.VerifierLog {
		copts.Programs.LogLevel = ebpf.LogLevelInstruction | ebpf.LogLevelStats
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, copts)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, explainLoad(err, spec))
	}

	obj := &Object{coll: coll}
	if err := obj.describe(spec); err != nil {
		obj.Close()
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	return obj, nil
}

// checkELF tells apart files that are not ELF at all, and ELF files built
// for another machine, from BPF objects.
func checkELF(data []byte) error {
	if !bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return fmt.Errorf("the file is not ELF, so %w: compile the C source with clang -target bpf -c", ErrNotBPF)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("broken ELF file (%v), so %w", err, ErrNotBPF)
	}
	defer f.Close()
	if f.Machine != elf.EM_BPF {
		return fmt.Errorf("ELF file for %s, %w: compile with clang -target bpf", f.Machine, ErrNotBPF)
	}
	return nil
}

// explainLoad turns a load error into what a user can act on: missing
// capabilities named, verifier rejections explained.
func explainLoad(err error, spec *ebpf.CollectionSpec) error {
	if err := caps.Explain(err, caps.BPF); errors.Is(err, caps.ErrMissing) {
		return err
	}
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) || len(ve.Log) == 0 {
		return err
	}
	var name string
	var ps *ebpf.ProgramSpec
	for n, p := range spec.Programs {
		if strings.HasPrefix(err.Error(), "program "+n+":") {
			name, ps = n, p
		}
	}
	return &VerifierError{Program: name, err: verifier.Explain(err, ps)}
}

// VerifierError is a program rejected by the verifier. It matches
// ErrVerifier, and errors.As finds the *ebpf.VerifierError with the full
// log in it; it does not match the errno the kernel returned (EACCES,
// EINVAL), which would read as missing privileges or a usage error.
type VerifierError struct {
	Program string // the rejected program's name
	err     error  // verifier.Explain's report, wrapping *ebpf.VerifierError
}

func (e *VerifierError) Error() string {
	if msg := e.err.Error(); strings.Contains(msg, "rejected by the verifier") {
		return msg // verifier.Explain's report already says which program
	}
	if e.Program == "" {
		return fmt.Sprintf("the verifier rejected a program: %v", e.err)
	}
	return fmt.Sprintf("the verifier rejected program %q: %v", e.Program, e.err)
}

// Is makes a VerifierError match ErrVerifier.
func (e *VerifierError) Is(target error) bool { return target == ErrVerifier }

// As finds what the report wraps, such as *ebpf.VerifierError.
func (e *VerifierError) As(target any) bool { return errors.As(e.err, target) }

// Log returns the verifier's full log, one line per element.
func (e *VerifierError) Log() []string {
	var ve *ebpf.VerifierError
	if errors.As(e.err, &ve) {
		return ve.Log
	}
	return nil
}

func (o *Object) describe(spec *ebpf.CollectionSpec) error {
	for name, p := range o.coll.Programs {
		info, err := p.Info()
		if err != nil {
			return fmt.Errorf("program %s: %w", name, err)
		}
		prog := &Program{
			Name:        name,
			Type:        p.Type(),
			Tag:         info.Tag,
			VerifierLog: p.VerifierLog,
			Program:     p,
		}
		if ps := spec.Programs[name]; ps != nil {
			prog.Insns = int(ps.Instructions.Size() / asm.InstructionSize)
		}
		prog.ID, _ = info.ID()
		prog.VerifiedInsns, _ = info.VerifiedInstructions()
		_, prog.HasBTF = info.BTFID()
		if lines, err := info.LineInfos(); err == nil && len(lines) > 0 {
			prog.HasLineInfo = true
		}
		o.Programs = append(o.Programs, prog)
	}
	slices.SortFunc(o.Programs, func(a, b *Program) int { return strings.Compare(a.Name, b.Name) })

	for name, m := range o.coll.Maps {
		ms := spec.Maps[name]
		mm, err := newMap(m, name, ms.Key, ms.Value)
		if err != nil {
			return fmt.Errorf("map %s: %w", name, err)
		}
		mm.owned = false // the collection closes it
		o.Maps = append(o.Maps, mm)
	}
	slices.SortFunc(o.Maps, func(a, b *Map) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

// Pin pins every program and map of o as dir/NAME on a BPF filesystem,
// creating dir if needed, so that they outlive the process. A dir that is
// not on a bpffs gives an error matching ErrNotBPFFS with the mount command;
// an existing pin matches os.ErrExist. On failure the pins made so far (and
// the directories created) are removed.
func (o *Object) Pin(dir string) (err error) {
	if err := bpffs.Check(dir); err != nil {
		return err
	}
	seen := make(map[string]string)
	for _, p := range o.Programs {
		seen[PinName(p.Name)] = "program"
	}
	for _, m := range o.Maps {
		if kind, dup := seen[PinName(m.Name)]; dup {
			return errs.Markf(ErrInvalidInput, "pin to %s: map %q has the pin name of a %s, both cannot be pinned in one directory", dir, m.Name, kind)
		}
		seen[PinName(m.Name)] = "map"
	}

	created, err := mkdirAll(dir)
	if err != nil {
		return fmt.Errorf("pin to %s: %w", dir, err)
	}
	var pinned []string
	defer func() {
		if err == nil {
			return
		}
		for _, p := range pinned {
			_ = os.Remove(p)
		}
		for i := len(created) - 1; i >= 0; i-- {
			_ = os.Remove(created[i])
		}
	}()

	pin := func(name string, do func(string) error) error {
		path := filepath.Join(dir, PinName(name))
		if _, err := os.Lstat(path); err == nil {
			return errs.Markf(os.ErrExist, "pin %s: it exists already: remove it (rm %s) or pin elsewhere", path, path)
		}
		if err := do(path); err != nil {
			return fmt.Errorf("pin %s: %w", path, caps.Explain(err, caps.BPF))
		}
		pinned = append(pinned, path)
		return nil
	}
	for _, p := range o.Programs {
		if err := pin(p.Name, p.Program.Pin); err != nil {
			return err
		}
	}
	for _, m := range o.Maps {
		if err := pin(m.Name, m.Map.Pin); err != nil {
			return err
		}
	}
	return nil
}

// PinName is the file name under which Pin pins an object called name:
// bpffs refuses names with a '.', so the dots of data sections such as
// ".bss" and ".rodata" become '_', as libbpf does ("_bss").
func PinName(name string) string {
	return strings.ReplaceAll(name, ".", "_")
}

// CheckPinName returns an error matching os.ErrInvalid when the last
// element of path cannot name a pin on bpffs.
func CheckPinName(path string) error {
	if base := filepath.Base(path); strings.Contains(base, ".") {
		return errs.Markf(ErrInvalidInput, "pin path %s: bpffs does not accept '.' in names: use %s", path, filepath.Join(filepath.Dir(path), PinName(base)))
	}
	return nil
}

// Close releases o's programs and maps; those pinned stay in the kernel.
func (o *Object) Close() error {
	if o.coll != nil {
		o.coll.Close()
		o.coll = nil
	}
	return nil
}

// mkdirAll is os.MkdirAll that returns the directories it created, the
// outermost first, so that they can be removed again.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	slices.Reverse(missing)
	var created []string
	for _, d := range missing {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			for i := len(created) - 1; i >= 0; i-- {
				_ = os.Remove(created[i])
			}
			return nil, err
		}
		created = append(created, d)
	}
	return created, nil
}

// DefaultBPFFS is where a BPF filesystem is usually mounted.
const DefaultBPFFS = bpffs.Default

// testRunStructOps is the struct_ops type the kernel test-runs.
const testRunStructOps = "bpf_dummy_ops"

// TestRunSpec parses the object at path for BPF_PROG_RUN, as Load with
// LoadOptions.TestRun does: objects with a ".struct_ops" section parse,
// and STRUCT_OPS programs get their targets (see PrepareTestRun). For
// test helpers that load a CollectionSpec themselves.
func TestRunSpec(path string) (*ebpf.CollectionSpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := checkELF(data); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(hideStructOpsSection(data)))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	PrepareTestRun(spec)
	return spec, nil
}

// PrepareTestRun readies spec for BPF_PROG_RUN rather than for attaching
// (see LoadOptions.TestRun): STRUCT_OPS programs that no struct_ops map
// claims get their target from their section, and struct_ops maps are
// left out. Other programs and maps are untouched.
func PrepareTestRun(spec *ebpf.CollectionSpec) {
	for name, m := range spec.Maps {
		if m.Type == ebpf.StructOpsMap {
			delete(spec.Maps, name)
		}
	}
	for _, p := range spec.Programs {
		if p.Type != ebpf.StructOps || p.AttachTo != "" {
			continue
		}
		if _, member, ok := strings.Cut(p.SectionName, "/"); ok && member != "" {
			p.AttachTo = testRunStructOps + ":" + member
		}
	}
}

// hideStructOpsSection renames a ".struct_ops" section, and its name in
// the BTF, to one of the same length that loaders ignore. cilium/ebpf
// v0.22 reads only ".struct_ops.link" and refuses objects with the older
// ".struct_ops" (such as the kernel selftests' dummy_st_ops objects); a
// test run registers no struct, so the section is not needed, and the
// programs get their targets from their section names instead. The data
// is copied before it is changed.
func hideStructOpsSection(data []byte) []byte {
	const from, to = ".struct_ops\x00", ".xdpkit_ign\x00" // also the tail of ".rel.struct_ops"
	if !bytes.Contains(data, []byte(from)) {
		return data
	}
	return bytes.ReplaceAll(data, []byte(from), []byte(to))
}

// SetEntry sets the entry key of the object's map named mapName to value,
// both written as Map.ParseKey and Map.ParseValue read them, except in a
// program array (tail calls), whose value is the name of one of the
// object's programs. It fills maps before a test run, as a C loader does
// with bpf_map_update_elem between loading and running.
func (o *Object) SetEntry(mapName, key, value string) error {
	var m *Map
	var names []string
	for _, mm := range o.Maps {
		if mm.Name == mapName {
			m = mm
		}
		names = append(names, mm.Name)
	}
	if m == nil {
		return errs.Markf(os.ErrNotExist, "no map %q in the object; it has: %s", mapName, strings.Join(names, ", "))
	}
	k, err := m.ParseKey(key)
	if err != nil {
		return err
	}
	if m.Info.Type != ebpf.ProgramArray {
		v, err := m.ParseValue(value)
		if err != nil {
			return err
		}
		return m.Update(k, Value{Bytes: v}, UpdateAny)
	}
	var progs []string
	for _, p := range o.Programs {
		if p.Name == value {
			if err := m.Map.Update(k, p.Program, ebpf.UpdateAny); err != nil {
				return fmt.Errorf("program array %s: %w", mapName, err)
			}
			return nil
		}
		progs = append(progs, p.Name)
	}
	return errs.Markf(os.ErrNotExist, "program array %s: no program %q in the object; it has: %s",
		mapName, value, strings.Join(progs, ", "))
}
