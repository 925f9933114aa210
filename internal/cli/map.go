package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xdpkit/xdpkit/bpfobj"
	"github.com/xdpkit/xdpkit/bpfobj/btfvalue"
	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/output"
)

const mapRefHelp = `MAP names a map: id:N, pinned:PATH (or a path such as
/sys/fs/bpf/x/counts), or name:NAME (or a bare NAME) for the one loaded map
of that name.

KEY and VALUE are JSON shaped by the map's BTF types: a number for an
integer, an object with field names for a struct, a list for an array, a
string for a char array, an enum value's name. hex:01 00 00 00 gives raw
bytes, as does --key-hex/--value-hex; maps without BTF take hex only.`

func newMapCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "map",
		Short: "List, dump, read, write and create BPF maps",
		Long:  "List, dump, read, write and create BPF maps, with keys and values formatted by their BTF types.\n\n" + mapRefHelp,
	}
	cmd.AddCommand(
		newMapListCmd(g),
		newMapDumpCmd(g),
		newMapLookupCmd(g),
		newMapUpdateCmd(g),
		newMapDeleteCmd(g),
		newMapCreateCmd(g),
	)
	return cmd
}

// mapJSON is one line of xdpkit map list --json, and the output of map
// create.
type mapJSON struct {
	ID         uint32   `json:"id"`
	Type       string   `json:"type"`
	Name       string   `json:"name"`
	KeySize    uint32   `json:"key_size"`
	ValueSize  uint32   `json:"value_size"`
	MaxEntries uint32   `json:"max_entries"`
	Flags      uint32   `json:"flags"`
	BTFID      uint32   `json:"btf_id,omitempty"`
	Pinned     []string `json:"pinned"`
}

func toMapJSON(mi bpfobj.MapInfo) mapJSON {
	pinned := mi.Pinned
	if pinned == nil {
		pinned = []string{}
	}
	return mapJSON{
		ID: uint32(mi.ID), Type: bpfobj.MapTypeName(mi.Type), Name: mi.Name, KeySize: mi.KeySize,
		ValueSize: mi.ValueSize, MaxEntries: mi.MaxEntries, Flags: mi.Flags, BTFID: mi.BTFID, Pinned: pinned,
	}
}

func newMapListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every BPF map in the kernel, like bpftool map list",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := caps.Require(caps.BPF); err != nil {
				return err
			}
			maps, err := bpfobj.Maps()
			if err != nil {
				return err
			}
			if g.json {
				for _, m := range maps {
					if err := output.JSON(g.stdout, toMapJSON(m)); err != nil {
						return err
					}
				}
				return nil
			}
			t := output.NewTable("ID", "TYPE", "NAME", "KEY", "VALUE", "MAX", "FLAGS", "BTF", "PINNED")
			for _, m := range maps {
				t.Row(m.ID, bpfobj.MapTypeName(m.Type), bpfDash(m.Name), m.KeySize, m.ValueSize, m.MaxEntries,
					fmt.Sprintf("%#x", m.Flags), bpfDash(m.BTFID), bpfDash(strings.Join(m.Pinned, " ")))
			}
			return t.Write(g.stdout)
		},
	}
}

// openMapArg opens the map named by a command-line reference.
func openMapArg(ref string) (*bpfobj.Map, error) {
	if err := caps.Require(caps.BPF); err != nil {
		return nil, err
	}
	r, err := bpfobj.ParseMapRef(ref)
	if err != nil {
		return nil, err
	}
	return bpfobj.OpenMap(r)
}

// keyFlags are --key-hex and --value-hex, alternatives to the KEY and
// VALUE arguments.
type keyFlags struct {
	keyHex, valueHex string
}

// keyArgs takes the key (and value) from the positional args or the hex
// flags: exactly one source each.
func (f keyFlags) split(args []string, wantValue bool) (key, value string, err error) {
	rest := args[1:]
	take := func(flag, name string) (string, error) {
		if flag != "" {
			return btfvalue.HexPrefix + flag, nil
		}
		if len(rest) == 0 {
			return "", usagef("missing %s: give it as an argument or with --%s-hex", name, name)
		}
		s := rest[0]
		rest = rest[1:]
		return s, nil
	}
	if key, err = take(f.keyHex, "key"); err != nil {
		return "", "", err
	}
	if wantValue {
		if value, err = take(f.valueHex, "value"); err != nil {
			return "", "", err
		}
	}
	if len(rest) > 0 {
		return "", "", usagef("unexpected argument %q (quote JSON keys and values: '{\"vlan\": 1}')", rest[0])
	}
	return key, value, nil
}

// openMapKey opens the map named by args[0] and parses the key (and, with
// wantValue, returns the value's text) given as arguments or hex flags. The
// caller closes the map.
func (f keyFlags) openMapKey(args []string, wantValue bool) (m *bpfobj.Map, key []byte, valueText string, err error) {
	keyText, valueText, err := f.split(args, wantValue)
	if err != nil {
		return nil, nil, "", err
	}
	m, err = openMapArg(args[0])
	if err != nil {
		return nil, nil, "", err
	}
	key, err = m.ParseKey(keyText)
	if err != nil {
		m.Close()
		return nil, nil, "", err
	}
	return m, key, valueText, nil
}

