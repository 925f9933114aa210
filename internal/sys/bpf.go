// Package sys holds the few raw system calls that cilium/ebpf and
// golang.org/x/sys do not offer in a usable form. Nothing else in xdpkit
// calls unix.Syscall: every raw call is here, with its ABI struct, in one
// place to audit.
package sys

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bpfMapInfo is struct bpf_map_info up to map_extra (Linux 5.16); the
// kernel fills what it knows and ignores the size it is given beyond that.
type bpfMapInfo struct {
	Type                  uint32
	ID                    uint32
	KeySize               uint32
	ValueSize             uint32
	MaxEntries            uint32
	MapFlags              uint32
	Name                  [16]byte
	Ifindex               uint32
	BTFVmlinuxValueTypeID uint32
	NetnsDev              uint64
	NetnsIno              uint64
	BTFID                 uint32
	BTFKeyTypeID          uint32
	BTFValueTypeID        uint32
	BTFVmlinuxID          uint32
	MapExtra              uint64
}

// objInfoAttr is the info member of union bpf_attr. The pointer is an
// unsafe.Pointer so that the garbage collector sees it. On 32-bit
// little-endian hosts the struct is 12 bytes and the kernel zero-fills the
// pointer's upper half; there is no trailing padding to leave garbage in.
type objInfoAttr struct {
	fd      uint32
	infoLen uint32
	info    unsafe.Pointer
}

// (cilium/ebpf's MapInfo does not expose btf_key_type_id and
// btf_value_type_id, which are needed to format the maps of other processes.)
//
// MapBTFIDs returns the BTF object id and the key and value type ids of the
// map behind fd; zero ids mean the map has no BTF for them. cilium/ebpf's
// MapInfo does not expose btf_key_type_id and btf_value_type_id, which are
// needed to format the maps that other processes made.
func MapBTFIDs(fd int) (btfID, keyID, valueID uint32, err error) {
	info := new(bpfMapInfo)
	attr := objInfoAttr{
		fd:      uint32(fd),
		infoLen: uint32(unsafe.Sizeof(*info)),
		info:    unsafe.Pointer(info),
	}
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_OBJ_GET_INFO_BY_FD, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return 0, 0, 0, fmt.Errorf("map info: %w", os.NewSyscallError("bpf", errno))
	}
	return info.BTFID, info.BTFKeyTypeID, info.BTFValueTypeID, nil
}
