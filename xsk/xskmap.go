package xsk

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/xdpkit/xdpkit/internal/bpffs"
	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/errs"
)

// XSKMap is a BPF_MAP_TYPE_XSKMAP: queue id -> AF_XDP socket. Register
// puts a socket in the entry of its queue; the entry is deleted again when
// the socket closes (or on Unregister). Entries can only be set from
// userspace and cannot be read back (the kernel refuses lookups of an
// XSKMAP from a syscall), so the XSKMap remembers what it set.
type XSKMap struct {
	m      *ebpf.Map
	owned  bool
	mu     sync.Mutex
	queues map[uint32]*Socket
}

// OpenXSKMap wraps an XSKMAP of one's own program (the equivalent of
// libxdp's inhibit-prog-load + xsk_update_xskmap). The caller keeps m and
// closes it; XSKMap.Close does not.
func OpenXSKMap(m *ebpf.Map) (*XSKMap, error) {
	if m == nil {
		return nil, errs.Markf(os.ErrInvalid, "no map given")
	}
	if m.Type() != ebpf.XSKMap {
		return nil, errs.Markf(os.ErrInvalid, "map %q is a %s, not an XSKMAP: give the map the program redirects into with bpf_redirect_map", m.String(), m.Type())
	}
	if m.KeySize() != 4 || m.ValueSize() != 4 {
		return nil, errs.Markf(os.ErrInvalid, "XSKMAP %q has %d-byte keys and %d-byte values: an XSKMAP has 4 and 4", m.String(), m.KeySize(), m.ValueSize())
	}
	return &XSKMap{m: m, queues: make(map[uint32]*Socket)}, nil
}

// LoadPinnedXSKMap opens an XSKMAP pinned on a BPF filesystem (by
// xdp-loader, bpftool or a program of one's own). Close closes it.
//
// Errors match os.ErrNotExist (nothing pinned there), os.ErrInvalid (a
// path off any BPF filesystem, a pinned object that is not a map, a map
// that is not an XSKMAP) and os.ErrPermission.
func LoadPinnedXSKMap(path string) (*XSKMap, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, errs.Markf(os.ErrNotExist, "no pinned map at %s: pin the program's XSKMAP there first (bpftool map pin ...)", path)
	}
	if err := bpffs.Check(path); err != nil {
		return nil, fmt.Errorf("XSKMAP %s: %w", path, err)
	}
	m, err := ebpf.LoadPinnedMap(path, nil)
	if err != nil {
		if prog, perr := ebpf.LoadPinnedProgram(path, nil); perr == nil {
			prog.Close()
			return nil, errs.Markf(os.ErrInvalid, "%s is a pinned program, not a map: give the path of the XSKMAP it redirects into", path)
		}
		return nil, caps.Explain(fmt.Errorf("opening the pinned map %s: %w", path, err), caps.BPF)
	}
	x, err := OpenXSKMap(m)
	if err != nil {
		m.Close()
		return nil, err
	}
	x.owned = true
	return x, nil
}

// Map returns the underlying map.
func (x *XSKMap) Map() *ebpf.Map { return x.m }

// Register puts s into the entry of its queue, replacing what was there.
// The entry is deleted when s closes.
func (x *XSKMap) Register(s *Socket) error {
	q := s.Queue()
	if q >= x.m.MaxEntries() {
		return errs.Markf(ErrQueueRange, "queue %d is beyond XSKMAP %q, which has %d entries", q, x.m.String(), x.m.MaxEntries())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errs.Markf(os.ErrClosed, "registering a closed socket")
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.m.Put(q, uint32(s.FD())); err != nil {
		return fmt.Errorf("putting the socket of queue %d into XSKMAP %q: %w", q, x.m.String(), err)
	}
	// A socket replaced here keeps x in its list: its Close finds that
	// the entry holds another socket and leaves it alone.
	x.queues[q] = s
	s.maps = append(s.maps, x)
	return nil
}

// Unregister deletes the entry of s's queue if it holds s.
func (x *XSKMap) Unregister(s *Socket) error {
	s.forget(x)
	return x.unregister(s)
}

func (x *XSKMap) unregister(s *Socket) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	q := s.Queue()
	if x.queues[q] != s {
		return nil
	}
	delete(x.queues, q)
	if err := x.m.Delete(q); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("deleting queue %d from XSKMAP %q: %w", q, x.m.String(), err)
	}
	return nil
}

// Registered returns the socket registered for queue q, nil if none.
func (x *XSKMap) Registered(q uint32) *Socket {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.queues[q]
}

// Close deletes the entries this XSKMap set, and closes the map when
// LoadPinnedXSKMap opened it.
func (x *XSKMap) Close() error {
	x.mu.Lock()
	socks := make([]*Socket, 0, len(x.queues))
	for _, s := range x.queues {
		socks = append(socks, s)
	}
	x.mu.Unlock()
	var err error
	for _, s := range socks {
		err = errors.Join(err, x.Unregister(s))
	}
	if x.owned {
		err = errors.Join(err, x.m.Close())
	}
	return err
}

// forget drops x from the maps s will remove itself from on Close.
func (s *Socket) forget(x *XSKMap) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.maps {
		if m == x {
			s.maps = append(s.maps[:i], s.maps[i+1:]...)
			return
		}
	}
}
