package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/output"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/trafficgen"
)

// genProbeFlags are the flags of gen probe.
type genProbeFlags struct {
	peerProg string
	noTrial  bool
}

func newGenProbeCmd(g *globals) *cobra.Command {
	var f genProbeFlags
	cmd := &cobra.Command{
		Use:   "probe IFACE",
		Short: "Tell whether IFACE can transmit XDP frames, and what to do if not",
		Long: `Tell whether the generator can send from IFACE: from the interface's XDP
feature flags (NDO_XMIT, on kernels that report them, 6.3 and later), from
its veth peer's XDP program (a veth drops XDP frames unless its peer has
one), and by a trial: one broadcast frame of a local experimental
EtherType (0x88b5, which no stack acts on) sent with the generator, counted
on the interface and its peer.

The report shows the interface's kind, state, MTU, queues and XDP
features, its veth peer and the peer's program, the trial's counts, and
the verdict with the reason and the fix. --peer-prog attaches a program to
a peer that has none for the trial, as it does for a run: pass-through
(the default, or =pass) or one that counts and drops the frame (=drop).

Exit code 0 when IFACE can transmit, 4 when it cannot, 5 when there is no
such interface.`,
		Example: `  xdpkit gen probe xk-demo
  xdpkit gen probe xk-demo --peer-prog --json
  xdpkit gen probe eth0 --no-trial`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenProbe(g, args[0], &f)
		},
	}
	addPeerProgFlag(cmd, &f.peerProg, "trial")
	cmd.Flags().BoolVar(&f.noTrial, "no-trial", false, "send nothing: judge by the feature flags and the peer's program only")
	return cmd
}

// probeJSON is the --json output of gen probe.
type probeJSON struct {
	Interface     string         `json:"interface"`
	Ifindex       int            `json:"ifindex"`
	Kind          string         `json:"kind"`
	Up            bool           `json:"up"`
	MTU           int            `json:"mtu"`
	MAC           string         `json:"mac"`
	RxQueues      int            `json:"rx_queues"`
	TxQueues      int            `json:"tx_queues"`
	Addrs         []string       `json:"addrs"`
	XDPFeatures   *string        `json:"xdp_features"` // null when the kernel does not report them
	Peer          *probePeerJSON `json:"peer"`
	CanTransmit   bool           `json:"can_transmit"`
	Reason        string         `json:"reason,omitempty"`
	Trial         *probeTrial    `json:"trial"`
	PeerProgTrial string         `json:"peer_prog"`
}

type probePeerJSON struct {
	Name      string   `json:"name"`
	Ifindex   int      `json:"ifindex"`
	Netns     string   `json:"netns"`
	MAC       string   `json:"mac"`
	Addrs     []string `json:"addrs"`
	XDPProgID uint32   `json:"xdp_prog_id"` // 0: none
}

type probeTrial struct {
	Sent          uint64  `json:"sent"`
	OK            bool    `json:"ok"`
	TxPackets     *uint64 `json:"tx_packets"`
	TxDropped     *uint64 `json:"tx_dropped"`
	PeerRxPackets *uint64 `json:"peer_rx_packets"`
	PeerRxDropped *uint64 `json:"peer_rx_dropped"`
	Delivered     *uint64 `json:"delivered"`
}

func runGenProbe(g *globals, iface string, f *genProbeFlags) error {
	// A missing interface is exit 5 with or without privileges.
	if _, err := netdev.Lookup(iface); err != nil {
		return err
	}
	pp, err := trafficgen.ParsePeerProgram(f.peerProg)
	if err != nil {
		return usagef("--peer-prog %q: use pass, drop or none", f.peerProg)
	}
	if !f.noTrial || pp != trafficgen.PeerNone {
		if err := caps.Require(caps.BPF, caps.NetAdmin); err != nil {
			return err
		}
	}
	r, err := trafficgen.Probe(iface, trafficgen.ProbeOptions{PeerProgram: pp, NoTrial: f.noTrial})
	if err != nil {
		return explainGenError(err)
	}
	j := probeToJSON(r, pp)
	if g.json {
		if err := output.JSON(g.stdout, j); err != nil {
			return err
		}
	} else {
		printProbe(g, j)
	}
	if !r.CanTransmit {
		// The report says why and what to do; the exit code says no.
		return exitStatusError{code: ExitNotSupported}
	}
	return nil
}

func u64(v uint64) *uint64 { return &v }

