package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/output"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/trafficgen"
)

// genJob is one sending gen command, ready to run.
type genJob struct {
	mode     string // udp, tcp, icmp or pcap
	spec     trafficgen.Spec
	out      *netdev.Device // where the frames leave: IFACE, the redirect target; nil for pass
	rf       *genRunFlags
	what     string // the frames, for the start line
	frameLen int    // the template's length; 0 in pcap mode
	pcap     string // the pcap file in pcap mode
}

// genReportJSON is the --json output of a sending gen command: one object.
type genReportJSON struct {
	Interface       string          `json:"interface"`
	Mode            string          `json:"mode"`
	Action          string          `json:"action"`
	FrameLen        int             `json:"frame_len,omitempty"`
	Pcap            string          `json:"pcap,omitempty"`
	PcapFrames      int             `json:"pcap_frames,omitempty"`
	Frames          uint64          `json:"frames"`
	Bytes           uint64          `json:"bytes"`
	ElapsedSeconds  float64         `json:"elapsed_seconds"` // from the start, the kernel's set-up included
	ActiveSeconds   float64         `json:"active_seconds"`  // from the first frame sent: the rates' time
	PPS             float64         `json:"pps"`
	Mbps            float64         `json:"mbps"`
	Paced           uint64          `json:"paced"`
	Delivered       *uint64         `json:"delivered"` // null when the device's counters are unknown
	DeliveredPPS    *float64        `json:"delivered_pps"`
	Device          *genDeviceJSON  `json:"device"`
	Threads         []genThreadJSON `json:"threads"`
	Interrupted     bool            `json:"interrupted"`
	Count           uint64          `json:"count"`            // --count, 0 for none
	PPSTarget       uint64          `json:"pps_target"`       // --pps, 0 for none
	DurationSeconds float64         `json:"duration_seconds"` // --duration, 0 for none
	Batch           int             `json:"batch"`
	PeerProg        string          `json:"peer_prog"`
}

// genDeviceJSON is what the interface the frames leave by and its veth
// peer counted.
type genDeviceJSON struct {
	Interface     string  `json:"interface"`
	TxPackets     uint64  `json:"tx_packets"`
	TxBytes       uint64  `json:"tx_bytes"`
	TxDropped     uint64  `json:"tx_dropped"`
	TxErrors      uint64  `json:"tx_errors"`
	Peer          string  `json:"peer,omitempty"`
	PeerRxPackets *uint64 `json:"peer_rx_packets"` // null without a readable peer
	PeerRxDropped *uint64 `json:"peer_rx_dropped"`
}

// genThreadJSON is one worker's share.
type genThreadJSON struct {
	CPU    int     `json:"cpu"`
	Frames uint64  `json:"frames"`
	Bytes  uint64  `json:"bytes"`
	Paced  uint64  `json:"paced"`
	PPS    float64 `json:"pps"`
}

// runGenerator runs job: live statistics while it goes, the final report
// after, exit 130 when interrupted. Nothing stays attached.
func runGenerator(cmd *cobra.Command, g *globals, job genJob) (err error) {
	ctx := cmd.Context()
	rf := job.rf
	gen, err := trafficgen.New(job.spec)
	if err != nil {
		return explainGenError(err)
	}
	defer func() {
		if cerr := gen.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("clean up after the run: %w", cerr)
		}
	}()
	if ctx.Err() != nil {
		fmt.Fprintln(g.stderr, "xdpkit: interrupted before sending anything")
		return exitStatusError{code: ExitInterrupted}
	}
	if !rf.quiet && !g.json {
		fmt.Fprintf(g.stderr, "%s: sending %s; %s\n", job.spec.Interface, job.what, runPlan(&job.spec))
	}
	if err := gen.Start(); err != nil {
		return explainGenError(err)
	}
	stopOnSignal := context.AfterFunc(ctx, gen.Stop)
	defer stopOnSignal()

	s, err := runLive(cmd, g, rf.quiet, rf.interval, gen.Wait, gen.Stats,
		func(prev, s trafficgen.Stats) []string { return []string{liveLine(prev, s)} })
	interrupted := ctx.Err() != nil
	if err != nil {
		return explainGenError(err)
	}
	// Wait has let the device counters settle.
	if err := printGenReport(g, &job, s, interrupted); err != nil {
		return err
	}
	if interrupted {
		fmt.Fprintf(g.stderr, "xdpkit: interrupted after %d frames\n", s.Frames)
		return exitStatusError{code: ExitInterrupted}
	}
	return nil
}

