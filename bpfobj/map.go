package bpfobj

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/bpfobj/btfvalue"
	"github.com/xdpkit/xdpkit/internal/bpffs"
	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/internal/sys"
)

// Map is a live map with what is needed to read and write it by its BTF
// types: sizes, per-CPU layout, key and value types (nil without BTF).
type Map struct {
	Name string
	Info MapInfo
	// Key and Value are the BTF types of keys and values, nil when the
	// map has none (then keys and values are hex bytes).
	Key, Value btf.Type
	// CPUs is the number of values per key of a per-CPU map (the
	// possible CPUs), 0 for other maps.
	CPUs int
	// Map is the live map.
	Map *ebpf.Map

	owned bool // Close closes Map
}

func newMap(m *ebpf.Map, name string, key, value btf.Type) (*Map, error) {
	info, err := mapInfo(m)
	if err != nil {
		return nil, err
	}
	mm := &Map{Name: name, Info: info, Map: m, owned: true}
	mm.setTypes(key, value)
	if perCPU(info.Type) {
		n, err := ebpf.PossibleCPU()
		if err != nil {
			return nil, fmt.Errorf("possible CPUs: %w", err)
		}
		mm.CPUs = n
	}
	return mm, nil
}

// setTypes keeps key and value types only when they match the map's sizes:
// a Void type or one of another size would misformat every entry.
func (m *Map) setTypes(key, value btf.Type) {
	if key != nil {
		if n, err := btfvalue.Size(key); err == nil && n > 0 && uint32(n) == m.Info.KeySize {
			m.Key = key
		}
	}
	if value != nil {
		if n, err := btfvalue.Size(value); err == nil && n > 0 && uint32(n) == m.Info.ValueSize {
			m.Value = value
		}
	}
}

// loadKernelBTF reads the key and value types of m from the kernel, when
// the map was created with them. Without them m works with hex bytes.
func (m *Map) loadKernelBTF() {
	btfID, keyID, valueID, err := sys.MapBTFIDs(m.Map.FD())
	if err != nil || btfID == 0 || (keyID == 0 && valueID == 0) {
		return
	}
	h, err := btf.NewHandleFromID(btf.ID(btfID))
	if err != nil {
		return
	}
	defer h.Close()
	spec, err := h.Spec(nil)
	if err != nil {
		return
	}
	var key, value btf.Type
	if keyID != 0 {
		key, _ = spec.TypeByID(btf.TypeID(keyID))
	}
	if valueID != 0 {
		value, _ = spec.TypeByID(btf.TypeID(valueID))
	}
	m.setTypes(key, value)
}

// Close closes m, unless it belongs to an Object (which closes it).
func (m *Map) Close() error {
	if m.owned && m.Map != nil {
		return m.Map.Close()
	}
	return nil
}

// ParseKey reads a key for m from s (see btfvalue.Parse: JSON shaped by the
// key type, a plain integer, or hex bytes). A key of the wrong size
// matches ErrInvalidInput and names both sizes.
func (m *Map) ParseKey(s string) ([]byte, error) {
	if m.Key == nil {
		if b, ok := parseRawInt(s, m.Info.KeySize); ok {
			return b, nil
		}
	}
	b, err := btfvalue.Parse(m.Key, s)
	if err != nil {
		return nil, fmt.Errorf("key for map %s: %w", m.label(), err)
	}
	if err := m.checkSize("key", b, m.Info.KeySize); err != nil {
		return nil, err
	}
	return b, nil
}

// ParseValue reads a value for m from s, like ParseKey. For a per-CPU map
// the one value is meant for every CPU (see Update).
func (m *Map) ParseValue(s string) ([]byte, error) {
	if m.Value == nil {
		if b, ok := parseRawInt(s, m.Info.ValueSize); ok {
			return b, nil
		}
	}
	b, err := btfvalue.Parse(m.Value, s)
	if err != nil {
		return nil, fmt.Errorf("value for map %s: %w", m.label(), err)
	}
	if err := m.checkSize("value", b, m.Info.ValueSize); err != nil {
		return nil, err
	}
	return b, nil
}

