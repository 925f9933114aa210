package xsk

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/internal/sys"
)

// Defaults of UmemConfig and SocketConfig: libxdp's.
const (
	DefaultFrameSize = 4096
	DefaultNumFrames = 4096
	DefaultRingSize  = 2048
)

// PacketHeadroom is XDP_PACKET_HEADROOM: the kernel keeps this many bytes
// before a received frame's data, after the UMEM headroom.
const PacketHeadroom = unix.XDP_PACKET_HEADROOM

// maxRingSize bounds ring sizes to what a sane process maps.
const maxRingSize = 1 << 20

// UmemConfig describes a UMEM. The zero value is valid: 4096 frames of 4096
// bytes (16 MiB), no headroom, aligned chunks, FILL and COMPLETION rings of
// 2048 entries.
type UmemConfig struct {
	// FrameSize is the size of each chunk: 2048 or 4096 (the page size).
	// With UnalignedChunks any size from 2048 to 4096.
	FrameSize uint32
	// NumFrames is how many chunks the UMEM has. It must back the FILL and
	// COMPLETION rings of the first socket: at least FillSize+CompletionSize.
	NumFrames uint32
	// Headroom is room the kernel leaves before each received frame (after
	// its own XDP_PACKET_HEADROOM), for the process to prepend headers.
	Headroom uint32
	// UnalignedChunks lets frames start anywhere (XDP_UMEM_UNALIGNED_CHUNK_FLAG):
	// descriptor addresses then carry an offset in their top 16 bits.
	UnalignedChunks bool
	// FillSize and CompletionSize are the entries of the FILL and
	// COMPLETION rings of each socket that has its own: powers of two.
	FillSize       uint32
	CompletionSize uint32
}

func (c UmemConfig) withDefaults() UmemConfig {
	if c.FrameSize == 0 {
		c.FrameSize = DefaultFrameSize
	}
	if c.NumFrames == 0 {
		c.NumFrames = DefaultNumFrames
	}
	if c.FillSize == 0 {
		c.FillSize = DefaultRingSize
	}
	if c.CompletionSize == 0 {
		c.CompletionSize = DefaultRingSize
	}
	return c
}

// Validate checks the configuration, with its defaults filled in, without
// touching the kernel. Its errors match os.ErrInvalid.
func (c UmemConfig) Validate() error {
	c = c.withDefaults()
	if c.UnalignedChunks {
		if c.FrameSize < 2048 || c.FrameSize > 4096 {
			return errs.Markf(os.ErrInvalid, "frame size %d: with unaligned chunks use 2048 to 4096 bytes", c.FrameSize)
		}
	} else if c.FrameSize != 2048 && c.FrameSize != 4096 {
		return errs.Markf(os.ErrInvalid, "frame size %d: use 2048 or 4096 (or unaligned chunks for sizes in between)", c.FrameSize)
	}
	if uint64(c.Headroom)+PacketHeadroom >= uint64(c.FrameSize) {
		return errs.Markf(os.ErrInvalid, "headroom %d leaves no room for data in a %d-byte frame (the kernel keeps %d more): use at most %d",
			c.Headroom, c.FrameSize, PacketHeadroom, c.FrameSize-PacketHeadroom-1)
	}
	if err := checkRingSize("FILL", c.FillSize); err != nil {
		return err
	}
	if err := checkRingSize("COMPLETION", c.CompletionSize); err != nil {
		return err
	}
	if uint64(c.NumFrames) < uint64(c.FillSize)+uint64(c.CompletionSize) {
		return errs.Markf(os.ErrInvalid, "UMEM too small for the rings: %d frames cannot back a %d-entry FILL ring and a %d-entry COMPLETION ring; use %d frames or more, or smaller rings",
			c.NumFrames, c.FillSize, c.CompletionSize, c.FillSize+c.CompletionSize)
	}
	if uint64(c.NumFrames)*uint64(c.FrameSize) > 1<<40 {
		return errs.Markf(os.ErrInvalid, "UMEM of %d frames of %d bytes is too large", c.NumFrames, c.FrameSize)
	}
	return nil
}