// entryJSON is one entry of map dump/lookup/update --json. key and value
// are formatted by BTF (hex strings without it); key_hex and value_hex are
// always the raw bytes.
type entryJSON struct {
	Key      any            `json:"key"`
	KeyHex   string         `json:"key_hex"`
	Value    any            `json:"value,omitempty"`
	ValueHex string         `json:"value_hex,omitempty"`
	Values   []cpuValueJSON `json:"values,omitempty"`
}

// cpuValueJSON is one CPU's value of a per-CPU map entry.
type cpuValueJSON struct {
	CPU      int    `json:"cpu"`
	Value    any    `json:"value"`
	ValueHex string `json:"value_hex"`
}

func printEntry(g *globals, m *bpfobj.Map, e bpfobj.Entry) error {
	if g.json {
		out := entryJSON{Key: m.FormatKey(e.Key), KeyHex: btfvalue.Hex(e.Key)}
		if e.Value.PerCPU != nil {
			out.Values = make([]cpuValueJSON, 0, len(e.Value.PerCPU))
			for cpu, v := range e.Value.PerCPU {
				out.Values = append(out.Values, cpuValueJSON{CPU: cpu, Value: m.FormatValue(v), ValueHex: btfvalue.Hex(v)})
			}
		} else {
			out.Value, out.ValueHex = m.FormatValue(e.Value.Bytes), btfvalue.Hex(e.Value.Bytes)
		}
		return output.JSON(g.stdout, out)
	}
	key := humanValue(m.FormatKey(e.Key))
	if e.Value.PerCPU == nil {
		_, err := fmt.Fprintf(g.stdout, "key: %s  value: %s\n", key, humanValue(m.FormatValue(e.Value.Bytes)))
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "key: %s\n", key)
	for cpu, v := range e.Value.PerCPU {
		fmt.Fprintf(&b, "  cpu %d: %s\n", cpu, humanValue(m.FormatValue(v)))
	}
	_, err := fmt.Fprint(g.stdout, b.String())
	return err
}

// humanValue renders a formatted key or value; hex strings (no BTF) print
// bare, like bpftool.
func humanValue(v any) string {
	if s, ok := v.(string); ok {
		if _, err := btfvalue.ParseHex(s); err == nil && strings.Count(s, " ") == len(s)/3 {
			return s
		}
	}
	return btfvalue.Human(v)
}

func newMapDumpCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "dump MAP",
		Short: "Print every entry of a map",
		Long:  "Print every entry of a map, walking its keys with get-next-key.\n\n" + mapRefHelp,
		Example: `  xdpkit map dump id:42
  xdpkit map dump /sys/fs/bpf/myprog/counts --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := openMapArg(args[0])
			if err != nil {
				return err
			}
			defer m.Close()
			entries, err := m.Dump()
			for _, e := range entries {
				if perr := printEntry(g, m, e); perr != nil {
					return perr
				}
			}
			if err != nil {
				return err
			}
			if !g.json {
				fmt.Fprintf(g.stderr, "%d entries in map %q (id %d)\n", len(entries), m.Name, m.Info.ID)
			}
			return nil
		},
	}
}

func newMapLookupCmd(g *globals) *cobra.Command {
	var f keyFlags
	cmd := &cobra.Command{
		Use:   "lookup MAP KEY",
		Short: "Print the value stored for a key",
		Long:  "Print the value stored for a key; exit code 5 if there is none.\n\n" + mapRefHelp,
		Example: `  xdpkit map lookup name:counts 0
  xdpkit map lookup id:42 '{"mac": [0,17,34,51,68,85], "vlan": 10}'
  xdpkit map lookup /sys/fs/bpf/p/raw --key-hex "01 00 00 00"`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, key, _, err := f.openMapKey(args, false)
			if err != nil {
				return err
			}
			defer m.Close()
			v, err := m.Lookup(key)
			if err != nil {
				return err
			}
			return printEntry(g, m, bpfobj.Entry{Key: key, Value: v})
		},
	}
	cmd.Flags().StringVar(&f.keyHex, "key-hex", "", "the key as hex `BYTES`, such as \"01 00 00 00\"")
	return cmd
}

func newMapUpdateCmd(g *globals) *cobra.Command {
	var f keyFlags
	var flag string
	cmd := &cobra.Command{
		Use:   "update MAP KEY VALUE",
		Short: "Store a value for a key",
		Long: `Store a value for a key. --flags any (the default) creates or replaces,
noexist only creates, exist only replaces. For a per-CPU map the value is
stored on every CPU.

