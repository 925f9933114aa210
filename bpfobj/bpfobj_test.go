package bpfobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/testprogs"
	"github.com/xdpkit/xdpkit/internal/testutil"
)

// loadMaps loads the maps test object and pins it into a fresh directory
// under /sys/fs/bpf; both are undone when the test ends.
func loadMaps(t *testing.T) (*Object, string) {
	t.Helper()
	testutil.RequirePrivileged(t)
	testutil.RequireBPFFS(t, DefaultBPFFS)
	obj, err := Load(testprogs.Path("maps"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { obj.Close() })
	dir := filepath.Join(DefaultBPFFS, testutil.UniqueName("bpfobj"))
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := obj.Pin(dir); err != nil {
		t.Fatal(err)
	}
	return obj, dir
}

// openPinned opens one of the pinned maps as another process would: from
// the kernel, with its BTF read back from the kernel.
func openPinned(t *testing.T, dir, name string) *Map {
	t.Helper()
	ref, err := ParseMapRef(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := OpenMap(ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadAndPin(t *testing.T) {
	obj, dir := loadMaps(t)
	if len(obj.Programs) != 1 {
		t.Fatalf("programs: %+v", obj.Programs)
	}
	p := obj.Programs[0]
	if p.Name != "maps_prog" || p.Type != ebpf.XDP || p.ID == 0 || len(p.Tag) != 16 || p.Insns == 0 || !p.HasBTF || !p.HasLineInfo {
		t.Errorf("program: %+v", p)
	}
	var names []string
	for _, m := range obj.Maps {
		names = append(names, m.Name)
		if _, err := os.Stat(filepath.Join(dir, m.Name)); err != nil {
			t.Errorf("map %s not pinned: %v", m.Name, err)
		}
	}
	if want := []string{"counts", "entries", "percpu", "raw"}; !slices.Equal(names, want) {
		t.Errorf("maps %v, want %v", names, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "maps_prog")); err != nil {
		t.Errorf("program not pinned: %v", err)
	}
}

func TestLoadVerifierLog(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj, err := Load(testprogs.Path("maps"), &LoadOptions{VerifierLog: true})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if log := obj.Programs[0].VerifierLog; !strings.Contains(log, "processed") {
		t.Errorf("verifier log on success: %q", log)
	}
}

func TestLoadErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := t.TempDir()

	_, err := Load(filepath.Join(dir, "missing.o"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}

	text := filepath.Join(dir, "notes.o")
	if err := os.WriteFile(text, []byte("not an object\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(text, nil)
	if !errors.Is(err, ErrNotBPF) || !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "not ELF") {
		t.Errorf("text file: %v", err)
	}

	exe, err := os.Executable() // an ELF file for this machine, not BPF
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load(exe, nil)
	if !errors.Is(err, ErrNotBPF) || !strings.Contains(err.Error(), "ELF file for EM_") {
		t.Errorf("host ELF: %v", err)
	}

	_, err = Load(testprogs.Path("verifier_reject"), nil)
	if !errors.Is(err, ErrVerifier) {
		t.Fatalf("rejected program: %v", err)
	}
	if errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrInvalid) {
		t.Errorf("a verifier rejection must not read as a permission or usage error: %v", err)
	}
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) || len(ve.Log) == 0 {
		t.Errorf("no verifier log behind %v", err)
	}
	var re *VerifierError
	if !errors.As(err, &re) || re.Program != "reject_prog" || len(re.Log()) == 0 {
		t.Errorf("VerifierError: %+v", re)
	}
}

func TestPinErrors(t *testing.T) {
	obj, dir := loadMaps(t)

	err := obj.Pin(filepath.Join(t.TempDir(), "pins"))
	if !errors.Is(err, ErrNotBPFFS) || !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "mount -t bpf bpf /sys/fs/bpf") {
		t.Errorf("pin outside bpffs: %v", err)
	}

	// A second pin of the same names into a directory where "counts" is
	// already taken fails and leaves nothing behind.
	dir2 := filepath.Join(DefaultBPFFS, testutil.UniqueName("bpfobj"))
	t.Cleanup(func() { os.RemoveAll(dir2) })
	if err := os.Mkdir(dir2, 0o700); err != nil {
		t.Fatal(err)
	}
	other, err := CreateMap(CreateSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1}, filepath.Join(dir2, "counts"))
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	err = obj.Pin(dir2)
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("pin over an existing pin: %v", err)
	}
	entries, _ := os.ReadDir(dir2)
	if len(entries) != 1 || entries[0].Name() != "counts" {
		t.Errorf("pins left after a failed Pin: %v", entries)
	}
	_ = dir
}