// runLive calls run in the background and returns what it returns,
// printing live statistics on stderr meanwhile (on a terminal, or
// whenever --interval is given; never when quiet): every interval, the
// lines of the statistics stats returns, with prev those of the last
// time (the zero value the first time).
func runLive[S any](cmd *cobra.Command, g *globals, quiet bool, interval time.Duration,
	run func() (S, error), stats func() S, lines func(prev, s S) []string) (S, error) {
	type result struct {
		s   S
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := run()
		done <- result{s, err}
	}()
	var tick <-chan time.Time
	if !quiet && (output.IsTerminal(g.stderr) || cmd.Flags().Changed("interval")) {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	var prev S
	for {
		select {
		case r := <-done:
			return r.s, r.err
		case <-tick:
			s := stats()
			for _, l := range lines(prev, s) {
				fmt.Fprintln(g.stderr, l)
			}
			prev = s
		}
	}
}

// explainGenError adds the CLI's words to a library error: the
// capabilities to get. (The library's cannot-transmit reasons name
// --peer-prog themselves where it helps.)
func explainGenError(err error) error {
	if errors.Is(err, trafficgen.ErrCannotTransmit) {
		return err
	}
	return caps.Explain(err, caps.BPF, caps.NetAdmin)
}

// cliTextError is err with its message reworded for the CLI; it still
// matches what err matches.
type cliTextError struct {
	msg string
	err error
}

func (e cliTextError) Error() string { return e.msg }
func (e cliTextError) Unwrap() error { return e.err }

// runPlan says how long and how fast the run goes, and where.
func runPlan(spec *trafficgen.Spec) string {
	var parts []string
	switch {
	case spec.Count != 0 && spec.Duration != 0:
		parts = append(parts, fmt.Sprintf("%d frames or %v, whichever comes first", spec.Count, spec.Duration))
	case spec.Count != 0:
		parts = append(parts, fmt.Sprintf("%d frames", spec.Count))
	case spec.Duration != 0:
		parts = append(parts, fmt.Sprintf("for %v", spec.Duration))
	default:
		parts = append(parts, "until Ctrl-C")
	}
	if spec.PPS != 0 {
		parts = append(parts, fmt.Sprintf("at %s", rateText(float64(spec.PPS))))
	} else {
		parts = append(parts, "as fast as the kernel goes")
	}
	threads := "1 thread"
	if spec.Threads > 1 {
		threads = fmt.Sprintf("%d threads", spec.Threads)
	}
	if spec.CPUs != nil {
		threads += fmt.Sprintf(" on CPUs %s", intsText(spec.CPUs))
	}
	parts = append(parts, threads)
	switch spec.Action {
	case trafficgen.Pass:
		parts = append(parts, "action pass (into this host's stack)")
	case trafficgen.Redirect:
		parts = append(parts, "redirected out of "+spec.RedirectTo)
	}
	out := spec.Interface
	if spec.Action == trafficgen.Redirect {
		out = spec.RedirectTo
	}
	switch spec.PeerProgram {
	case trafficgen.PeerPass:
		parts = append(parts, "a pass-through program on "+out+"'s peer")
	case trafficgen.PeerDrop:
		parts = append(parts, "a program on "+out+"'s peer that counts and drops the frames")
	}
	return strings.Join(parts, ", ")
}

func intsText(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

// rateText formats frames per second with a unit: 950 pps, 812.3 kpps,
// 5.71 Mpps.
func rateText(pps float64) string {
	switch {
	case pps >= 1e6:
		return fmt.Sprintf("%.2f Mpps", pps/1e6)
	case pps >= 1e3:
		return fmt.Sprintf("%.1f kpps", pps/1e3)
	}
	return fmt.Sprintf("%.0f pps", pps)
}

// mbps returns frame bytes over active in Mbit/s.
func mbps(bytes uint64, active time.Duration) float64 {
	if active <= 0 {
		return 0
	}
	return float64(bytes) * 8 / active.Seconds() / 1e6
}

// liveLine is one line of live statistics: the rates since prev, over
// the time frames were sent in (the first line leaves out the kernel's
// set-up of the run).
func liveLine(prev, s trafficgen.Stats) string {
	dt := s.Active - prev.Active
	var b strings.Builder
	fmt.Fprintf(&b, "%7.1fs  sent %s  %.1f Mbit/s", s.Elapsed.Seconds(),
		rateText(trafficgen.Rate(s.Frames-prev.Frames, dt)), mbps(s.Bytes-prev.Bytes, dt))
	if s.Device != nil {
		var before uint64
		if prev.Device != nil {
			before = prev.Device.Delivered()
		}
		if d := s.Device.Delivered(); d >= before {
			fmt.Fprintf(&b, "  delivered %s", rateText(trafficgen.Rate(d-before, dt)))
		}
	}
	if len(s.Workers) > 1 {
		parts := make([]string, len(s.Workers))
		for i, w := range s.Workers {
			var before uint64
			if i < len(prev.Workers) {
				before = prev.Workers[i].Frames
			}
			parts[i] = fmt.Sprintf("cpu%d %s", w.CPU, rateText(trafficgen.Rate(w.Frames-before, dt)))
		}
		fmt.Fprintf(&b, "  [%s]", strings.Join(parts, ", "))
	}
	return b.String()
}

// genEndSlack is how much longer than its frames take at --pps a paced
// run may last without the pacing warning: the end of a live-frames call
// (stopping it, tearing down its page pool) takes some 10 ms, in which
// nothing is sent but Stats.Active still counts.
const genEndSlack = 25 * time.Millisecond

// printGenReport prints the final report, human or JSON, and warns on
// stderr about frames that were not delivered or a rate not reached.
// Rates are over Stats.Active, the time from the first frame sent.
func printGenReport(g *globals, job *genJob, s trafficgen.Stats, interrupted bool) error {
	spec := &job.spec
	active := s.Active
	pps := trafficgen.Rate(s.Frames, active)
	out, peer := "", ""
	if job.out != nil {
		out = job.out.Name
		if job.out.Peer != nil {
			peer = job.out.Peer.Name
		}
	}
	if g.json {
		j := genReportJSON{
			Interface: spec.Interface, Mode: job.mode, Action: spec.Action.String(), FrameLen: job.frameLen,
			Pcap: job.pcap, Frames: s.Frames, Bytes: s.Bytes, ElapsedSeconds: s.Elapsed.Seconds(),
			ActiveSeconds: active.Seconds(), PPS: pps, Mbps: mbps(s.Bytes, active), Paced: s.Paced,
			Threads: []genThreadJSON{}, Interrupted: interrupted, Count: spec.Count, PPSTarget: spec.PPS,
			DurationSeconds: spec.Duration.Seconds(), Batch: spec.Batch, PeerProg: spec.PeerProgram.String(),
		}
		if job.pcap != "" {
			j.PcapFrames = len(spec.Frames)
		}
		for _, w := range s.Workers {
			j.Threads = append(j.Threads, genThreadJSON{CPU: w.CPU, Frames: w.Frames, Bytes: w.Bytes, Paced: w.Paced,
				PPS: trafficgen.Rate(w.Frames, active)})
		}
		if d := s.Device; d != nil {
			delivered, dpps := d.Delivered(), trafficgen.Rate(d.Delivered(), active)
			j.Delivered, j.DeliveredPPS = &delivered, &dpps
			j.Device = &genDeviceJSON{Interface: out, TxPackets: d.TxPackets, TxBytes: d.TxBytes, TxDropped: d.TxDropped, TxErrors: d.TxErrors}
			if d.Peer {
				rx, dropped := d.PeerRxPackets, d.PeerRxDropped
				j.Device.Peer, j.Device.PeerRxPackets, j.Device.PeerRxDropped = peer, &rx, &dropped
			}
		}
		if err := output.JSON(g.stdout, j); err != nil {
			return err
		}
	} else {
		what := "sent"
		switch spec.Action {
		case trafficgen.Pass:
			what = "passed to this host's stack"
		case trafficgen.Redirect:
			what = "redirected out of " + spec.RedirectTo
		}
		end := ""
		if interrupted {
			end = " (interrupted)"
		}
		fmt.Fprintf(g.stdout, "%s: %d frames %s in %v%s: %s, %.1f Mbit/s (%d bytes)\n", spec.Interface, s.Frames, what,
			active.Round(time.Millisecond), end, rateText(pps), mbps(s.Bytes, active), s.Bytes)
		if len(s.Workers) > 1 {
			for _, w := range s.Workers {
				fmt.Fprintf(g.stdout, "  cpu %d: %d frames, %s\n", w.CPU, w.Frames, rateText(trafficgen.Rate(w.Frames, active)))
			}
		}
		// With pass nothing leaves: no device counts the frames.
		if d := s.Device; d != nil {
			fmt.Fprintf(g.stdout, "device %s: tx %d packets, %d dropped, %d errors\n", out, d.TxPackets, d.TxDropped, d.TxErrors)
			if d.Peer {
				fmt.Fprintf(g.stdout, "peer %s: rx %d packets, %d dropped\n", peer, d.PeerRxPackets, d.PeerRxDropped)
			}
			fmt.Fprintf(g.stdout, "delivered: %d frames, %s\n", d.Delivered(), rateText(trafficgen.Rate(d.Delivered(), active)))
		} else if job.out != nil {
			fmt.Fprintf(g.stdout, "device %s: counters not readable; delivery unknown\n", out)
		}
		if spec.PPS != 0 {
			fmt.Fprintf(g.stdout, "pacing: target %s, reached %s; %d frames held back by the pacer (recycled, not sent)\n",
				rateText(float64(spec.PPS)), rateText(pps), s.Paced)
		}
	}

	if d := s.Device; d != nil && d.Delivered() < s.Frames {
		lost := s.Frames - d.Delivered()
		where := fmt.Sprintf("%s transmitted %d", out, d.TxPackets)
		if d.Peer {
			where += fmt.Sprintf(", its peer %s received %d and dropped %d", peer, d.PeerRxPackets, d.PeerRxDropped)
		}
		fmt.Fprintf(g.stderr, "warning: %d of %d frames were not delivered (%s, %d tx drops, %d tx errors): the receiver cannot keep up; "+
			"try --pps or a peer program that does less\n", lost, s.Frames, where, d.TxDropped, d.TxErrors)
	}
	if spec.PPS != 0 && s.Frames > 0 && pps < 0.98*float64(spec.PPS) {
		var flatOut []string
		for _, w := range s.Workers {
			if w.Paced == 0 {
				flatOut = append(flatOut, fmt.Sprint(w.CPU))
			}
		}
		// Active runs to the end of the kernel's call, whose tear-down
		// sends nothing: a short run falls short by that much alone.
		short := active - time.Duration(float64(s.Frames)/float64(spec.PPS)*float64(time.Second))
		if len(flatOut) > 0 || short > genEndSlack {
			why := "the CPUs or the kernel did not go faster"
			if len(flatOut) > 0 {
				why += fmt.Sprintf(" (the pacer never held a frame back on CPU %s: it ran flat out)", strings.Join(flatOut, ","))
			}
			fmt.Fprintf(g.stderr, "warning: --pps %d was not reached: %s (%.3g %% of it); %s; add --threads or lower --pps\n",
				spec.PPS, rateText(pps), 100*pps/float64(spec.PPS), why)
		}
	}
	return nil
}