// parseRawInt reads s as one integer (decimal, or hex with 0x) stored little
// endian in size bytes, for maps without BTF whose keys or values are 1, 2,
// 4 or 8 bytes: "xdpkit map update MAP 1 7" then works as on a typed map.
// Hex bytes are written with spaces ("01 00 00 00") or the hex: prefix.
func parseRawInt(s string, size uint32) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, " \t,:") || strings.HasPrefix(s, btfvalue.HexPrefix) {
		return nil, false
	}
	if size != 1 && size != 2 && size != 4 && size != 8 {
		return nil, false
	}
	base := btfvalue.ParseBase(s)
	var u uint64
	if v, err := strconv.ParseUint(s, base, int(size)*8); err == nil {
		u = v
	} else if v, err := strconv.ParseInt(s, base, int(size)*8); err == nil {
		u = uint64(v)
	} else {
		return nil, false
	}
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, u)
	return b[:size], true
}

// label names m in messages: map "NAME", or map id N when it has no name.
func (m *Map) label() string {
	if m.Name != "" {
		return strconv.Quote(m.Name)
	}
	return fmt.Sprintf("id %d", m.Info.ID)
}

func (m *Map) checkSize(what string, b []byte, want uint32) error {
	if uint32(len(b)) == want {
		return nil
	}
	return errs.Markf(ErrInvalidInput, "%s is %d bytes but map %s has %d-byte %ss", what, len(b), m.label(), want, what)
}

// Value is what a map holds for one key: Bytes, or for a per-CPU map one
// value per possible CPU in PerCPU.
type Value struct {
	Bytes  []byte
	PerCPU [][]byte
}

// Entry is one key and its value.
type Entry struct {
	Key   []byte
	Value Value
}

// Lookup returns the value stored for key. A missing key matches
// os.ErrNotExist (and ebpf.ErrKeyNotExist).
func (m *Map) Lookup(key []byte) (Value, error) {
	if err := m.checkSize("key", key, m.Info.KeySize); err != nil {
		return Value{}, err
	}
	v, err := m.lookup(key)
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return Value{}, fmt.Errorf("map %s has no key %s: %w", m.label(), m.keyText(key), err)
	}
	if err != nil {
		return Value{}, fmt.Errorf("lookup in map %s: %w", m.label(), caps.Explain(err, caps.BPF))
	}
	return v, nil
}

func (m *Map) lookup(key []byte) (Value, error) {
	if m.CPUs > 0 {
		vals := make([][]byte, m.CPUs)
		for i := range vals {
			vals[i] = make([]byte, m.Info.ValueSize)
		}
		if err := m.Map.Lookup(key, vals); err != nil {
			return Value{}, err
		}
		return Value{PerCPU: vals}, nil
	}
	out := make([]byte, m.Info.ValueSize)
	if err := m.Map.Lookup(key, out); err != nil {
		return Value{}, err
	}
	return Value{Bytes: out}, nil
}

func (m *Map) keyText(key []byte) string {
	if m.Key != nil {
		if v, err := btfvalue.Format(m.Key, key); err == nil {
			return btfvalue.Human(v)
		}
	}
	return btfvalue.Hex(key)
}

// UpdateFlag says whether Update may create or replace an entry.
type UpdateFlag string

// The update flags, as BPF_ANY, BPF_NOEXIST and BPF_EXIST.
const (
	UpdateAny     UpdateFlag = "any"     // create or replace
	UpdateNoExist UpdateFlag = "noexist" // create only
	UpdateExist   UpdateFlag = "exist"   // replace only
)

// ParseUpdateFlag reads "any", "noexist" or "exist" (or "" for any).
func ParseUpdateFlag(s string) (UpdateFlag, error) {
	switch f := UpdateFlag(strings.ToLower(strings.TrimSpace(s))); f {
	case "":
		return UpdateAny, nil
	case UpdateAny, UpdateNoExist, UpdateExist:
		return f, nil
	}
	return "", errs.Markf(ErrInvalidInput, "update flag %q: use any, noexist or exist", s)
}

func (f UpdateFlag) ebpf() (ebpf.MapUpdateFlags, error) {
	switch f {
	case UpdateAny, "":
		return ebpf.UpdateAny, nil
	case UpdateNoExist:
		return ebpf.UpdateNoExist, nil
	case UpdateExist:
		return ebpf.UpdateExist, nil
	}
	return 0, errs.Markf(ErrInvalidInput, "update flag %q: use any, noexist or exist", string(f))
}

