package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpkit/xdpkit/internal/testprogs"
	"github.com/xdpkit/xdpkit/internal/testutil"
)

func bpfOK(t *testing.T, args ...string) string {
	t.Helper()
	return runXdpkit(t, false, args...).want(t, 0, args...)
}

// jsonLines decodes one JSON object per line into generic maps.
func bpfJSONLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v map[string]any
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, v)
	}
	return out
}

// canon re-encodes a JSON text so that two texts compare by value.
func bpfCanon(t *testing.T, s string) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %q: %v", s, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// pinMaps loads the maps test object through the CLI, pinned into a fresh
// directory removed when the test ends, and returns the parsed output.
func pinMaps(t *testing.T) (string, map[string]any) {
	t.Helper()
	testutil.RequirePrivileged(t)
	testutil.RequireBPFFS(t, "/sys/fs/bpf")
	dir := filepath.Join("/sys/fs/bpf", testutil.UniqueName("cli"))
	t.Cleanup(func() { os.RemoveAll(dir) })
	out := bpfJSONLines(t, bpfOK(t, "prog", "load", testprogs.Path("maps"), "--pin", dir, "--json"))
	if len(out) != 1 {
		t.Fatalf("prog load --json printed %d objects", len(out))
	}
	return dir, out[0]
}

