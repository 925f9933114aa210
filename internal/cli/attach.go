package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/output"
	"github.com/xdpkit/xdpkit/xdp"
)

// attachFlags are the flags of xdpkit attach.
type attachFlags struct {
	prog     string
	mode     string
	pin      string
	duration time.Duration
}

func newAttachCmd(g *globals) *cobra.Command {
	var f attachFlags
	cmd := &cobra.Command{
		Use:   "attach IFACE OBJ",
		Short: "Attach an XDP program to an interface",
		Long: `Attach the XDP program of the BPF object OBJ to IFACE through a bpf_link.

Without --pin, xdpkit stays in the foreground holding the link, and the
program is detached when it ends: on Ctrl-C (SIGINT), SIGTERM, after
--duration, or if it is killed. Nothing stays attached behind it.

With --pin PATH (on a BPF filesystem, such as /sys/fs/bpf/xdpkit/IFACE), the
link is pinned there and xdpkit exits, leaving the program attached on
purpose; "xdpkit detach IFACE" removes it and its pin.

The mode is native (in the driver) unless --mode generic is given; there is
no silent fallback: if the driver has no native XDP, attach fails and says so.`,
		Example: `  xdpkit attach veth0 xdp_pass.o
  xdpkit attach veth0 prog.o --prog xdp_filter --mode generic --duration 30s
  xdpkit attach eth0 prog.o --pin /sys/fs/bpf/xdpkit/eth0`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttach(cmd.Context(), g, args[0], args[1], f)
		},
	}
	cmd.Flags().StringVar(&f.prog, "prog", "", "the XDP program `NAME` in OBJ (default: its only XDP program)")
	cmd.Flags().StringVar(&f.mode, "mode", "native", "XDP `MODE`: native or generic")
	cmd.Flags().StringVar(&f.pin, "pin", "", "pin the link at `PATH` on a BPF filesystem and exit, leaving the program attached")
	cmd.Flags().DurationVar(&f.duration, "duration", 0, "detach after this long (default: until Ctrl-C)")
	return cmd
}

func runAttach(ctx context.Context, g *globals, iface, obj string, f attachFlags) error {
	mode, err := xdp.ParseMode(f.mode)
	if err != nil {
		return usagef("--mode: %v", err)
	}
	if f.pin != "" && f.duration != 0 {
		return usagef("--pin and --duration exclude each other: a pinned program stays attached until xdpkit detach %s", iface)
	}
	if f.duration < 0 {
		return usagef("--duration must be positive, got %v", f.duration)
	}
	if err := caps.Require(caps.BPF, caps.NetAdmin); err != nil {
		return err
	}

	a, err := xdp.Attach(xdp.AttachOptions{
		Interface:  iface,
		ObjectPath: obj,
		Program:    f.prog,
		Mode:       mode,
		Pin:        f.pin,
	})
	if err != nil {
		return caps.Explain(err, caps.BPF, caps.NetAdmin)
	}
	defer a.Close()

	info := a.Info()
	p := info.Programs[0]
	if g.json {
		if err := output.JSON(g.stdout, interfaceToJSON(info)); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(g.stdout, "%s: attached %s (id %d, tag %s, %s mode, link %d)\n",
			iface, p.Name, p.ID, p.Tag, p.Mode, p.LinkID)
	}
	if a.Pinned() {
		fmt.Fprintf(g.stderr, "pinned at %s: stays attached; remove it with xdpkit detach %s\n",
			strings.Join(p.Pins, ","), iface)
		return nil
	}

	var timeout <-chan time.Time
	if f.duration > 0 {
		timer := time.NewTimer(f.duration)
		defer timer.Stop()
		timeout = timer.C
		fmt.Fprintf(g.stderr, "attached; detaching in %v (Ctrl-C detaches now)\n", f.duration)
	} else {
		fmt.Fprintln(g.stderr, "attached; Ctrl-C detaches")
	}
	select {
	case <-ctx.Done():
	case <-timeout:
	}
	if err := a.Close(); err != nil {
		return err
	}
	fmt.Fprintf(g.stderr, "detached %s from %s\n", p.Name, iface)
	return nil
}

func newDetachCmd(g *globals) *cobra.Command {
	var mode string
	cmd := &cobra.Command{
		Use:   "detach IFACE",
		Short: "Detach the XDP program from an interface",
		Long: `Detach the XDP programs attached to IFACE in the current network namespace
(only the one in --mode when given), whoever attached them: a program
attached through netlink (ip link set dev X xdp ...) is removed through
netlink; a bpf_link is detached and every pin of it on a mounted BPF
filesystem removed.

bpf_links do not record their network namespace: if links of other
namespaces hold the same program on an interface with the same index (lo is
1 in every namespace), detach cannot tell which is IFACE's, lists them and
detaches nothing; use bpftool link detach id ID then.

Needs CAP_NET_ADMIN and CAP_SYS_ADMIN (to open the program and find the
bpf_link).`,
		Example: `  xdpkit detach veth0
  xdpkit detach eth0 --mode generic`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDetach(g, args[0], mode)
		},
	}
	cmd.Flags().StringVar(&mode, "mode", "", "detach only the program in this `MODE`: native, generic or offload (default: all)")
	return cmd
}

// detachJSON is the --json output of xdpkit detach.
type detachJSON struct {
	Interface string        `json:"interface"`
	Detached  []programJSON `json:"detached"`
}

func runDetach(g *globals, iface, modeName string) error {
	mode, err := xdp.ParseMode(modeName)
	if err != nil {
		return usagef("--mode: %v", err)
	}
	if err := caps.Require(caps.SysAdmin, caps.NetAdmin); err != nil {
		return err
	}
	done, err := xdp.Detach(iface, xdp.DetachOptions{Mode: mode})
	if err != nil {
		return caps.Explain(err, caps.SysAdmin, caps.NetAdmin)
	}
	if g.json {
		j := detachJSON{Interface: iface, Detached: []programJSON{}}
		for _, p := range done {
			j.Detached = append(j.Detached, programToJSON(p))
		}
		return output.JSON(g.stdout, j)
	}
	for _, p := range done {
		fmt.Fprintf(g.stdout, "%s: detached %s", iface, p.Describe())
		if len(p.Pins) > 0 {
			fmt.Fprintf(g.stdout, "; removed pin %s", strings.Join(p.Pins, ", "))
		}
		fmt.Fprintln(g.stdout)
	}
	return nil
}