func probeToJSON(r *trafficgen.ProbeResult, peerProg trafficgen.PeerProgram) probeJSON {
	d := r.Device
	j := probeJSON{Interface: d.Name, Ifindex: d.Index, Kind: d.Kind, Up: d.Up, MTU: d.MTU, MAC: d.MAC.String(),
		RxQueues: d.RxQueues, TxQueues: d.TxQueues, Addrs: []string{}, CanTransmit: r.CanTransmit, Reason: r.Reason,
		PeerProgTrial: peerProg.String()}
	for _, a := range d.Addrs {
		j.Addrs = append(j.Addrs, a.String())
	}
	if r.FeaturesKnown {
		s := r.Features.String()
		j.XDPFeatures = &s
	}
	if p := d.Peer; p != nil {
		j.Peer = &probePeerJSON{Name: p.Name, Ifindex: p.Index, Netns: p.Netns, MAC: p.MAC.String(), Addrs: []string{},
			XDPProgID: uint32(p.XDPProgID)}
		for _, a := range p.Addrs {
			j.Peer.Addrs = append(j.Peer.Addrs, a.String())
		}
	}
	if t := r.Trial; t != nil {
		j.Trial = &probeTrial{Sent: t.Sent, OK: t.OK}
		if dev := t.Device; dev != nil {
			j.Trial.TxPackets, j.Trial.TxDropped, j.Trial.Delivered = u64(dev.TxPackets), u64(dev.TxDropped), u64(dev.Delivered())
			if dev.Peer {
				j.Trial.PeerRxPackets, j.Trial.PeerRxDropped = u64(dev.PeerRxPackets), u64(dev.PeerRxDropped)
			}
		}
	}
	return j
}

// printProbe prints the human report of gen probe.
func printProbe(g *globals, j probeJSON) {
	w := g.stdout
	state := "down"
	if j.Up {
		state = "up"
	}
	fmt.Fprintf(w, "%s: %s, index %d, %s, MTU %d, %d RX / %d TX queues, MAC %s\n",
		j.Interface, orDash(j.Kind), j.Ifindex, state, j.MTU, j.RxQueues, j.TxQueues, j.MAC)
	if len(j.Addrs) > 0 {
		fmt.Fprintf(w, "  addresses     %s\n", strings.Join(j.Addrs, ", "))
	}
	if j.XDPFeatures != nil {
		fmt.Fprintf(w, "  XDP features  %s\n", orDash(*j.XDPFeatures))
	} else {
		fmt.Fprintf(w, "  XDP features  not reported by this kernel (they are since 6.3)\n")
	}
	if p := j.Peer; p != nil {
		where := "this namespace"
		if p.Netns != "" {
			where = "netns " + p.Netns
		}
		prog := "none"
		if p.XDPProgID != 0 {
			prog = fmt.Sprintf("id %d", p.XDPProgID)
		}
		if p.XDPProgID == 0 && j.Trial != nil {
			switch j.PeerProgTrial {
			case trafficgen.PeerPass.String():
				prog += " (--peer-prog attached a pass-through program for the trial)"
			case trafficgen.PeerDrop.String():
				prog += " (--peer-prog=drop attached a program that counts and drops the frame for the trial)"
			}
		}
		fmt.Fprintf(w, "  veth peer     %s (index %d) in %s, MAC %s\n", p.Name, p.Ifindex, where, p.MAC)
		fmt.Fprintf(w, "  peer program  %s\n", prog)
	}
	if t := j.Trial; t != nil {
		fmt.Fprintf(w, "trial: %s\n", trialText(j.Interface, t))
	} else if j.CanTransmit {
		fmt.Fprintf(w, "trial: not made (--no-trial)\n")
	}
	if j.CanTransmit {
		fmt.Fprintf(w, "verdict: %s can transmit XDP frames\n", j.Interface)
		return
	}
	fmt.Fprintf(w, "verdict: %s cannot transmit XDP frames\n  why: %s\n", j.Interface, j.Reason)
}

// trialText says in words what the trial sent and who counted it: "sent
// 1 frame, the peer counted 1: it arrived".
func trialText(iface string, t *probeTrial) string {
	s := fmt.Sprintf("sent %d frame", t.Sent)
	if t.Sent != 1 {
		s += "s"
	}
	// The peer's drops are left out: its stack drops the trial's frame
	// (no one takes its EtherType) after counting it.
	switch {
	case t.PeerRxPackets != nil:
		s += fmt.Sprintf(", the peer counted %d", *t.PeerRxPackets)
	case t.TxPackets != nil:
		s += fmt.Sprintf(", %s counted %d leaving", iface, *t.TxPackets)
	default:
		return s + "; the interface's counters cannot be read, so nobody knows whether it left"
	}
	if t.TxDropped != nil && *t.TxDropped != 0 {
		s += fmt.Sprintf(" (%s dropped %d on the way out)", iface, *t.TxDropped)
	}
	switch {
	case t.OK && t.PeerRxPackets != nil:
		s += ": it arrived"
	case t.OK:
		s += ": it left"
	case t.PeerRxPackets != nil:
		s += ": it did not arrive"
	default:
		s += ": it did not leave"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