` + mapRefHelp,
		Example: `  xdpkit map update name:counts 0 42
  xdpkit map update id:42 '{"vlan": 10}' '{"id": 1, "color": "GREEN"}' --flags noexist
  xdpkit map update /sys/fs/bpf/p/raw --key-hex "01 00 00 00" --value-hex "00 00 00 00"`,
		Args: rangeArgs(1, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl, err := bpfobj.ParseUpdateFlag(flag)
			if err != nil {
				return usageError{err}
			}
			m, key, valueText, err := f.openMapKey(args, true)
			if err != nil {
				return err
			}
			defer m.Close()
			value, err := m.ParseValue(valueText)
			if err != nil {
				return err
			}
			if err := m.Update(key, bpfobj.Value{Bytes: value}, fl); err != nil {
				return err
			}
			if g.json {
				v, err := m.Lookup(key)
				if err != nil {
					return err
				}
				return printEntry(g, m, bpfobj.Entry{Key: key, Value: v})
			}
			fmt.Fprintf(g.stderr, "updated key %s in map %q\n", humanValue(m.FormatKey(key)), m.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&flag, "flags", "any", "any (create or replace), noexist (create only) or exist (replace only)")
	cmd.Flags().StringVar(&f.keyHex, "key-hex", "", "the key as hex `BYTES`, such as \"01 00 00 00\"")
	cmd.Flags().StringVar(&f.valueHex, "value-hex", "", "the value as hex `BYTES`")
	return cmd
}

// deletedJSON is the output of map delete --json.
type deletedJSON struct {
	Deleted bool   `json:"deleted"`
	Key     any    `json:"key"`
	KeyHex  string `json:"key_hex"`
}

func newMapDeleteCmd(g *globals) *cobra.Command {
	var f keyFlags
	cmd := &cobra.Command{
		Use:     "delete MAP KEY",
		Short:   "Delete a key; exit code 5 if there is none",
		Long:    "Delete a key; exit code 5 if there is none. Array entries cannot be deleted.\n\n" + mapRefHelp,
		Example: `  xdpkit map delete id:42 '{"mac": [0,17,34,51,68,85], "vlan": 10}'`,
		Args:    rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, key, _, err := f.openMapKey(args, false)
			if err != nil {
				return err
			}
			defer m.Close()
			if err := m.Delete(key); err != nil {
				return err
			}
			if g.json {
				return output.JSON(g.stdout, deletedJSON{Deleted: true, Key: m.FormatKey(key), KeyHex: btfvalue.Hex(key)})
			}
			fmt.Fprintf(g.stderr, "deleted key %s from map %q\n", humanValue(m.FormatKey(key)), m.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&f.keyHex, "key-hex", "", "the key as hex `BYTES`, such as \"01 00 00 00\"")
	return cmd
}

func newMapCreateCmd(g *globals) *cobra.Command {
	var typ, pin string
	var spec bpfobj.CreateSpec
	cmd := &cobra.Command{
		Use:   "create --type TYPE --key-size N --value-size N --max-entries N --pin PATH",
		Short: "Create a map and pin it",
		Long: `Create a map and pin it at PATH on a bpffs. --pin is required: a map that
nothing refers to is freed when xdpkit exits, so an unpinned map would
vanish at once. Remove it with rm PATH.`,
		Example: `  xdpkit map create --type hash --key-size 4 --value-size 8 --max-entries 16 --name flows --pin /sys/fs/bpf/flows`,
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if pin == "" {
				return usagef("--pin PATH is required: a map nothing refers to is freed when xdpkit exits, so it would vanish at once (example: --pin /sys/fs/bpf/mymap)")
			}
			t, err := bpfobj.ParseMapType(typ)
			if err != nil {
				return usageError{err}
			}
			spec.Type = t
			if err := caps.Require(caps.BPF); err != nil {
				return err
			}
			m, err := bpfobj.CreateMap(spec, pin)
			if err != nil {
				return err
			}
			defer m.Close()
			info := m.Info
			info.Pinned = []string{pin}
			if g.json {
				return output.JSON(g.stdout, toMapJSON(info))
			}
			t2 := output.NewTable("ID", "TYPE", "NAME", "KEY", "VALUE", "MAX", "FLAGS", "PINNED")
			t2.Row(info.ID, bpfobj.MapTypeName(info.Type), bpfDash(info.Name), info.KeySize, info.ValueSize, info.MaxEntries, fmt.Sprintf("%#x", info.Flags), pin)
			return t2.Write(g.stdout)
		},
	}
	cmd.Flags().StringVar(&typ, "type", "hash", "map `TYPE`: hash, array, percpu_hash, percpu_array, lru_hash, lpm_trie, ...")
	cmd.Flags().Uint32Var(&spec.KeySize, "key-size", 0, "key size in bytes")
	cmd.Flags().Uint32Var(&spec.ValueSize, "value-size", 0, "value size in bytes")
	cmd.Flags().Uint32Var(&spec.MaxEntries, "max-entries", 0, "maximum number of entries")
	cmd.Flags().StringVar(&spec.Name, "name", "", "map name (up to 15 bytes)")
	cmd.Flags().Uint32Var(&spec.Flags, "map-flags", 0, "BPF_F_* map flags as a number (1 = BPF_F_NO_PREALLOC)")
	cmd.Flags().StringVar(&pin, "pin", "", "pin the map at `PATH` on a bpffs (required)")
	return cmd
}