// The expected JSON below is written by hand from maps.c, independently of
// the formatter.
func TestEntriesMap(t *testing.T) {
	_, dir := loadMaps(t)
	m := openPinned(t, dir, "entries")
	if k, v := m.HasBTF(); !k || !v {
		t.Fatalf("entries map opened without BTF: key %v value %v", k, v)
	}

	key, err := m.ParseKey(`{"mac": [0, 17, 34, 51, 68, 85], "vlan": 10}`)
	if err != nil {
		t.Fatal(err)
	}
	val, err := m.ParseValue(`{"id": 7, "color": "BLUE", "addr": {"mac": [1,2,3,4,5,6], "vlan": 4094}, "delta": -9223372036854775808, "name": "edge", "raw": {"u32": 4294967295}}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(key, Value{Bytes: val}, UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	got, err := m.Lookup(key)
	if err != nil {
		t.Fatal(err)
	}
	const wantKey = `{"mac":[0,17,34,51,68,85],"vlan":10}`
	const wantValue = `{"id":7,"color":"BLUE","addr":{"mac":[1,2,3,4,5,6],"vlan":4094},"delta":-9223372036854775808,"name":"edge","raw":{"u32":4294967295,"bytes":[255,255,255,255]}}`
	if s := toJSON(t, m.FormatValue(got.Bytes)); s != wantValue {
		t.Errorf("value:\n got %s\nwant %s", s, wantValue)
	}

	entries, err := m.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || toJSON(t, m.FormatKey(entries[0].Key)) != wantKey || toJSON(t, m.FormatValue(entries[0].Value.Bytes)) != wantValue {
		t.Errorf("dump: %+v", entries)
	}

	if err := m.Delete(key); err != nil {
		t.Fatal(err)
	}
	_, err = m.Lookup(key)
	if !errors.Is(err, os.ErrNotExist) || !errors.Is(err, ebpf.ErrKeyNotExist) || !strings.Contains(err.Error(), `"vlan": 10`) {
		t.Errorf("lookup after delete: %v", err)
	}
	if err := m.Delete(key); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("delete of a missing key: %v", err)
	}
}

func TestUpdateFlags(t *testing.T) {
	_, dir := loadMaps(t)
	m := openPinned(t, dir, "entries")
	key, _ := m.ParseKey(`{"vlan": 1}`)
	val, _ := m.ParseValue(`{"id": 1}`)

	err := m.Update(key, Value{Bytes: val}, UpdateExist)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "does not exist and flag exist was given") {
		t.Errorf("exist on a missing key: %v", err)
	}
	if err := m.Update(key, Value{Bytes: val}, UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	err = m.Update(key, Value{Bytes: val}, UpdateNoExist)
	if !errors.Is(err, os.ErrExist) || !strings.Contains(err.Error(), "exists and flag noexist was given") {
		t.Errorf("noexist on an existing key: %v", err)
	}
	if err := m.Update(key, Value{Bytes: val}, UpdateExist); err != nil {
		t.Errorf("exist on an existing key: %v", err)
	}
	if err := m.Update(key, Value{Bytes: val}, UpdateAny); err != nil {
		t.Errorf("any: %v", err)
	}
	if _, err := ParseUpdateFlag("sometimes"); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("bad flag: %v", err)
	}
}

func TestCountsArray(t *testing.T) {
	_, dir := loadMaps(t)
	m := openPinned(t, dir, "counts")
	key, err := m.ParseKey("2")
	if err != nil {
		t.Fatal(err)
	}
	val, err := m.ParseValue("18446744073709551615")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(key, Value{Bytes: val}, UpdateAny); err != nil {
		t.Fatal(err)
	}
	entries, err := m.Dump()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, toJSON(t, m.FormatKey(e.Key))+"="+toJSON(t, m.FormatValue(e.Value.Bytes)))
	}
	want := []string{"0=0", "1=0", "2=18446744073709551615", "3=0"}
	if !slices.Equal(got, want) {
		t.Errorf("dump %v, want %v", got, want)
	}

	_, err = m.ParseKey("hex:01 00 00")
	if !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), `key is 3 bytes but map "counts" has 4-byte keys`) {
		t.Errorf("wrong key size: %v", err)
	}
	if _, err := m.ParseKey("4294967296"); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("key out of u32 range: %v", err)
	}
	if err := m.Update([]byte{9, 0, 0, 0}, Value{Bytes: val}, UpdateAny); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("index past the array: %v", err)
	}
}

func TestPerCPU(t *testing.T) {
	_, dir := loadMaps(t)
	m := openPinned(t, dir, "percpu")
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	if m.CPUs != cpus {
		t.Fatalf("CPUs = %d, want %d", m.CPUs, cpus)
	}
	key, _ := m.ParseKey("1")
	val, _ := m.ParseValue("7")
	if err := m.Update(key, Value{Bytes: val}, UpdateAny); err != nil {
		t.Fatal(err)
	}
	got, err := m.Lookup(key)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.PerCPU) != cpus {
		t.Fatalf("%d values, want one per CPU (%d)", len(got.PerCPU), cpus)
	}
	for cpu, v := range got.PerCPU {
		if s := toJSON(t, m.FormatValue(v)); s != "7" {
			t.Errorf("cpu %d: %s", cpu, s)
		}
	}

	// Different values per CPU.
	per := make([][]byte, cpus)
	for i := range per {
		per[i] = []byte{byte(i + 1), 0, 0, 0, 0, 0, 0, 0}
	}
	if err := m.Update(key, Value{PerCPU: per}, UpdateExist); err != nil {
		t.Fatal(err)
	}
	entries, err := m.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("dump: %d entries", len(entries))
	}
	for cpu, v := range entries[1].Value.PerCPU {
		if s, want := toJSON(t, m.FormatValue(v)), toJSON(t, cpu+1); s != want {
			t.Errorf("cpu %d: %s, want %s", cpu, s, want)
		}
	}
}

func TestRawMapWithoutBTF(t *testing.T) {
	_, dir := loadMaps(t)
	m := openPinned(t, dir, "raw")
	if k, v := m.HasBTF(); k || v {
		t.Fatalf("raw map has BTF: %v %v", k, v)
	}
	key, err := m.ParseKey("01 00 00 00")
	if err != nil {
		t.Fatal(err)
	}
	val, err := m.ParseValue("hex:0a 0b 0c 0d 00 00 00 00 00 00 00 ff")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(key, Value{Bytes: val}, UpdateAny); err != nil {
		t.Fatal(err)
	}
	entries, err := m.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || m.FormatKey(entries[0].Key) != "01 00 00 00" || m.FormatValue(entries[0].Value.Bytes) != "0a 0b 0c 0d 00 00 00 00 00 00 00 ff" {
		t.Errorf("dump: %+v", entries)
	}
	_, err = m.ParseValue("hex:01 02")
	if !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), `value is 2 bytes but map "raw" has 12-byte values`) {
		t.Errorf("wrong value size: %v", err)
	}
	if _, err := m.ParseKey(`{"a": 1}`); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "no BTF") {
		t.Errorf("JSON for a map without BTF: %v", err)
	}
	// One integer is a little-endian integer of the key's size.
	for in, want := range map[string][]byte{
		"1":          {1, 0, 0, 0},
		"258":        {2, 1, 0, 0},
		"0x01020304": {4, 3, 2, 1},
		"-1":         {0xff, 0xff, 0xff, 0xff},
		"4294967295": {0xff, 0xff, 0xff, 0xff},
	} {
		got, err := m.ParseKey(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ParseKey(%q) = % x, %v; want % x", in, got, err, want)
		}
	}
	if _, err := m.ParseKey("4294967296"); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("an integer wider than the key: %v", err)
	}
	// A 12-byte value is no integer size: hex bytes only.
	if _, err := m.ParseValue("7"); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("an integer for a 12-byte value: %v", err)
	}
}

// TestGetNextKeyRestart checks the kernel behaviour Dump relies on (LWN,
// "The BPF system call API"): get-next-key of a key that is not in the map
// returns the first key, so a walk whose current key was deleted restarts.
func TestGetNextKeyRestart(t *testing.T) {
	_, dir := loadMaps(t)
	m := openPinned(t, dir, "entries")
	val := make([]byte, m.Info.ValueSize)
	for i := range 16 {
		if err := m.Update([]byte{byte(i), 0, 0, 0, 0, 0, 0, 0}, Value{Bytes: val}, UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	first, err := m.Map.NextKeyBytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := m.Map.NextKeyBytes(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(second); err != nil {
		t.Fatal(err)
	}
	again, err := m.Map.NextKeyBytes(second)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(first) {
		t.Errorf("next key of a deleted key = % x, want the first key % x", again, first)
	}

	entries, err := m.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 15 {
		t.Errorf("dump of 15 keys gave %d", len(entries))
	}
}

// TestDumpWhileDeleting deletes keys while Dump walks them: every key comes
// at most once, and the walk ends without error.
func TestDumpWhileDeleting(t *testing.T) {
	_, dir := loadMaps(t)
	m := openPinned(t, dir, "entries")
	val := make([]byte, m.Info.ValueSize)
	for round := range 20 {
		var keys [][]byte
		for i := range 16 {
			k := []byte{byte(i), byte(round), 0, 0, 0, 0, 0, 0}
			keys = append(keys, k)
			if err := m.Update(k, Value{Bytes: val}, UpdateAny); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for _, k := range keys {
				_ = m.Map.Delete(k)
			}
		})
		entries, err := m.Dump()
		wg.Wait()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if seen[string(e.Key)] {
				t.Fatalf("round %d: key % x twice", round, e.Key)
			}
			seen[string(e.Key)] = true
		}
	}
}

func TestOpenMapRefs(t *testing.T) {
	obj, dir := loadMaps(t)
	counts := obj.Maps[0]
	if counts.Name != "counts" {
		t.Fatalf("first map is %s", counts.Name)
	}

	byID, err := OpenMap(MapRef{Kind: RefID, ID: counts.Info.ID})
	if err != nil {
		t.Fatal(err)
	}
	defer byID.Close()
	if byID.Name != "counts" || byID.Key == nil || byID.Info.KeySize != 4 {
		t.Errorf("by id: %+v", byID)
	}

	ref, _ := ParseMapRef("pinned:" + filepath.Join(dir, "counts"))
	byPin, err := OpenMap(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer byPin.Close()
	if byPin.Info.ID != counts.Info.ID {
		t.Errorf("pinned map has id %d, want %d", byPin.Info.ID, counts.Info.ID)
	}

	// Names: a unique one resolves, a shared one lists the ids.
	name := testutil.UniqueName("ref")
	a, err := CreateMap(CreateSpec{Type: ebpf.Hash, Name: name, KeySize: 4, ValueSize: 4, MaxEntries: 2}, filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	byName, err := OpenMap(MapRef{Kind: RefName, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	byName.Close()
	if byName.Info.ID != a.Info.ID {
		t.Errorf("by name: id %d, want %d", byName.Info.ID, a.Info.ID)
	}
	b, err := CreateMap(CreateSpec{Type: ebpf.Hash, Name: name, KeySize: 4, ValueSize: 4, MaxEntries: 2}, filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = OpenMap(MapRef{Kind: RefName, Name: name})
	if !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "2 maps are named") ||
		!strings.Contains(err.Error(), idRef(a)) || !strings.Contains(err.Error(), idRef(b)) {
		t.Errorf("ambiguous name: %v", err)
	}

	for _, ref := range []MapRef{
		{Kind: RefName, Name: testutil.UniqueName("none")},
		{Kind: RefID, ID: 0xfffffff0},
		{Kind: RefPinned, Path: filepath.Join(dir, "nothing")},
	} {
		if _, err := OpenMap(ref); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("OpenMap(%s): %v, want os.ErrNotExist", ref, err)
		}
	}
	if _, err := OpenMap(MapRef{Kind: RefPinned, Path: filepath.Join(dir, "maps_prog")}); err == nil {
		t.Error("a pinned program opened as a map")
	}
}

func idRef(m *Map) string { return MapRef{Kind: RefID, ID: m.Info.ID}.String() }

func TestParseMapRef(t *testing.T) {
	for in, want := range map[string]MapRef{
		"id:12":                   {Kind: RefID, ID: 12},
		"pinned:/sys/fs/bpf/x/c":  {Kind: RefPinned, Path: "/sys/fs/bpf/x/c"},
		"/sys/fs/bpf/x/c":         {Kind: RefPinned, Path: "/sys/fs/bpf/x/c"},
		"/sys/fs/bpf/a:b":         {Kind: RefPinned, Path: "/sys/fs/bpf/a:b"},
		"name:counts":             {Kind: RefName, Name: "counts"},
		"counts":                  {Kind: RefName, Name: "counts"},
		"xdp_count_stats":         {Kind: RefName, Name: "xdp_count_stats"},
		"name:with:colon":         {Kind: RefName, Name: "with:colon"},
		"pinned:relative/to/here": {Kind: RefPinned, Path: "relative/to/here"},
	} {
		got, err := ParseMapRef(in)
		if err != nil || got != want {
			t.Errorf("ParseMapRef(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "id:", "id:0", "id:-1", "id:x", "id:4294967296", "pinned:", "name:", "bogus:x", "two words"} {
		if _, err := ParseMapRef(in); !errors.Is(err, os.ErrInvalid) {
			t.Errorf("ParseMapRef(%q) = %v, want os.ErrInvalid", in, err)
		}
	}
}

func FuzzParseMapRef(f *testing.F) {
	for _, s := range []string{"id:1", "pinned:/a/b", "/sys/fs/bpf/m", "name:x", "counts", "id:99999999999", "a:b:c", ":", "name:a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseMapRef(s)
		if err != nil {
			if !errors.Is(err, os.ErrInvalid) {
				t.Fatalf("ParseMapRef(%q): %v does not match os.ErrInvalid", s, err)
			}
			return
		}
		back, err := ParseMapRef(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseMapRef(%q) = %+v, but its String %q parses as %+v, %v", s, r, r.String(), back, err)
		}
	})
}

func TestCreateMap(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireBPFFS(t, DefaultBPFFS)
	dir := filepath.Join(DefaultBPFFS, testutil.UniqueName("bpfobj"))
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	spec := CreateSpec{Type: ebpf.Hash, Name: "created", KeySize: 4, ValueSize: 8, MaxEntries: 16}

	if _, err := CreateMap(spec, ""); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "freed when the process exits") {
		t.Errorf("no pin: %v", err)
	}
	if _, err := CreateMap(spec, filepath.Join(t.TempDir(), "m")); !errors.Is(err, ErrNotBPFFS) {
		t.Errorf("pin outside bpffs: %v", err)
	}
	bad := spec
	bad.KeySize = 0
	if _, err := CreateMap(bad, filepath.Join(dir, "bad")); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("zero key size: %v", err)
	}

	pin := filepath.Join(dir, "m")
	m, err := CreateMap(spec, pin)
	if err != nil {
		t.Fatal(err)
	}
	id := m.Info.ID
	m.Close()
	if _, err := CreateMap(spec, pin); !errors.Is(err, os.ErrExist) {
		t.Errorf("pin taken: %v", err)
	}

	// The pin keeps the map: it is there after Close.
	ref, _ := ParseMapRef(pin)
	again, err := OpenMap(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Info.ID != id || again.Info.Type != ebpf.Hash || again.Info.KeySize != 4 || again.Info.ValueSize != 8 || again.Info.MaxEntries != 16 || again.Name != "created" {
		t.Errorf("reopened: %+v", again.Info)
	}
	if typ, err := ParseMapType("LRU-percpu_hash"); err != nil || typ != ebpf.LRUCPUHash {
		t.Errorf("ParseMapType: %v, %v", typ, err)
	}
	if _, err := ParseMapType("tree"); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("unknown type: %v", err)
	}
}

func TestListPrograms(t *testing.T) {
	obj, dir := loadMaps(t)
	progs, err := Programs()
	if err != nil {
		t.Fatal(err)
	}
	want := obj.Programs[0]
	i := slices.IndexFunc(progs, func(p ProgramInfo) bool { return p.ID == want.ID })
	if i < 0 {
		t.Fatalf("program %d not listed", want.ID)
	}
	p := progs[i]
	if p.Name != "maps_prog" || p.Type != ebpf.XDP || p.Tag != want.Tag || p.LoadedAt.IsZero() || !p.HasUID || p.XlatedSize == 0 || len(p.MapIDs) != 4 {
		t.Errorf("listed: %+v", p)
	}
	if !slices.Contains(p.Pinned, filepath.Join(dir, "maps_prog")) {
		t.Errorf("pinned paths %v", p.Pinned)
	}

	maps, err := Maps()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range obj.Maps {
		j := slices.IndexFunc(maps, func(l MapInfo) bool { return l.ID == m.Info.ID })
		if j < 0 {
			t.Errorf("map %s (%d) not listed", m.Name, m.Info.ID)
			continue
		}
		l := maps[j]
		if l.Name != m.Name || l.KeySize != m.Info.KeySize || !slices.Contains(l.Pinned, filepath.Join(dir, m.Name)) {
			t.Errorf("listed: %+v", l)
		}
		if m.Name == "entries" && l.BTFID == 0 {
			t.Errorf("entries has no BTF id: %+v", l)
		}
	}
}

// TestPinDataSections pins an object with global variables: bpffs refuses
// the names .bss, .data and .rodata, so they are pinned as _bss and so on.
func TestPinDataSections(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireBPFFS(t, DefaultBPFFS)
	obj, err := Load(testprogs.Path("globals"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	dir := filepath.Join(DefaultBPFFS, testutil.UniqueName("bpfobj"))
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := obj.Pin(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for _, want := range []string{"globals_prog", "_bss", "_data", "_rodata"} {
		if !slices.Contains(names, want) {
			t.Errorf("pinned %v, missing %s", names, want)
		}
	}
	if err := CheckPinName(filepath.Join(dir, "a.b")); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "a_b") {
		t.Errorf("CheckPinName(a.b): %v", err)
	}
	if err := CheckPinName(filepath.Join(dir, "ab")); err != nil {
		t.Errorf("CheckPinName(ab): %v", err)
	}
}

// TestMapsWithoutUpdatesOrKeys covers a frozen map (.rodata) and a map
// without keys (a queue): both say what they are instead of a bare errno.
func TestMapsWithoutUpdatesOrKeys(t *testing.T) {
	testutil.RequirePrivileged(t)
	obj, err := Load(testprogs.Path("globals"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	var rodata *Map
	for _, m := range obj.Maps {
		if m.Name == ".rodata" {
			rodata = m
		}
	}
	if rodata == nil {
		t.Fatal("no .rodata map")
	}
	err = rodata.Update(make([]byte, 4), Value{Bytes: make([]byte, rodata.Info.ValueSize)}, UpdateAny)
	if !errors.Is(err, os.ErrInvalid) || errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "frozen") {
		t.Errorf("update of .rodata: %v", err)
	}

	q, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Queue, ValueSize: 4, MaxEntries: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	info, err := q.Info()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := info.ID()
	qm, err := OpenMap(MapRef{Kind: RefID, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	defer qm.Close()
	if _, err := qm.Dump(); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "queue map has no keys") {
		t.Errorf("dump of a queue: %v", err)
	}
}