// Update stores value for key. For a per-CPU map, value is either
// value.PerCPU (one per possible CPU) or value.Bytes, stored on every CPU.
// With UpdateNoExist an existing key matches os.ErrExist; with UpdateExist
// a missing key matches os.ErrNotExist.
func (m *Map) Update(key []byte, value Value, flag UpdateFlag) error {
	fl, err := flag.ebpf()
	if err != nil {
		return err
	}
	if err := m.checkSize("key", key, m.Info.KeySize); err != nil {
		return err
	}
	var val any = value.Bytes
	if m.CPUs > 0 {
		vals := value.PerCPU
		if vals == nil {
			vals = make([][]byte, m.CPUs)
			for i := range vals {
				vals[i] = value.Bytes
			}
		}
		if len(vals) != m.CPUs {
			return errs.Markf(ErrInvalidInput, "%d per-CPU values given but map %s has %d CPUs", len(vals), m.label(), m.CPUs)
		}
		for _, v := range vals {
			if err := m.checkSize("value", v, m.Info.ValueSize); err != nil {
				return err
			}
		}
		val = vals
	} else if err := m.checkSize("value", value.Bytes, m.Info.ValueSize); err != nil {
		return err
	}

	err = m.Map.Update(key, val, fl)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ebpf.ErrKeyExist):
		return fmt.Errorf("update map %s: key %s exists and flag noexist was given (use exist or any to replace it): %w", m.label(), m.keyText(key), err)
	case errors.Is(err, ebpf.ErrKeyNotExist):
		return fmt.Errorf("update map %s: key %s does not exist and flag exist was given (use noexist or any to create it): %w", m.label(), m.keyText(key), err)
	case errors.Is(err, unix.E2BIG) && !m.arrayLike():
		// A hash map is full: nothing is wrong with the input.
		return fmt.Errorf("update map %s: the map is full (%d entries): delete entries or make it larger: %w",
			m.label(), m.Info.MaxEntries, err)
	case errors.Is(err, unix.E2BIG) || (errors.Is(err, unix.EINVAL) && m.arrayLike()):
		return errs.Markf(ErrInvalidInput, "update map %s: key %s is out of range for a map of %d entries: %w",
			m.label(), m.keyText(key), m.Info.MaxEntries, err)
	case errors.Is(err, unix.EPERM) && m.frozen():
		// Not a privilege problem (exit 3) but a write to a read-only map.
		return errs.Markf(ErrInvalidInput, "update map %s: the map is frozen, read-only for user space (as .rodata is once loaded): %v", m.label(), err)
	}
	return fmt.Errorf("update map %s: %w", m.label(), caps.Explain(err, caps.BPF))
}

// frozen reports whether m was frozen (BPF_MAP_FREEZE): user space may no
// longer write it.
func (m *Map) frozen() bool {
	info, err := m.Map.Info()
	return err == nil && info.Frozen()
}

func (m *Map) arrayLike() bool {
	switch m.Info.Type {
	case ebpf.Array, ebpf.PerCPUArray:
		return true
	}
	return false
}

// Delete removes key. A missing key matches os.ErrNotExist. Array entries
// cannot be deleted (the kernel returns EINVAL).
func (m *Map) Delete(key []byte) error {
	if err := m.checkSize("key", key, m.Info.KeySize); err != nil {
		return err
	}
	err := m.Map.Delete(key)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ebpf.ErrKeyNotExist):
		return fmt.Errorf("map %s has no key %s: %w", m.label(), m.keyText(key), err)
	case errors.Is(err, unix.EINVAL) && m.arrayLike():
		return fmt.Errorf("delete from map %s: entries of an array cannot be deleted, update them to zero instead: %w (%w)", m.label(), err, ErrInvalidInput)
	}
	return fmt.Errorf("delete from map %s: %w", m.label(), caps.Explain(err, caps.BPF))
}

// ErrIterationAborted is matched by Dump when keys kept changing so fast
// that iteration could not finish. It wraps ebpf.ErrIterationAborted.
var ErrIterationAborted = fmt.Errorf("map changed too fast to dump: %w", ebpf.ErrIterationAborted)

