// Package xdp attaches XDP programs to network interfaces, detaches them and
// reports which programs are attached, like xdp-loader does.
//
// Attach uses a bpf_link (Linux >= 5.9): the program stays attached only as
// long as the link is open, so nothing is left behind when the process exits
// or crashes, unless the link was pinned on a BPF filesystem on purpose
// (AttachOptions.Pin). Detach removes both kinds of attachment: bpf_links
// (BPF_LINK_DETACH, and every pin of the link it finds) and programs attached
// through netlink the legacy way (ip link set dev X xdp obj ...).
//
// Status reads the attached program ids per mode from netlink
// (IFLA_XDP_DRV_PROG_ID, IFLA_XDP_SKB_PROG_ID, IFLA_XDP_HW_PROG_ID), tells
// bpf_links from netlink attachments by asking netlink whether a link owns
// the hook (a no-op replace that the kernel refuses with EBUSY for a
// link), finds the link among the kernel's links, and names programs from
// their kernel info. Reading netlink needs no privilege; program info and
// link iteration need CAP_SYS_ADMIN, the probe CAP_NET_ADMIN.
//
// bpf_links do not record their network namespace: when several
// namespaces have the same program linked to interfaces with the same
// index, Status says a link holds the program without saying which
// (Program.LinkCandidates) and Detach refuses to choose.
//
// Everything happens in the network namespace of the calling thread.
package xdp

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/bpffs"
	"github.com/xdpkit/xdpkit/internal/errs"
)

// Mode is how an XDP program is hooked into an interface's receive path.
type Mode string

// The XDP modes. The zero Mode means "the default" in AttachOptions
// (ModeNative) and "every mode" in DetachOptions.
const (
	// ModeNative runs the program in the driver (XDP_FLAGS_DRV_MODE), before
	// any socket buffer is allocated. The driver must support XDP.
	ModeNative Mode = "native"
	// ModeGeneric runs the program after the socket buffer is built
	// (XDP_FLAGS_SKB_MODE): slower, but works on every interface.
	ModeGeneric Mode = "generic"
	// ModeOffload runs the program on the NIC (XDP_FLAGS_HW_MODE). Status
	// reports it; Attach does not support it.
	ModeOffload Mode = "offload"
	// ModeMulti is reported by Status for an interface with programs in
	// several modes at once (offload plus native or generic).
	ModeMulti Mode = "multi"
)

// ParseMode parses the name of an XDP mode as users type it: "native" (or
// "driver", "drv"), "generic" (or "skb"), "offload" (or "hw"). The empty
// string is the zero Mode.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "":
		return "", nil
	case "native", "driver", "drv":
		return ModeNative, nil
	case "generic", "skb":
		return ModeGeneric, nil
	case "offload", "hw":
		return ModeOffload, nil
	}
	return "", errs.Markf(os.ErrInvalid, "unknown XDP mode %q: the modes are native (or driver, drv), generic (or skb) and offload (or hw)", s)
}

// linkFlags returns the attach flags of m for a bpf_link.
func (m Mode) linkFlags() link.XDPAttachFlags {
	switch m {
	case ModeGeneric:
		return link.XDPGenericMode
	case ModeOffload:
		return link.XDPOffloadMode
	default:
		return link.XDPDriverMode
	}
}

// netlinkFlags returns the IFLA_XDP_FLAGS of m.
func (m Mode) netlinkFlags() int {
	switch m {
	case ModeGeneric:
		return unix.XDP_FLAGS_SKB_MODE
	case ModeOffload:
		return unix.XDP_FLAGS_HW_MODE
	default:
		return unix.XDP_FLAGS_DRV_MODE
	}
}

// Via is how a program is attached to its interface.
type Via string

// The ways a program can be attached. The zero Via means unknown: finding
// out needs CAP_SYS_ADMIN (see ErrIncomplete).
const (
	// ViaLink is a bpf_link: it detaches when its last reference (an open
	// file descriptor or a pin on a BPF filesystem) goes away.
	ViaLink Via = "link"
	// ViaNetlink is the legacy attachment through netlink (IFLA_XDP_FD),
	// as by ip link set dev X xdp obj ...: it stays until removed.
	ViaNetlink Via = "netlink"
)

// Interface is a network interface and the XDP programs attached to it.
type Interface struct {
	Name  string
	Index int
	// Mode is the interface's XDP attach mode as netlink reports it:
	// empty when no program is attached, ModeMulti with several.
	Mode     Mode
	Programs []Program
}

