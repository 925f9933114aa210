package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xdpkit/xdpkit/bpfobj"
	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/output"
)

func newProgCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prog",
		Short: "Load BPF objects and list the programs in the kernel",
	}
	cmd.AddCommand(newProgLoadCmd(g), newProgListCmd(g))
	return cmd
}

// progJSON is one program of xdpkit prog load --json.
type progJSON struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	ID            uint32 `json:"id"`
	Tag           string `json:"tag"`
	Insns         int    `json:"insns"`
	VerifiedInsns uint32 `json:"verified_insns,omitempty"`
	BTF           bool   `json:"btf"`
	LineInfo      bool   `json:"line_info"`
}

// loadedMapJSON is one map of xdpkit prog load --json.
type loadedMapJSON struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	ID         uint32 `json:"id"`
	KeySize    uint32 `json:"key_size"`
	ValueSize  uint32 `json:"value_size"`
	MaxEntries uint32 `json:"max_entries"`
}

// loadJSON is the output of xdpkit prog load --json.
type loadJSON struct {
	Object   string          `json:"object"`
	Programs []progJSON      `json:"programs"`
	Maps     []loadedMapJSON `json:"maps"`
	PinnedTo string          `json:"pinned_to,omitempty"`
}

func newProgLoadCmd(g *globals) *cobra.Command {
	var pin string
	var showLog bool
	cmd := &cobra.Command{
		Use:   "load OBJ",
		Short: "Load every program and map of a BPF object, optionally pinning them",
		Long: `Load every program and map of the BPF object file OBJ and print them.

Without --pin the programs and maps are released when xdpkit exits: that
checks that an object passes the verifier. With --pin DIR (on a bpffs such
as /sys/fs/bpf) they are pinned as DIR/NAME and stay loaded.

When the verifier rejects a program, its report goes to stderr and the exit
code is 1; --log also prints the verifier's full log.`,
		Example: `  xdpkit prog load xdp_prog.o
  xdpkit prog load xdp_prog.o --pin /sys/fs/bpf/myprog`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := caps.Require(caps.BPF); err != nil {
				return err
			}
			obj, err := bpfobj.Load(args[0], &bpfobj.LoadOptions{VerifierLog: showLog})
			if err != nil {
				var ve *bpfobj.VerifierError
				if showLog && errors.As(err, &ve) {
					fmt.Fprintf(g.stderr, "verifier log:\n%s\n", strings.Join(ve.Log(), "\n"))
				}
				return err
			}
			defer obj.Close()
			if pin != "" {
				if err := obj.Pin(pin); err != nil {
					return err
				}
			}
			if showLog {
				for _, p := range obj.Programs {
					fmt.Fprintf(g.stderr, "verifier log of %s:\n%s\n", p.Name, strings.TrimSpace(p.VerifierLog))
				}
			}
			if err := printLoad(g, args[0], obj, pin); err != nil {
				return err
			}
			if pin == "" {
				fmt.Fprintln(g.stderr, "loaded; the programs and maps are released now that xdpkit exits (use --pin DIR to keep them)")
			} else {
				fmt.Fprintf(g.stderr, "pinned to %s (remove with: rm -r %s)\n", pin, pin)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pin, "pin", "", "pin programs and maps as `DIR`/NAME on a bpffs, so they stay loaded")
	cmd.Flags().BoolVar(&showLog, "log", false, "print the verifier's full log to stderr")
	cmd.Flags().BoolVar(&showLog, "verbose", false, "same as --log")
	return cmd
}

func printLoad(g *globals, path string, obj *bpfobj.Object, pin string) error {
	if g.json {
		out := loadJSON{Object: path, PinnedTo: pin, Programs: []progJSON{}, Maps: []loadedMapJSON{}}
		for _, p := range obj.Programs {
			out.Programs = append(out.Programs, progJSON{
				Name: p.Name, Type: bpfobj.ProgramTypeName(p.Type), ID: uint32(p.ID), Tag: p.Tag,
				Insns: p.Insns, VerifiedInsns: p.VerifiedInsns, BTF: p.HasBTF, LineInfo: p.HasLineInfo,
			})
		}
		for _, m := range obj.Maps {
			out.Maps = append(out.Maps, loadedMapJSON{
				Name: m.Name, Type: bpfobj.MapTypeName(m.Info.Type), ID: uint32(m.Info.ID),
				KeySize: m.Info.KeySize, ValueSize: m.Info.ValueSize, MaxEntries: m.Info.MaxEntries,
			})
		}
		return output.JSON(g.stdout, out)
	}
	progs := output.NewTable("PROGRAM", "TYPE", "ID", "TAG", "INSNS", "VERIFIED", "BTF")
	for _, p := range obj.Programs {
		btfInfo := "no"
		switch {
		case p.HasLineInfo:
			btfInfo = "yes, line info"
		case p.HasBTF:
			btfInfo = "yes"
		}
		progs.Row(p.Name, bpfobj.ProgramTypeName(p.Type), p.ID, p.Tag, p.Insns, bpfDash(p.VerifiedInsns), btfInfo)
	}
	if err := progs.Write(g.stdout); err != nil {
		return err
	}
	if len(obj.Maps) == 0 {
		return nil
	}
	fmt.Fprintln(g.stdout)
	maps := output.NewTable("MAP", "TYPE", "ID", "KEY", "VALUE", "MAX")
	for _, m := range obj.Maps {
		maps.Row(m.Name, bpfobj.MapTypeName(m.Info.Type), m.Info.ID, m.Info.KeySize, m.Info.ValueSize, m.Info.MaxEntries)
	}
	return maps.Write(g.stdout)
}

// progListJSON is one line of xdpkit prog list --json.
type progListJSON struct {
	ID         uint32   `json:"id"`
	Type       string   `json:"type"`
	Name       string   `json:"name"`
	Tag        string   `json:"tag"`
	LoadedAt   string   `json:"loaded_at,omitempty"`
	UID        *uint32  `json:"uid,omitempty"`
	MapIDs     []uint32 `json:"map_ids"`
	XlatedSize int      `json:"xlated_size"`
	JitedSize  uint32   `json:"jited_size"`
	BTFID      uint32   `json:"btf_id,omitempty"`
	Pinned     []string `json:"pinned"`
}

func newProgListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every BPF program loaded in the kernel, like bpftool prog list",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := caps.Require(caps.BPF); err != nil {
				return err
			}
			progs, err := bpfobj.Programs()
			if err != nil {
				return err
			}
			if g.json {
				for _, p := range progs {
					out := progListJSON{
						ID: uint32(p.ID), Type: bpfobj.ProgramTypeName(p.Type), Name: p.Name, Tag: p.Tag,
						MapIDs: []uint32{}, XlatedSize: p.XlatedSize, JitedSize: p.JitedSize, BTFID: p.BTFID,
						Pinned: p.Pinned,
					}
					if !p.LoadedAt.IsZero() {
						out.LoadedAt = p.LoadedAt.UTC().Format(time.RFC3339)
					}
					if p.HasUID {
						uid := p.UID
						out.UID = &uid
					}
					for _, id := range p.MapIDs {
						out.MapIDs = append(out.MapIDs, uint32(id))
					}
					if out.Pinned == nil {
						out.Pinned = []string{}
					}
					if err := output.JSON(g.stdout, out); err != nil {
						return err
					}
				}
				return nil
			}
			t := output.NewTable("ID", "TYPE", "NAME", "TAG", "LOADED", "UID", "XLATED", "JITED", "MAPS", "PINNED")
			for _, p := range progs {
				loaded, uid := "-", "-"
				if !p.LoadedAt.IsZero() {
					loaded = p.LoadedAt.Local().Format("2006-01-02 15:04:05")
				}
				if p.HasUID {
					uid = fmt.Sprint(p.UID)
				}
				maps := make([]string, len(p.MapIDs))
				for i, id := range p.MapIDs {
					maps[i] = fmt.Sprint(id)
				}
				t.Row(p.ID, bpfobj.ProgramTypeName(p.Type), bpfDash(p.Name), p.Tag, loaded, uid,
					p.XlatedSize, bpfDash(p.JitedSize), bpfDash(strings.Join(maps, ",")), bpfDash(strings.Join(p.Pinned, " ")))
			}
			return t.Write(g.stdout)
		},
	}
}

// bpfDash prints zero values as "-" in tables.
func bpfDash[T comparable](v T) any {
	var zero T
	if v == zero {
		return "-"
	}
	return v
}
