package xdp

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/verifier"
)

// AttachOptions says what to attach where. Give exactly one of ObjectPath,
// Object and Spec.
type AttachOptions struct {
	// Interface is the name of the interface to attach to.
	Interface string
	// ObjectPath is the path of a BPF ELF object file.
	ObjectPath string
	// Object is a BPF ELF object in memory.
	Object []byte
	// Spec is an already parsed object, such as one from bpf2go.
	Spec *ebpf.CollectionSpec
	// Program is the name of the XDP program to attach. Empty: the
	// object's only XDP program.
	Program string
	// Mode is ModeNative (the default, as for xdp-loader) or ModeGeneric.
	// There is no automatic fallback: when the driver has no native XDP
	// support, Attach fails with an error that suggests ModeGeneric, so
	// that the mode a program runs in is always the one asked for.
	Mode Mode
	// Pin, when set, is a path on a BPF filesystem where the link is
	// pinned, so that the program stays attached after the Attachment is
	// closed and the process exits. Detach removes it.
	Pin string
}

// Validate checks the options without touching the kernel.
func (o AttachOptions) Validate() error {
	if o.Interface == "" {
		return errs.Markf(os.ErrInvalid, "no interface given")
	}
	n := 0
	for _, set := range []bool{o.ObjectPath != "", o.Object != nil, o.Spec != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errs.Markf(os.ErrInvalid, "give exactly one of ObjectPath, Object and Spec (got %d)", n)
	}
	switch o.Mode {
	case "", ModeNative, ModeGeneric:
	case ModeOffload:
		return errs.Markf(errors.ErrUnsupported, "attaching in offload mode is not supported: use native or generic")
	default:
		return errs.Markf(os.ErrInvalid, "mode %q: use native or generic", o.Mode)
	}
	return nil
}

// Attachment is an XDP program attached to an interface through a
// bpf_link. It holds the link and the program's file descriptors; Close
// detaches the program unless the link is pinned.
type Attachment struct {
	info Interface
	prog *ebpf.Program
	maps map[string]*ebpf.Map
	lnk  link.Link
}

// Attach loads the chosen XDP program of an object with the maps it uses
// (and no other program) and attaches it to an interface with a bpf_link
// (Linux >= 5.9) in opts.Mode, pinning the link when opts.Pin is set.
// It needs CAP_BPF and CAP_NET_ADMIN.
//
// Errors match: ErrNoInterface, ErrNoProgram and os.ErrNotExist for what
// does not exist (interface, object file, program); ErrBadObject,
// ErrWrongType, ErrAmbiguous, ErrNotBPFFS and os.ErrInvalid for bad input;
// ErrAlreadyAttached and os.ErrExist when the interface already has an XDP
// program in a conflicting mode (the message names it and how to detach
// it); ebpf.ErrNotSupported when the driver has no native XDP.
// Verifier rejections are explained by verifier.Explain.
func Attach(opts AttachOptions) (_ *Attachment, err error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	mode := opts.Mode
	if mode == "" {
		mode = ModeNative
	}
	nlLink, err := lookupInterface(opts.Interface)
	if err != nil {
		return nil, err
	}
	ifindex := nlLink.Attrs().Index

	spec, source, err := opts.collectionSpec()
	if err != nil {
		return nil, err
	}
	name, err := chooseProgram(spec, source, opts.Program)
	if err != nil {
		return nil, err
	}
	var pin *pinPath
	if opts.Pin != "" {
		if pin, err = checkPinPath(opts.Pin); err != nil {
			return nil, err
		}
	}

	a := &Attachment{}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if a.prog, a.maps, err = load(spec, name); err != nil {
		return nil, err
	}

	a.lnk, err = link.AttachXDP(link.XDPOptions{
		Program:   a.prog,
		Interface: ifindex,
		Flags:     mode.linkFlags(),
	})
	if err != nil {
		return nil, explainAttach(err, opts.Interface, mode)
	}
	if pin != nil {
		if err := pin.mkdir(); err != nil {
			pin.cleanup()
			return nil, err
		}
		if err := a.lnk.Pin(pin.path); err != nil {
			pin.cleanup()
			return nil, fmt.Errorf("pin link at %s: %w", pin.path, err)
		}
	}

	p := Program{Mode: mode, Via: ViaLink, Type: ebpf.XDP, Name: name}
	if info, err := a.prog.Info(); err == nil {
		p.Tag = info.Tag
		if id, ok := info.ID(); ok {
			p.ID = id
		}
	}
	if info, err := a.lnk.Info(); err == nil {
		p.LinkID = info.ID
	}
	if pin != nil {
		p.Pins = []string{pin.path}
	}
	a.info = Interface{Name: opts.Interface, Index: ifindex, Mode: mode, Programs: []Program{p}}
	return a, nil
}