// Program is an XDP program attached to an interface. Name, Tag, Type, Via,
// LinkID and Pins are known only with CAP_SYS_ADMIN (see ErrIncomplete).
type Program struct {
	ID   ebpf.ProgramID
	Name string
	Tag  string
	Type ebpf.ProgramType
	Mode Mode
	Via  Via
	// LinkID is the bpf_link holding the program when Via is ViaLink, or
	// 0 when that link cannot be told apart from links of other network
	// namespaces (see LinkCandidates).
	LinkID link.ID
	// LinkCandidates, set only when Via is ViaLink and LinkID is 0, are
	// the XDP links with this program and interface index. A link does not
	// say its network namespace and ifindexes are per namespace (lo is 1
	// in each), so when several namespaces have the program attached
	// through a link to an interface with this index, one of them is this
	// interface's and the kernel does not say which.
	LinkCandidates []link.ID
	// Pins are the paths on mounted BPF filesystems where the link is
	// pinned; empty when it is held only by a process or LinkID is 0.
	Pins []string
}

// Describe returns a short human description such as
// `xdp_pass (id 42, native mode, link 7)`.
func (p Program) Describe() string {
	name := p.Name
	if name == "" {
		name = "program"
	}
	via := "attached via netlink"
	switch p.Via {
	case ViaLink:
		via = fmt.Sprintf("link %d", p.LinkID)
		if p.LinkID == 0 {
			via = "link ?"
		}
	case "":
		via = "attach type unknown"
	}
	return fmt.Sprintf("%s (id %d, %s mode, %s)", name, p.ID, p.Mode, via)
}

// Errors of this package, matched with errors.Is. Each also matches the os
// sentinel named in its comment, which the CLI maps to an exit code.
var (
	// ErrNoInterface: the interface does not exist (os.ErrNotExist).
	ErrNoInterface error = &kind{"no such interface", os.ErrNotExist}
	// ErrNotAttached: no XDP program to detach (os.ErrNotExist).
	ErrNotAttached error = &kind{"no XDP program attached", os.ErrNotExist}
	// ErrNoProgram: the object has no such program (os.ErrNotExist).
	ErrNoProgram error = &kind{"no such program", os.ErrNotExist}
	// ErrAlreadyAttached: the interface already has an XDP program in a
	// conflicting mode (os.ErrExist).
	ErrAlreadyAttached error = &kind{"XDP program already attached", os.ErrExist}
	// ErrBadObject: the file is not a BPF ELF object (os.ErrInvalid).
	ErrBadObject error = &kind{"not a BPF object", os.ErrInvalid}
	// ErrWrongType: the program is not an XDP program (os.ErrInvalid).
	ErrWrongType error = &kind{"not an XDP program", os.ErrInvalid}
	// ErrAmbiguous: the object has several XDP programs and none was
	// chosen (os.ErrInvalid).
	ErrAmbiguous error = &kind{"several XDP programs", os.ErrInvalid}
	// ErrNotBPFFS: a pin path is not on a BPF filesystem (os.ErrInvalid).
	ErrNotBPFFS = bpffs.ErrNotBPFFS
	// ErrAmbiguousLink: a bpf_link holds the program to detach, but
	// several XDP links of different network namespaces match the
	// interface index and program, and the kernel does not say which is
	// this namespace's (matches no os sentinel).
	ErrAmbiguousLink error = &kind{"bpf_link of another network namespace may match", nil}
	// ErrIncomplete: Status could read netlink but not the programs' info
	// or the kernel's links, for lack of CAP_SYS_ADMIN (os.ErrPermission).
	ErrIncomplete error = &kind{"XDP status incomplete", os.ErrPermission}
)

// kind is a sentinel error that also matches an os sentinel.
type kind struct {
	msg string
	os  error
}

func (k *kind) Error() string        { return k.msg }
func (k *kind) Is(target error) bool { return target == k.os }

// Error is the error type of this package: a message that names the
// problem and the fix, the sentinel it matches and the underlying cause.
type Error struct {
	Msg   string
	Kind  error // a sentinel: one of the Err variables, or ebpf.ErrNotSupported
	Cause error // may be nil
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns Kind and Cause, so that errors.Is matches both.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

func newError(k error, cause error, format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), Kind: k, Cause: cause}
}

// isErrno reports whether err is one of the errnos.
func isErrno(err error, errnos ...unix.Errno) bool {
	for _, e := range errnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