func TestCLIProgLoadAndList(t *testing.T) {
	dir, load := pinMaps(t)
	progs := load["programs"].([]any)
	if len(progs) != 1 {
		t.Fatalf("programs: %v", progs)
	}
	p := progs[0].(map[string]any)
	if p["name"] != "maps_prog" || p["type"] != "xdp" || p["btf"] != true || p["line_info"] != true || len(p["tag"].(string)) != 16 {
		t.Errorf("program: %v", p)
	}
	var names []string
	for _, m := range load["maps"].([]any) {
		names = append(names, m.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "counts,entries,percpu,raw" || load["pinned_to"] != dir {
		t.Errorf("load output: %v", load)
	}

	var found bool
	for _, lp := range bpfJSONLines(t, bpfOK(t, "prog", "list", "--json")) {
		if lp["id"].(json.Number).String() == p["id"].(json.Number).String() {
			found = true
			pinned := lp["pinned"].([]any)
			if lp["name"] != "maps_prog" || lp["type"] != "xdp" || len(lp["map_ids"].([]any)) != 4 || len(pinned) != 1 || pinned[0] != filepath.Join(dir, "maps_prog") {
				t.Errorf("prog list: %v", lp)
			}
		}
	}
	if !found {
		t.Errorf("prog list does not show program %v", p["id"])
	}

	found = false
	for _, lm := range bpfJSONLines(t, bpfOK(t, "map", "list", "--json")) {
		pinned := lm["pinned"].([]any)
		if len(pinned) == 1 && pinned[0] == filepath.Join(dir, "entries") {
			found = true
			if lm["name"] != "entries" || lm["type"] != "hash" || lm["key_size"].(json.Number) != "8" || lm["value_size"].(json.Number) != "40" || lm["max_entries"].(json.Number) != "16" {
				t.Errorf("map list: %v", lm)
			}
		}
	}
	if !found {
		t.Error("map list does not show the pinned entries map")
	}

	// Human output is a table with the program in it.
	if out := bpfOK(t, "prog", "list"); !strings.Contains(out, "maps_prog") || !strings.HasPrefix(out, "ID") {
		t.Errorf("prog list:\n%s", out)
	}

	// Without --pin: loaded, printed, released.
	r := runXdpkit(t, false, "prog", "load", testprogs.Path("maps"))
	r.want(t, 0)
	if !strings.Contains(r.stdout, "maps_prog") || !strings.Contains(r.stderr, "released") {
		t.Errorf("prog load without --pin:\n%s\n%s", r.stdout, r.stderr)
	}
}

func TestCLIMapEntries(t *testing.T) {
	dir, _ := pinMaps(t)
	entries := filepath.Join(dir, "entries")
	const key = `{"mac": [0, 17, 34, 51, 68, 85], "vlan": 10}`

	bpfOK(t, "map", "update", entries, key, `{"id": 7, "color": "GREEN", "name": "web", "delta": -3}`, "--flags", "noexist")
	got := bpfJSONLines(t, bpfOK(t, "map", "lookup", "pinned:"+entries, key, "--json"))
	const want = `{"key":{"mac":[0,17,34,51,68,85],"vlan":10},"key_hex":"00 11 22 33 44 55 0a 00",` +
		`"value":{"id":7,"color":"GREEN","addr":{"mac":[0,0,0,0,0,0],"vlan":0},"delta":-3,"name":"web","raw":{"u32":0,"bytes":[0,0,0,0]}},` +
		`"value_hex":"07 00 00 00 05 00 00 00 00 00 00 00 00 00 00 00 fd ff ff ff ff ff ff ff 77 65 62 00 00 00 00 00 00 00 00 00 00 00 00 00"}`
	if b, _ := json.Marshal(got[0]); bpfCanon(t, string(b)) != bpfCanon(t, want) {
		t.Errorf("lookup:\n got %s\nwant %s", b, want)
	}

	human := bpfOK(t, "map", "dump", entries)
	if want := `key: {"mac": [0, 17, 34, 51, 68, 85], "vlan": 10}  value: {"id": 7, "color": "GREEN",`; !strings.HasPrefix(human, want) {
		t.Errorf("dump:\n%s\nwant prefix %s", human, want)
	}

	r := runXdpkit(t, false, "map", "update", entries, key, `{}`, "--flags", "noexist")
	r.want(t, ExitUsage)
	if !strings.Contains(r.stderr, "exists and flag noexist was given") {
		t.Errorf("noexist on an existing key: %s", r.stderr)
	}
	bpfOK(t, "map", "delete", entries, key)
	r = runXdpkit(t, false, "map", "lookup", entries, key)
	r.want(t, ExitNotFound)
	if !strings.Contains(r.stderr, "has no key") {
		t.Errorf("lookup of a deleted key: %s", r.stderr)
	}
	runXdpkit(t, false, "map", "update", entries, `{"vlan": 3}`, `{}`, "--flags", "exist").want(t, ExitNotFound)
	runXdpkit(t, false, "map", "delete", entries, key).want(t, ExitNotFound)
}

func TestCLIMapShapes(t *testing.T) {
	dir, _ := pinMaps(t)

	// Array: plain integers, every index in the dump.
	counts := filepath.Join(dir, "counts")
	bpfOK(t, "map", "update", counts, "3", "18446744073709551615")
	lines := bpfJSONLines(t, bpfOK(t, "map", "dump", counts, "--json"))
	if len(lines) != 4 {
		t.Fatalf("array dump: %v", lines)
	}
	if b, _ := json.Marshal(lines[3]); bpfCanon(t, string(b)) != bpfCanon(t, `{"key":3,"key_hex":"03 00 00 00","value":18446744073709551615,"value_hex":"ff ff ff ff ff ff ff ff"}`) {
		t.Errorf("array entry: %s", b)
	}
	r := runXdpkit(t, false, "map", "lookup", counts, "hex:01 00 00")
	r.want(t, ExitUsage)
	if !strings.Contains(r.stderr, `key is 3 bytes but map "counts" has 4-byte keys`) {
		t.Errorf("wrong key size: %s", r.stderr)
	}

	// Per-CPU: one value per CPU.
	percpu := filepath.Join(dir, "percpu")
	bpfOK(t, "map", "update", percpu, "1", "5")
	lines = bpfJSONLines(t, bpfOK(t, "map", "lookup", percpu, "1", "--json"))
	values := lines[0]["values"].([]any)
	if len(values) < 1 {
		t.Fatalf("per-CPU lookup: %v", lines)
	}
	for i, v := range values {
		cv := v.(map[string]any)
		if cv["cpu"].(json.Number).String() != bpfJSONNum(i) || cv["value"].(json.Number) != "5" || cv["value_hex"] != "05 00 00 00 00 00 00 00" {
			t.Errorf("cpu value %d: %v", i, cv)
		}
	}

	// No BTF: hex in, hex out.
	raw := filepath.Join(dir, "raw")
	bpfOK(t, "map", "update", raw, "--key-hex", "01 00 00 00", "--value-hex", "01 02 03 04 05 06 07 08 09 0a 0b 0c")
	if out := bpfOK(t, "map", "dump", raw); out != "key: 01 00 00 00  value: 01 02 03 04 05 06 07 08 09 0a 0b 0c\n" {
		t.Errorf("raw dump: %q", out)
	}
	lines = bpfJSONLines(t, bpfOK(t, "map", "lookup", raw, "hex:01 00 00 00", "--json"))
	if lines[0]["value"] != "01 02 03 04 05 06 07 08 09 0a 0b 0c" || lines[0]["key_hex"] != "01 00 00 00" {
		t.Errorf("raw lookup: %v", lines)
	}
}

func bpfJSONNum(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestCLIMapCreate(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireBPFFS(t, "/sys/fs/bpf")
	pin := filepath.Join("/sys/fs/bpf", testutil.UniqueName("clim"))
	t.Cleanup(func() { os.Remove(pin) })

	r := runXdpkit(t, false, "map", "create", "--type", "hash", "--key-size", "4", "--value-size", "8", "--max-entries", "16")
	r.want(t, ExitUsage)
	if !strings.Contains(r.stderr, "--pin PATH is required") {
		t.Errorf("create without --pin: %s", r.stderr)
	}
	runXdpkit(t, false, "map", "create", "--type", "tree", "--key-size", "4", "--value-size", "8", "--max-entries", "16", "--pin", pin).want(t, ExitUsage)
	runXdpkit(t, false, "map", "create", "--type", "hash", "--key-size", "4", "--value-size", "8", "--max-entries", "16", "--pin", filepath.Join(t.TempDir(), "m")).want(t, ExitUsage)

	out := bpfJSONLines(t, bpfOK(t, "map", "create", "--type", "hash", "--key-size", "4", "--value-size", "8", "--max-entries", "16", "--name", "flows", "--pin", pin, "--json"))
	if out[0]["type"] != "hash" || out[0]["name"] != "flows" || out[0]["key_size"].(json.Number) != "4" {
		t.Errorf("create: %v", out)
	}
	// The map outlived the command: use it by its pin and its id.
	bpfOK(t, "map", "update", pin, "hex:01 00 00 00", "hex:02 00 00 00 00 00 00 00")
	id := out[0]["id"].(json.Number).String()
	if got := bpfOK(t, "map", "dump", "id:"+id); got != "key: 01 00 00 00  value: 02 00 00 00 00 00 00 00\n" {
		t.Errorf("dump of the created map: %q", got)
	}
}

func TestCLIBPFExitCodes(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := t.TempDir()
	notELF := filepath.Join(dir, "notes.o")
	if err := os.WriteFile(notELF, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"prog", "load", filepath.Join(dir, "missing.o")}, ExitNotFound, "no such file"},
		{[]string{"prog", "load", notELF}, ExitUsage, "not ELF"},
		{[]string{"prog", "load", testprogs.Path("maps"), "--pin", filepath.Join(dir, "pins")}, ExitUsage, "mount -t bpf bpf /sys/fs/bpf"},
		{[]string{"prog", "load", testprogs.Path("verifier_reject")}, ExitFailure, "verifier_reject.c:14"},
		{[]string{"map", "dump", "id:4294967295"}, ExitNotFound, "no map with id"},
		{[]string{"map", "dump", "name:" + testutil.UniqueName("none")}, ExitNotFound, "no map named"},
		{[]string{"map", "dump", "id:zero"}, ExitUsage, "id must be a number"},
		{[]string{"map", "update", "id:1", "1", "2", "--flags", "maybe"}, ExitUsage, "use any, noexist or exist"},
	} {
		r := runXdpkit(t, false, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("xdpkit %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.msg)
		}
	}

	r := runXdpkit(t, false, "prog", "load", testprogs.Path("verifier_reject"), "--log")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "verifier log:") || !strings.Contains(r.stderr, "invalid access to packet") {
		t.Errorf("--log: exit %d\n%s", r.code, r.stderr)
	}

	for _, args := range [][]string{{"prog", "list"}, {"map", "list"}, {"prog", "load", testprogs.Path("maps")}, {"map", "dump", "id:1"}} {
		r := runXdpkit(t, true, args...)
		if r.code != ExitPermission || !strings.Contains(r.stderr, "CAP_BPF") {
			t.Errorf("unprivileged xdpkit %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}