func checkRingSize(name string, n uint32) error {
	if n == 0 || n&(n-1) != 0 || n > maxRingSize {
		return errs.Markf(os.ErrInvalid, "%s ring size %d is not a power of two between 1 and %d: try %d", name, n, maxRingSize, nextPow2(n))
	}
	return nil
}

func nextPow2(n uint32) uint32 {
	p := uint32(1)
	for p < n && p < maxRingSize {
		p <<= 1
	}
	return p
}

// Umem is a registered UMEM: the frame memory and the socket it was
// registered on, which becomes the first Socket made with it. Frames are
// addressed by their byte offset in the memory ("UMEM address").
type Umem struct {
	cfg UmemConfig
	mem []byte
	fd  int
	// netns is the network namespace fd's socket belongs to (netnsID),
	// where the first socket binds.
	netns uint64

	mu      sync.Mutex
	sockets int
	first   *Socket      // the socket bound on fd, once bound
	rings   []*umemRings // the FILL and COMPLETION rings in use, one per queue
	closed  bool
}

// NewUmem maps the frame memory and registers it with the kernel
// (XDP_UMEM_REG). It needs CAP_NET_RAW. The memory is locked by the
// kernel: RLIMIT_MEMLOCK must allow it (root's usually does). The
// registration socket, which becomes the first Socket, belongs to the
// calling thread's network namespace: make the UMEM in the namespace of
// the interface its first socket binds to.
func NewUmem(cfg UmemConfig) (_ *Umem, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	size := int(cfg.NumFrames) * int(cfg.FrameSize)
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("allocating a %d-byte UMEM: %w", size, os.NewSyscallError("mmap", err))
	}
	defer func() {
		if err != nil {
			unix.Munmap(mem)
		}
	}()
	fd, err := registerUmem(mem, cfg)
	if err != nil {
		return nil, err
	}
	return &Umem{cfg: cfg, mem: mem, fd: fd, netns: netnsID()}, nil
}

// registerUmem opens an AF_XDP socket and registers mem on it.
func registerUmem(mem []byte, cfg UmemConfig) (int, error) {
	fd, err := sys.XSKSocket()
	if err != nil {
		return -1, explainSocketErr(err)
	}
	var flags uint32
	if cfg.UnalignedChunks {
		flags |= unix.XDP_UMEM_UNALIGNED_CHUNK_FLAG
	}
	if err := sys.XSKRegisterUmem(fd, mem, cfg.FrameSize, cfg.Headroom, flags); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EINVAL) && cfg.Headroom > cfg.FrameSize/2 {
			// Recent kernels (6.18.y among them) also keep room for a
			// struct skb_shared_info (320 bytes on 64-bit) and 128
			// bytes of data, which Validate cannot know of.
			return -1, fmt.Errorf("registering a UMEM of %d frames of %d bytes: the kernel refuses a headroom of %d bytes (newer kernels keep about %d bytes of a frame for themselves): use a smaller headroom: %w",
				cfg.NumFrames, cfg.FrameSize, cfg.Headroom, PacketHeadroom+320+128, err)
		}
		if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.ENOMEM) {
			return -1, memlockError(len(mem), err)
		}
		return -1, fmt.Errorf("registering a UMEM of %d frames of %d bytes: %w", cfg.NumFrames, cfg.FrameSize, err)
	}
	return fd, nil
}

// memlockError explains a UMEM the kernel could not lock: without
// CAP_IPC_LOCK it must fit under RLIMIT_MEMLOCK. It matches
// os.ErrPermission.
func memlockError(size int, err error) error {
	limit := "unknown"
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl) == nil {
		limit = mib(rl.Cur)
		if rl.Cur == unix.RLIM_INFINITY {
			limit = "unlimited"
		}
	}
	return errs.Markf(os.ErrPermission, "registering a UMEM of %s: the kernel could not lock it in memory (%w): the locked-memory limit is %s; raise it (ulimit -l), grant CAP_IPC_LOCK, or use a smaller UMEM (fewer frames, smaller rings)",
		mib(uint64(size)), err, limit)
}