// Info describes the attachment: the interface and the one program
// attached.
func (a *Attachment) Info() Interface {
	info := a.info
	info.Programs = append([]Program(nil), a.info.Programs...)
	return info
}

// Program returns the attached program. It is closed by Close.
func (a *Attachment) Program() *ebpf.Program { return a.prog }

// Map returns the map called name that the program uses, or nil. It is
// closed by Close.
func (a *Attachment) Map(name string) *ebpf.Map { return a.maps[name] }

// Link returns the bpf_link. It is closed by Close.
func (a *Attachment) Link() link.Link { return a.lnk }

// Pinned reports whether the link is pinned, so that Close leaves the
// program attached.
func (a *Attachment) Pinned() bool {
	return len(a.info.Programs) == 1 && len(a.info.Programs[0].Pins) > 0
}

// Close releases the link, the program and its maps. The program is
// detached unless the link is pinned (see Pinned); then Detach removes it.
func (a *Attachment) Close() error {
	return a.close()
}

func (a *Attachment) close() error {
	var errs []error
	if a.lnk != nil {
		errs = append(errs, a.lnk.Close())
		a.lnk = nil
	}
	if a.prog != nil {
		errs = append(errs, a.prog.Close())
		a.prog = nil
	}
	for name, m := range a.maps {
		errs = append(errs, m.Close())
		delete(a.maps, name)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close XDP attachment: %w", err)
	}
	return nil
}

// collectionSpec parses the object of opts and returns it with a name for
// it in messages.
func (o AttachOptions) collectionSpec() (*ebpf.CollectionSpec, string, error) {
	switch {
	case o.Spec != nil:
		return o.Spec, "object", nil
	case o.Object != nil:
		spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(o.Object))
		if err != nil {
			return nil, "", badObject("object", err)
		}
		return spec, "object", nil
	}
	path := o.ObjectPath
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", &Error{Msg: fmt.Sprintf("object file %s does not exist", path), Kind: os.ErrNotExist, Cause: err}
		}
		return nil, "", fmt.Errorf("object file: %w", err)
	}
	if st.IsDir() {
		return nil, "", newError(ErrBadObject, nil, "%s is a directory, not a BPF object file", path)
	}
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, "", badObject(path, err)
	}
	return spec, path, nil
}

// badObject explains why an object could not be parsed.
func badObject(name string, err error) error {
	if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("load %s: %w", name, err)
	}
	return newError(ErrBadObject, err,
		"%s is not a BPF ELF object (%v): compile it with clang -target bpf -O2 -g -c prog.c", name, err)
}

// chooseProgram picks the program to attach: the one named name, or the
// object's only XDP program.
func chooseProgram(spec *ebpf.CollectionSpec, source, name string) (string, error) {
	var xdps []string
	for n, p := range spec.Programs {
		if p.Type == ebpf.XDP {
			xdps = append(xdps, n)
		}
	}
	sort.Strings(xdps)
	list := strings.Join(xdps, ", ")
	if len(xdps) == 0 {
		list = "none"
	}

	if name != "" {
		p, ok := spec.Programs[name]
		if !ok {
			return "", newError(ErrNoProgram, nil, "%s has no program %q; its XDP programs: %s", source, name, list)
		}
		if p.Type != ebpf.XDP {
			return "", newError(ErrWrongType, nil, "program %q is %s, not XDP; the XDP programs of %s: %s", name, p.Type, source, list)
		}
		return name, nil
	}
	switch len(xdps) {
	case 0:
		return "", newError(ErrNoProgram, nil, "%s has no XDP program (section \"xdp\")", source)
	case 1:
		return xdps[0], nil
	}
	return "", newError(ErrAmbiguous, nil, "%s has %d XDP programs (%s): choose one with --prog", source, len(xdps), list)
}

