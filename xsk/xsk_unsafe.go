package xsk

// All of the package's unsafe code: the ring mappings seen as Go values,
// and UMEM addresses turned into slices.

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapRing maps one ring of fd (pgoff is its XDP_PGOFF_* or
// XDP_UMEM_PGOFF_* offset) with entries entries of entrySize bytes, and
// returns the shared words and a pointer to the first entry.
func mapRing(fd int, pgoff int64, off unix.XDPRingOffset, entries uint32, entrySize uintptr, name string) (ring, unsafe.Pointer, error) {
	length := int(off.Desc) + int(entries)*int(entrySize)
	mem, err := unix.Mmap(fd, pgoff, length, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return ring{}, nil, fmt.Errorf("mapping the %s ring (%d entries): %w", name, entries, os.NewSyscallError("mmap", err))
	}
	base := unsafe.Pointer(unsafe.SliceData(mem))
	r := ring{
		producer: (*uint32)(unsafe.Add(base, off.Producer)),
		consumer: (*uint32)(unsafe.Add(base, off.Consumer)),
		flags:    (*uint32)(unsafe.Add(base, off.Flags)),
		mask:     entries - 1,
		size:     entries,
		mapping:  mem,
	}
	return r, unsafe.Add(base, off.Desc), nil
}

// unmap releases a ring's mapping; the ring must not be used afterwards.
func (r *ring) unmap() error {
	if r.mapping == nil {
		return nil
	}
	err := unix.Munmap(r.mapping)
	r.mapping = nil
	return err
}

func mapFill(fd int, off unix.XDPRingOffset, entries uint32) (*FillRing, error) {
	r, p, err := mapRing(fd, unix.XDP_UMEM_PGOFF_FILL_RING, off, entries, 8, "FILL")
	if err != nil {
		return nil, err
	}
	r.initProducer()
	return &FillRing{ring: r, addrs: unsafe.Slice((*uint64)(p), entries)}, nil
}

func mapCompletion(fd int, off unix.XDPRingOffset, entries uint32) (*CompletionRing, error) {
	r, p, err := mapRing(fd, unix.XDP_UMEM_PGOFF_COMPLETION_RING, off, entries, 8, "COMPLETION")
	if err != nil {
		return nil, err
	}
	r.initConsumer()
	return &CompletionRing{ring: r, addrs: unsafe.Slice((*uint64)(p), entries)}, nil
}

func mapRx(fd int, off unix.XDPRingOffset, entries uint32) (*RxRing, error) {
	r, p, err := mapRing(fd, unix.XDP_PGOFF_RX_RING, off, entries, unsafe.Sizeof(Desc{}), "RX")
	if err != nil {
		return nil, err
	}
	r.initConsumer()
	return &RxRing{ring: r, descs: unsafe.Slice((*Desc)(p), entries)}, nil
}

func mapTx(fd int, off unix.XDPRingOffset, entries uint32) (*TxRing, error) {
	r, p, err := mapRing(fd, unix.XDP_PGOFF_TX_RING, off, entries, unsafe.Sizeof(Desc{}), "TX")
	if err != nil {
		return nil, err
	}
	r.initProducer()
	return &TxRing{ring: r, descs: unsafe.Slice((*Desc)(p), entries)}, nil
}

// Desc must have struct xdp_desc's layout.
var _ = [1]struct{}{}[unsafe.Sizeof(Desc{})-16]