func mib(n uint64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// renewFD replaces the registration socket with a new one after its bind
// failed: the kernel takes a socket's ring sizes only once, so the old
// one could not be bound again. If registering anew fails, the old one
// stays (and the next bind fails).
func (u *Umem) renewFD() {
	fd, err := registerUmem(u.mem, u.cfg)
	if err != nil {
		return
	}
	unix.Close(u.fd)
	u.fd = fd
}

// Config returns the configuration with its defaults filled in.
func (u *Umem) Config() UmemConfig { return u.cfg }

// FrameSize returns the size of a frame (chunk).
func (u *Umem) FrameSize() uint32 { return u.cfg.FrameSize }

// NumFrames returns how many frames the UMEM has.
func (u *Umem) NumFrames() uint32 { return u.cfg.NumFrames }

// FrameAddr returns the UMEM address of frame i (0 <= i < NumFrames).
func (u *Umem) FrameAddr(i uint32) uint64 { return uint64(i) * uint64(u.cfg.FrameSize) }

// unalignedAddrMask keeps the base of an address in unaligned mode; the
// top 16 bits are an offset (XSK_UNALIGNED_BUF_OFFSET_SHIFT).
const (
	unalignedOffsetShift = 48
	unalignedAddrMask    = 1<<unalignedOffsetShift - 1
)

// offset returns where a descriptor's data starts in the memory.
func (u *Umem) offset(addr uint64) uint64 {
	if u.cfg.UnalignedChunks {
		return addr&unalignedAddrMask + addr>>unalignedOffsetShift
	}
	return addr
}

// Data returns the length bytes of a frame at UMEM address addr, as a
// descriptor gives them, aliasing the UMEM (no copy). The slice's capacity
// runs to the end of the frame's chunk, so a frame may grow in place. It
// panics when the descriptor lies outside the UMEM, as slicing does.
func (u *Umem) Data(addr uint64, length uint32) []byte {
	off := u.offset(addr)
	end := (off &^ uint64(u.cfg.FrameSize-1)) + uint64(u.cfg.FrameSize)
	if u.cfg.UnalignedChunks {
		// The chunk starts at the address's base, not at the data.
		end = addr&unalignedAddrMask + uint64(u.cfg.FrameSize)
		if end > uint64(len(u.mem)) {
			end = uint64(len(u.mem))
		}
	}
	return u.mem[off : off+uint64(length) : end]
}

// Chunk returns the address of the start of the chunk that holds addr:
// what the FILL ring takes back after a frame was received there.
func (u *Umem) Chunk(addr uint64) uint64 {
	if u.cfg.UnalignedChunks {
		return addr & unalignedAddrMask
	}
	return addr &^ uint64(u.cfg.FrameSize-1)
}

// TxAddr returns the address to put in a TX descriptor for a frame whose
// data starts at offset off of chunk (Chunk's address).
func (u *Umem) TxAddr(chunk uint64, off uint32) uint64 {
	if u.cfg.UnalignedChunks {
		return chunk + uint64(off)<<unalignedOffsetShift
	}
	return chunk + uint64(off)
}

// Close unmaps the memory and closes the registration socket. Close the
// sockets first: with sockets still open it returns ErrInUse and keeps
// everything as it was.
func (u *Umem) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return nil
	}
	if u.sockets > 0 {
		return errs.Markf(ErrInUse, "UMEM still has %d open sockets: close them first", u.sockets)
	}
	u.closed = true
	err := unix.Close(u.fd)
	if u.first != nil {
		err = errors.Join(err, u.first.unmapUmemRings())
	}
	return errors.Join(err, unix.Munmap(u.mem))
}
