package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/spf13/cobra"

	"github.com/xdpkit/xdpkit/internal/output"
	"github.com/xdpkit/xdpkit/xdp"
)

func newStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status [IFACE]",
		Short: "Show the XDP programs attached to interfaces",
		Long: `Show the XDP programs attached to every interface of the current network
namespace, or to IFACE only: program name, mode (native, generic, offload),
program id, tag, and how it is attached (a bpf_link, with its pins, or
netlink, the legacy way of ip link set dev X xdp ...).

Whether a bpf_link holds a program is asked of the kernel for this network
namespace's interface. Links do not record their namespace, though: when
links of other namespaces have the same program on an interface with the
same index (lo is 1 in every namespace), the link's id is shown as "link ?"
and a note on stderr lists the candidates.

Program names, tags and attach types need CAP_SYS_ADMIN. Without it, status
still prints what netlink tells anyone (interface, mode, program id), shows
"?" for the rest, warns on stderr, and exits 0.

With --json: one object per interface per line.`,
		Example: `  xdpkit status
  xdpkit status veth0 --json`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			iface := ""
			if len(args) == 1 {
				iface = args[0]
			}
			return runStatus(g, iface)
		},
	}
}

func runStatus(g *globals, iface string) error {
	ifaces, err := xdp.Status(iface)
	partial := errors.Is(err, xdp.ErrIncomplete) && ifaces != nil
	if err != nil && !partial {
		return err
	}
	if g.json {
		for _, in := range ifaces {
			if err := output.JSON(g.stdout, interfaceToJSON(in)); err != nil {
				return err
			}
		}
	} else {
		t := output.NewTable("IFACE", "PROGRAM", "MODE", "ID", "TAG", "ATTACH")
		for _, in := range ifaces {
			if len(in.Programs) == 0 {
				t.Row(in.Name, "<no XDP program>", "", "", "", "")
				continue
			}
			for _, p := range in.Programs {
				t.Row(in.Name, unknown(p.Name), p.Mode, p.ID, unknown(p.Tag), attachText(p))
			}
		}
		if err := t.Write(g.stdout); err != nil {
			return err
		}
		for _, in := range ifaces {
			for _, p := range in.Programs {
				if note := linkNote(p); note != "" {
					fmt.Fprintf(g.stderr, "xdpkit: note: %s: %s\n", in.Name, note)
				}
			}
		}
	}
	if partial {
		fmt.Fprintf(g.stderr, "xdpkit: warning: %v\n", err)
	}
	return nil
}

// interfaceJSON is the --json form of an interface and its XDP programs,
// printed by status and attach.
type interfaceJSON struct {
	Interface string        `json:"interface"`
	Ifindex   int           `json:"ifindex"`
	Mode      string        `json:"mode"` // "" when nothing is attached
	Programs  []programJSON `json:"programs"`
}

// programJSON is the --json form of an attached XDP program. Fields that
// need privileges to read are empty without them.
type programJSON struct {
	ID     uint32 `json:"id"`
	Name   string `json:"name"`
	Tag    string `json:"tag"`
	Type   string `json:"type"`
	Mode   string `json:"mode"`
	Attach string `json:"attach"` // "link", "netlink" or "" (unknown)
	// LinkID is 0 (omitted) when Attach is "link" but the link cannot be
	// told from links of other network namespaces: LinkCandidates lists
	// them and Note says why.
	LinkID         uint32   `json:"link_id,omitempty"`
	LinkCandidates []uint32 `json:"link_candidates,omitempty"`
	Pins           []string `json:"pins,omitempty"`
	Note           string   `json:"note,omitempty"`
}

func interfaceToJSON(in xdp.Interface) interfaceJSON {
	j := interfaceJSON{Interface: in.Name, Ifindex: in.Index, Mode: string(in.Mode), Programs: []programJSON{}}
	for _, p := range in.Programs {
		j.Programs = append(j.Programs, programToJSON(p))
	}
	return j
}

func programToJSON(p xdp.Program) programJSON {
	j := programJSON{
		ID:     uint32(p.ID),
		Name:   p.Name,
		Tag:    p.Tag,
		Mode:   string(p.Mode),
		Attach: string(p.Via),
		LinkID: uint32(p.LinkID),
		Pins:   p.Pins,
		Note:   linkNote(p),
	}
	for _, id := range p.LinkCandidates {
		j.LinkCandidates = append(j.LinkCandidates, uint32(id))
	}
	// Unknown without privileges; programs may have no name.
	if p.Type != ebpf.UnspecifiedProgram {
		j.Type = p.Type.String()
	}
	return j
}

// linkNote explains an attachment through a bpf_link whose id is not
// known, or is "".
func linkNote(p xdp.Program) string {
	if p.Via != xdp.ViaLink || p.LinkID != 0 {
		return ""
	}
	if len(p.LinkCandidates) == 0 {
		return fmt.Sprintf("program %d is held by a bpf_link that could not be found (detached meanwhile?)", p.ID)
	}
	ids := make([]string, len(p.LinkCandidates))
	for i, id := range p.LinkCandidates {
		ids[i] = fmt.Sprint(id)
	}
	return fmt.Sprintf("program %d is held by one of the XDP links %s, of interfaces with this index in different network namespaces: "+
		"bpf_links do not record their namespace, so which is this one's is unknown (bpftool link show lists their pins and holders)",
		p.ID, strings.Join(ids, ", "))
}

// attachText is the ATTACH column: "link 7", "link 7 pinned PATH",
// "link ?" when the link is not known (see linkNote), "netlink", or "?"
// when unknown.
func attachText(p xdp.Program) string {
	switch p.Via {
	case xdp.ViaLink:
		if p.LinkID == 0 {
			return "link ?"
		}
		s := fmt.Sprintf("link %d", p.LinkID)
		if len(p.Pins) > 0 {
			s += " pinned " + strings.Join(p.Pins, ",")
		}
		return s
	case xdp.ViaNetlink:
		return "netlink"
	}
	return "?"
}

func unknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}
