package xsk

import "errors"

// Errors that the package's errors match with errors.Is, beside os.ErrInvalid
// for bad configuration, os.ErrNotExist for a missing interface and
// errors.ErrUnsupported for what the kernel or driver cannot do.
var (
	// ErrQueueBusy: the queue already has an AF_XDP socket bound that does
	// not share this socket's UMEM.
	ErrQueueBusy = errors.New("queue already has an AF_XDP socket")
	// ErrZeroCopyUnsupported: zero-copy was asked for on a driver or
	// interface that cannot do it.
	ErrZeroCopyUnsupported = errors.New("zero-copy AF_XDP is not supported")
	// ErrQueueRange: the queue id is not one of the interface's queues.
	ErrQueueRange = errors.New("queue out of range")
	// ErrInUse: the UMEM still has open sockets.
	ErrInUse = errors.New("UMEM still in use")
)