// Dump returns every entry of m, walking keys with BPF_MAP_GET_NEXT_KEY.
//
// When the key last visited is deleted meanwhile, the kernel restarts from
// the first key; Dump remembers the keys it has seen, so each key is
// returned once, and skips keys deleted between being found and looked up.
// If the map changes so fast that the walk exceeds a bound of several times
// max_entries, Dump returns what it has with ErrIterationAborted.
func (m *Map) Dump() ([]Entry, error) {
	var out []Entry
	seen := make(map[string]bool)
	limit := 4*uint64(m.Info.MaxEntries) + 64
	var cur []byte // nil: start from the first key
	for steps := uint64(0); ; steps++ {
		if steps > limit {
			return out, fmt.Errorf("dump map %s: %w", m.label(), ErrIterationAborted)
		}
		var from any // a nil []byte in an interface would not read as "first key"
		if cur != nil {
			from = cur
		}
		next, err := m.Map.NextKeyBytes(from)
		if err != nil {
			if m.Info.KeySize == 0 {
				// Queues, stacks, ring buffers and the like have no keys.
				return out, errs.Markf(errors.ErrUnsupported, "dump map %s: a %s map has no keys to iterate", m.label(), MapTypeName(m.Info.Type))
			}
			return out, fmt.Errorf("dump map %s: next key: %w", m.label(), caps.Explain(err, caps.BPF))
		}
		if next == nil {
			return out, nil
		}
		cur = next
		if seen[string(next)] {
			continue
		}
		seen[string(next)] = true
		v, err := m.lookup(next)
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			continue // deleted since get-next-key found it
		}
		if err != nil {
			return out, fmt.Errorf("dump map %s: lookup %s: %w", m.label(), btfvalue.Hex(next), caps.Explain(err, caps.BPF))
		}
		out = append(out, Entry{Key: next, Value: v})
	}
}

// FormatKey returns key formatted by the key type: a value for
// encoding/json (see btfvalue.Format), or its hex bytes without BTF.
func (m *Map) FormatKey(key []byte) any { return formatOrHex(m.Key, key) }

// FormatValue is FormatKey for one value (one CPU's, for per-CPU maps).
func (m *Map) FormatValue(value []byte) any { return formatOrHex(m.Value, value) }

func formatOrHex(typ btf.Type, b []byte) any {
	if typ != nil {
		if v, err := btfvalue.Format(typ, b); err == nil {
			return v
		}
	}
	return btfvalue.Hex(b)
}

// HasBTF reports whether keys and values are formatted by BTF types rather
// than shown as hex.
func (m *Map) HasBTF() (key, value bool) { return m.Key != nil, m.Value != nil }

// CreateSpec describes a map for CreateMap.
type CreateSpec struct {
	Type       ebpf.MapType
	Name       string // up to 15 bytes; letters, digits, _ and .
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32 // BPF_F_* map flags, such as BPF_F_NO_PREALLOC
}

// CreateMap creates a map and pins it at pin, which is required: a map
// nothing refers to is freed as soon as the creating process exits, so an
// unpinned map would vanish with the command that made it. pin must be on
// a bpffs (ErrNotBPFFS) and not exist yet (os.ErrExist). Close the result;
// the pin keeps the map.
func CreateMap(spec CreateSpec, pin string) (*Map, error) {
	if pin == "" {
		return nil, errs.Markf(ErrInvalidInput, "create map: a pin path is required, since an unpinned map is freed when the process exits")
	}
	if len(spec.Name) > maxNameLen {
		return nil, errs.Markf(ErrInvalidInput, "create map: name %q is longer than %d bytes", spec.Name, maxNameLen)
	}
	if err := CheckPinName(pin); err != nil {
		return nil, err
	}
	if err := bpffs.Check(pin); err != nil {
		return nil, fmt.Errorf("create map: %w", err)
	}
	if _, err := os.Lstat(pin); err == nil {
		return nil, errs.Markf(os.ErrExist, "create map: %s exists already: remove it (rm %s) or pick another path", pin, pin)
	}
	if err := caps.Require(caps.BPF); err != nil {
		return nil, fmt.Errorf("create map: %w", err)
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       spec.Name,
		Type:       spec.Type,
		KeySize:    spec.KeySize,
		ValueSize:  spec.ValueSize,
		MaxEntries: spec.MaxEntries,
		Flags:      spec.Flags,
	})
	if err != nil {
		err = caps.Explain(err, caps.BPF)
		if errors.Is(err, unix.EINVAL) {
			return nil, fmt.Errorf("create %s map (key %d, value %d bytes, %d entries, flags %#x): the kernel refused these parameters (an array needs 4-byte keys; sizes and max entries must be non-zero; lpm_trie needs flags 0x1): %w (%w)",
				MapTypeName(spec.Type), spec.KeySize, spec.ValueSize, spec.MaxEntries, spec.Flags, err, ErrInvalidInput)
		}
		return nil, fmt.Errorf("create %s map: %w", MapTypeName(spec.Type), err)
	}
	if err := m.Pin(pin); err != nil {
		m.Close()
		return nil, fmt.Errorf("create map: pin %s: %w", pin, err)
	}
	mm, err := newMap(m, spec.Name, nil, nil)
	if err != nil {
		_ = m.Unpin()
		m.Close()
		return nil, fmt.Errorf("create map: %w", err)
	}
	return mm, nil
}
