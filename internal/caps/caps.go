// Package caps checks the Linux capabilities a command needs before it
// touches the kernel, so that a missing privilege is reported by name
// ("needs CAP_NET_ADMIN") instead of as a bare EPERM halfway through.
package caps

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Cap is a Linux capability number.
type Cap uint

// The capabilities xdpkit's commands need.
const (
	NetAdmin Cap = unix.CAP_NET_ADMIN // netns, veth, XDP attach, AF_XDP
	NetRaw   Cap = unix.CAP_NET_RAW   // AF_XDP sockets
	SysAdmin Cap = unix.CAP_SYS_ADMIN // BPF on kernels before 5.8; stands in for BPF
	Perfmon  Cap = unix.CAP_PERFMON   // pointer-leaking programs, tracing
	BPF      Cap = unix.CAP_BPF       // bpf(): maps, programs (Linux >= 5.8)
)

// ErrMissing is matched (errors.Is) by every error Require returns. It wraps
// os.ErrPermission.
var ErrMissing = fmt.Errorf("missing capability: %w", os.ErrPermission)

// String returns the capability's name, such as CAP_NET_ADMIN.
func (c Cap) String() string {
	switch c {
	case NetAdmin:
		return "CAP_NET_ADMIN"
	case SysAdmin:
		return "CAP_SYS_ADMIN"
	case Perfmon:
		return "CAP_PERFMON"
	case BPF:
		return "CAP_BPF"
	case NetRaw:
		return "CAP_NET_RAW"
	}
	return fmt.Sprintf("CAP_%d", uint(c))
}

// Effective returns the calling thread's effective capability set as a
// bitmask indexed by Cap.
func Effective() (uint64, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, fmt.Errorf("capget: %w", err)
	}
	return uint64(data[0].Effective) | uint64(data[1].Effective)<<32, nil
}

// Have reports whether the calling thread has c in its effective set.
// CAP_SYS_ADMIN stands in for CAP_BPF, as the kernel allows.
func Have(c Cap) bool {
	eff, err := Effective()
	if err != nil {
		return false
	}
	if eff&(1<<c) != 0 {
		return true
	}
	return c == BPF && eff&(1<<SysAdmin) != 0
}

// Require returns nil when the calling thread holds every capability in
// need, and otherwise an error that names the missing ones and how to get
// them. It matches ErrMissing and os.ErrPermission.
func Require(need ...Cap) error {
	var missing []string
	for _, c := range need {
		if !Have(c) {
			missing = append(missing, c.String())
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &MissingError{Caps: missing}
}

// MissingError names the capabilities a command lacks.
type MissingError struct {
	Caps []string // names such as CAP_BPF
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("this needs %s: run it as root (sudo xdpkit ...) or grant the capabilities with setcap %s+ep",
		strings.Join(e.Caps, " and "), strings.ToLower(strings.Join(e.Caps, ",")))
}

// Is makes a MissingError match ErrMissing and os.ErrPermission.
func (e *MissingError) Is(target error) bool {
	return target == ErrMissing || target == os.ErrPermission
}

// Explain turns a bare EPERM or EACCES from the kernel into an error that
// names the capabilities the operation needs; other errors are returned
// unchanged.
func Explain(err error, need ...Cap) error {
	if err == nil || !errors.Is(err, os.ErrPermission) {
		return err
	}
	var m *MissingError
	if errors.As(err, &m) {
		return err
	}
	if req := Require(need...); req != nil {
		return fmt.Errorf("%w (%v)", req, err)
	}
	return err
}
