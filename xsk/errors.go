package xsk

import (
	"errors"
	"fmt"
	"os"
)

// Errors that the package's errors match with errors.Is, beside os.ErrInvalid
// for bad configuration, os.ErrNotExist for a missing interface and
// errors.ErrUnsupported for what the kernel or driver cannot do.
var (
	// ErrQueueBusy: the queue already has an AF_XDP socket bound that does
	// not share this socket's UMEM.
	// It matches os.ErrExist too.
	ErrQueueBusy = fmt.Errorf("queue already has an AF_XDP socket: %w", os.ErrExist)
	// ErrZeroCopyUnsupported: zero-copy was asked for on a driver or
	// interface that cannot do it.
	// It matches errors.ErrUnsupported too.
	ErrZeroCopyUnsupported = fmt.Errorf("zero-copy AF_XDP is not supported: %w", errors.ErrUnsupported)
	// ErrQueueRange: the queue id is not one of the interface's queues.
	// It matches os.ErrInvalid too.
	ErrQueueRange = fmt.Errorf("queue out of range: %w", os.ErrInvalid)
	// ErrInUse: the UMEM still has open sockets.
	ErrInUse = errors.New("UMEM still in use")
)