// load loads the program called name and the maps it uses, and no other
// program: an object may hold programs this kernel cannot load. Program
// arrays with initial contents are loaded too (and the programs they
// hold), so that tail calls work.
func load(spec *ebpf.CollectionSpec, name string) (*ebpf.Program, map[string]*ebpf.Map, error) {
	// LoadAndAssign loads exactly what a struct asks for; build one that
	// asks for this program and its maps.
	mapNames := usedMaps(spec, name)
	fields := []reflect.StructField{{
		Name: "Prog",
		Type: reflect.TypeFor[*ebpf.Program](),
		Tag:  reflect.StructTag(fmt.Sprintf("ebpf:%q", name)),
	}}
	for i, m := range mapNames {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("Map%d", i),
			Type: reflect.TypeFor[*ebpf.Map](),
			Tag:  reflect.StructTag(fmt.Sprintf("ebpf:%q", m)),
		})
	}
	objs := reflect.New(reflect.StructOf(fields))
	if err := spec.LoadAndAssign(objs.Interface(), nil); err != nil {
		err = verifier.Explain(err, spec.Programs[name])
		return nil, nil, fmt.Errorf("load program %q: %w", name, err)
	}
	v := objs.Elem()
	prog := v.Field(0).Interface().(*ebpf.Program)
	maps := make(map[string]*ebpf.Map, len(mapNames))
	for i, m := range mapNames {
		maps[m] = v.Field(i + 1).Interface().(*ebpf.Map)
	}
	return prog, maps, nil
}

// usedMaps returns the names of the maps the program called name refers
// to, and of the program arrays with initial contents.
func usedMaps(spec *ebpf.CollectionSpec, name string) []string {
	seen := make(map[string]bool)
	var names []string
	add := func(n string) {
		if _, ok := spec.Maps[n]; ok && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, ins := range spec.Programs[name].Instructions {
		if ins.IsLoadFromMap() {
			add(ins.Reference())
		}
	}
	for n, m := range spec.Maps {
		if m.Type == ebpf.ProgramArray && len(m.Contents) > 0 {
			add(n)
		}
	}
	sort.Strings(names)
	return names
}

// explainAttach turns the kernel's refusal to attach into an error that
// says what is in the way and what to do.
func explainAttach(err error, iface string, mode Mode) error {
	switch {
	case isErrno(err, unix.EBUSY, unix.EEXIST):
		what, why := "another XDP program", ""
		if ifaces, _ := Status(iface); len(ifaces) == 1 && len(ifaces[0].Programs) > 0 {
			var descs []string
			for _, p := range ifaces[0].Programs {
				descs = append(descs, p.Describe())
				if p.Mode != mode {
					why = " (native and generic XDP cannot be active at once)"
				}
			}
			what = "XDP program " + strings.Join(descs, " and ")
		}
		return newError(ErrAlreadyAttached, err,
			"%s already has %s attached%s: detach it first with xdpkit detach %s",
			iface, what, why, iface)
	case isErrno(err, unix.EOPNOTSUPP) && mode == ModeNative:
		return &Error{
			Msg:   fmt.Sprintf("the driver of %s does not support native XDP: use generic mode (--mode generic)", iface),
			Kind:  ebpf.ErrNotSupported,
			Cause: err,
		}
	case errors.Is(err, ebpf.ErrNotSupported):
		return fmt.Errorf("attach XDP to %s: bpf_link for XDP needs Linux >= 5.9: %w", iface, err)
	}
	return fmt.Errorf("attach XDP to %s in %s mode: %w", iface, mode, err)
}
