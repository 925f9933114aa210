package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/output"
	"github.com/xdpkit/xdpkit/responder"
	"github.com/xdpkit/xdpkit/trafficgen"
	"github.com/xdpkit/xdpkit/xdp"
	"github.com/xdpkit/xdpkit/xsk"
	"github.com/xdpkit/xdpkit/xskapp"
)

// xskReportJSON is the --json output of xsk rx, tx, fwd and ping: one
// object. Rates are over active_s, the time from the first frame to
// the last.
type xskReportJSON struct {
	App             string              `json:"app"`
	Interface       string              `json:"interface"`
	Queues          []uint32            `json:"queues"`
	BindMode        string              `json:"bind_mode"`      // what the sockets are bound in: copy or zerocopy
	BindRequested   string              `json:"bind_requested"` // auto, copy or zerocopy
	ZeroCopy        bool                `json:"zero_copy"`
	NeedWakeup      bool                `json:"need_wakeup"`
	BusyPoll        *xskBusyPollJSON    `json:"busy_poll"` // null: off
	XDPMode         *string             `json:"xdp_mode"`  // null without xdpkit's program (tx, --xskmap)
	XSKMap          string              `json:"xskmap,omitempty"`
	FrameSize       uint32              `json:"frame_size"`
	FramesPerQueue  uint32              `json:"frames_per_queue"`
	RingSize        uint32              `json:"ring_size"`
	Batch           uint32              `json:"batch"`
	ElapsedSeconds  float64             `json:"elapsed_s"` // the whole run
	ActiveSeconds   float64             `json:"active_s"`  // first frame to last: the rates' time
	RxPackets       uint64              `json:"rx_packets"`
	RxBytes         uint64              `json:"rx_bytes"`
	RxPPS           float64             `json:"rx_pps"`
	RxMbps          float64             `json:"rx_mbps"`
	TxPackets       uint64              `json:"tx_packets"`
	TxBytes         uint64              `json:"tx_bytes"`
	TxPPS           float64             `json:"tx_pps"`
	TxMbps          float64             `json:"tx_mbps"`
	TxDropped       uint64              `json:"tx_dropped"`
	Replies         *xskRepliesJSON     `json:"replies,omitempty"` // ping only
	Ignored         *uint64             `json:"ignored,omitempty"` // ping only: frames that were no request it answers
	Socket          xsk.Statistics      `json:"socket"`
	PerQueue        []xskQueueJSON      `json:"per_queue"`
	Program         []xsk.QueueCounters `json:"program"` // null without xdpkit's program
	Interrupted     bool                `json:"interrupted"`
	Count           uint64              `json:"count"`      // --count, 0 for none
	DurationSeconds float64             `json:"duration_s"` // --duration, 0 for none
	PPSTarget       uint64              `json:"pps_target"` // --pps (tx), 0 for none
	FrameLen        int                 `json:"frame_len,omitempty"`
	Addrs           []string            `json:"addrs,omitempty"` // ping: the addresses answered for
}

type xskBusyPollJSON struct {
	TimeoutUS int64 `json:"timeout_us"`
	Budget    int   `json:"budget"` // 0: the kernel's
}

// xskRepliesJSON counts ping's replies by kind.
type xskRepliesJSON struct {
	ARPReply              uint64 `json:"arp_reply"`
	NeighborAdvertisement uint64 `json:"neighbor_advertisement"`
	EchoReplyV4           uint64 `json:"echo_reply_v4"`
	EchoReplyV6           uint64 `json:"echo_reply_v6"`
}

// xskQueueJSON is one queue's share.
type xskQueueJSON struct {
	Queue         uint32          `json:"queue"`
	ActiveSeconds float64         `json:"active_s"`
	RxPackets     uint64          `json:"rx_packets"`
	RxBytes       uint64          `json:"rx_bytes"`
	RxPPS         float64         `json:"rx_pps"`
	TxPackets     uint64          `json:"tx_packets"`
	TxBytes       uint64          `json:"tx_bytes"`
	TxPPS         float64         `json:"tx_pps"`
	TxDropped     uint64          `json:"tx_dropped"`
	Replies       *xskRepliesJSON `json:"replies,omitempty"`
	Ignored       *uint64         `json:"ignored,omitempty"`
	Socket        xsk.Statistics  `json:"socket"`
}

func runXsk(cmd *cobra.Command, g *globals, kind xskapp.Kind, iface string, f *xskFlags) (err error) {
	ctx := cmd.Context()
	job, err := prepareXsk(cmd, kind, iface, f)
	if err != nil {
		return err
	}
	need := job.caps()
	app, err := newXskApp(ctx, job.cfg)
	if err != nil {
		return explainXskError(err, job, need)
	}
	defer func() {
		if cerr := app.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("clean up after the run: %w", cerr)
		}
	}()
	if ctx.Err() != nil {
		fmt.Fprintln(g.stderr, "xdpkit: interrupted before the run started")
		return exitStatusError{code: ExitInterrupted}
	}
	zc := app.ZeroCopy()
	for _, w := range xskStartWarnings(job) {
		fmt.Fprintln(g.stderr, "warning: "+w)
	}
	if !f.quiet && !g.json {
		fmt.Fprintln(g.stderr, xskStartLine(job, zc))
	}

	stats, err := runLive(cmd, g, f.quiet, f.interval, func() (xskapp.Stats, error) { return app.Run(ctx) }, app.Stats,
		func(prev, s xskapp.Stats) []string { return xskLiveLines(kind, prev, s) })
	interrupted := ctx.Err() != nil
	if err != nil {
		return explainXskError(err, job, need)
	}
	if err := printXskReport(g, job, stats, zc, interrupted); err != nil {
		return err
	}
	if interrupted {
		what := "received"
		n := stats.RxPackets
		if kind == xskapp.TX {
			what, n = "sent", stats.TxPackets
		}
		fmt.Fprintf(g.stderr, "xdpkit: interrupted after %d frames %s\n", n, what)
		return exitStatusError{code: ExitInterrupted}
	}
	return nil
}

// xskBusyWait is how long newXskApp retries while a queue is busy. The
// kernel frees the queue of a closed socket only after an RCU grace period
// and a workqueue run (xsk_destruct, xp_release_deferred): a run that
// starts right after another on the same queue finds it busy for some
// tens of milliseconds.
const xskBusyWait = time.Second

// newXskApp is xskapp.New, retried while the queue is busy for at most
// xskBusyWait.
func newXskApp(ctx context.Context, cfg xskapp.Config) (*xskapp.App, error) {
	deadline := time.Now().Add(xskBusyWait)
	for {
		app, err := xskapp.New(cfg)
		if err == nil || !errors.Is(err, xsk.ErrQueueBusy) || time.Now().After(deadline) || ctx.Err() != nil {
			return app, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// explainXskError adds the CLI's words to an error of xskapp: the flags
// that fix it, the capabilities to get. The library words its fixes in its
// own terms, which may name no flag, a flag, or its API: the CLI's words
// replace the fix where the library's sentence for it is found, and are
// added otherwise.
func explainXskError(err error, job *xskJob, need []caps.Cap) error {
	msg := err.Error()
	hint := func(h string) error {
		if strings.Contains(msg, h) {
			return err
		}
		return cliTextError{msg: msg + h, err: err}
	}
	// fix ends msg with fix in place of what follows the last "words"
	// (which fix begins with), or with sep and fix.
	fix := func(words, sep, fix string) error {
		if i := strings.LastIndex(msg, words); i >= 0 {
			return cliTextError{msg: msg[:i] + fix, err: err}
		}
		return cliTextError{msg: msg + sep + fix, err: err}
	}
	var sysErr *os.SyscallError
	switch {
	case errors.Is(err, xsk.ErrQueueRange):
		flags := fmt.Sprintf("--queue %d", job.f.queue)
		if job.f.queues > 1 {
			flags += fmt.Sprintf(" --queues %d", job.f.queues)
		}
		return cliTextError{msg: flags + ": " + msg, err: err}
	case errors.Is(err, xsk.ErrQueueBusy):
		return hint("; or choose another --queue")
	case errors.Is(err, xsk.ErrZeroCopyUnsupported):
		return fix("use copy mode", ": ", "use copy mode (--copy)")
	case errors.Is(err, os.ErrPermission) && (errors.Is(err, unix.ENOMEM) || errors.Is(err, unix.ENOBUFS)):
		// The UMEM is over the locked-memory limit (xsk's memlockError).
		smaller := "use a smaller UMEM: fewer --frames (at least twice --ring-size, so with a smaller --ring-size too)"
		if job.cfg.FrameSize > 2048 {
			smaller += " or --frame-size 2048"
		}
		smaller += fmt.Sprintf("; it takes --frames x --queues x --frame-size bytes, %s here", xskUmemSize(job.cfg))
		return fix("use a smaller UMEM", "; or ", smaller)
	case errors.As(err, &sysErr) && sysErr.Syscall == "mmap" && errors.Is(err, unix.ENOMEM):
		// No memory for the UMEM at all.
		return usageError{cliTextError{msg: fmt.Sprintf("%s: the UMEM takes --frames x --queues x --frame-size bytes, %s here: give a smaller --frames",
			msg, xskUmemSize(job.cfg)), err: err}}
	case errors.Is(err, ebpf.ErrNotSupported) && strings.Contains(msg, "(--mode generic)"):
		// xdp words it for xdpkit attach; here the flag is --xdp-mode.
		return cliTextError{msg: strings.ReplaceAll(msg, "(--mode generic)", "(--xdp-mode generic)"), err: err}
	}
	return caps.Explain(err, need...)
}

// xskUmemSize is the size of the UMEM of cfg, in words.
func xskUmemSize(cfg xskapp.Config) string {
	n := uint64(cfg.FramesPerQueue) * uint64(cfg.Queues) * uint64(cfg.FrameSize)
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%d MiB", n>>20)
}

// xskStartWarnings are what may keep frames from the sockets, said before
// the run: a UMEM frame too small for the MTU, and with --xskmap an
// interface without an XDP program to redirect into the map.
func xskStartWarnings(job *xskJob) []string {
	cfg := job.cfg
	if cfg.Kind == xskapp.TX {
		return nil
	}
	var warnings []string
	dev := job.dev
	room := xskFrameRoom(cfg.FrameSize)
	if longest := dev.MTU + trafficgen.EthernetHeaderLen; longest > room {
		fix := "use --frame-size 4096"
		if cfg.FrameSize >= 4096 {
			fix = fmt.Sprintf("lower the MTU to %d or less", room-trafficgen.EthernetHeaderLen)
		}
		warnings = append(warnings, fmt.Sprintf("%s's MTU %d lets frames of up to %d bytes arrive (%d with a VLAN tag), "+
			"but a --frame-size %d UMEM frame holds %d (%d bytes of headroom are the kernel's): the kernel drops longer frames (rx_dropped); %s",
			dev.Name, dev.MTU, longest, longest+4, cfg.FrameSize, room, xsk.PacketHeadroom, fix))
	}
	if cfg.XSKMapPin != "" {
		ifaces, err := xdp.Status(dev.Name)
		if (err == nil || errors.Is(err, xdp.ErrIncomplete)) && len(ifaces) == 1 && len(ifaces[0].Programs) == 0 {
			warnings = append(warnings, fmt.Sprintf("%s has no XDP program attached: nothing reaches the sockets until a program "+
				"that redirects into the XSKMAP %s is attached to it", dev.Name, cfg.XSKMapPin))
		}
	}
	return warnings
}

// xskBindText says how the sockets are bound: "copy mode", "zero-copy".
func xskBindText(zc bool) string {
	if zc {
		return "zero-copy"
	}
	return "copy mode"
}

// xskQueuesText names the queues: "queue 0", "queues 0-3".
func xskQueuesText(cfg xskapp.Config) string {
	if cfg.Queues == 1 {
		return fmt.Sprintf("queue %d", cfg.Queue)
	}
	return fmt.Sprintf("queues %d-%d", cfg.Queue, cfg.Queue+uint32(cfg.Queues)-1)
}

// xskStartLine says what the run does, once it is ready: the sockets are
// bound and the program attached.
func xskStartLine(job *xskJob, zc bool) string {
	cfg := job.cfg
	wakeup := "off"
	if cfg.NeedWakeup {
		wakeup = "on"
	}
	s := fmt.Sprintf("%s: xsk %s on %s, %s, need_wakeup %s", cfg.Interface, cfg.Kind, xskQueuesText(cfg), xskBindText(zc), wakeup)
	if cfg.BusyPoll != nil {
		s += fmt.Sprintf(", busy poll %v", cfg.BusyPoll.Timeout)
	}
	switch {
	case job.hasProg:
		s += fmt.Sprintf(", xdpkit's redirect program attached in %s mode", cfg.XDPMode)
	case cfg.XSKMapPin != "":
		s += ", sockets registered in " + cfg.XSKMapPin
	}
	switch cfg.Kind {
	case xskapp.RX:
		s += "; counting and dropping"
	case xskapp.TX:
		s += "; sending " + job.what
		if cfg.PPS > 0 {
			s += " at " + rateText(cfg.PPS)
		} else {
			s += " as fast as the sockets go"
		}
	case xskapp.Fwd:
		s += "; sending every frame back with its MACs swapped"
	case xskapp.Ping:
		addrs := make([]string, len(job.addrs))
		for i, a := range job.addrs {
			addrs[i] = a.String()
		}
		s += fmt.Sprintf("; answering for %s as %s", strings.Join(addrs, ", "), job.dev.MAC)
	}
	switch {
	case cfg.Count != 0 && cfg.Duration != 0:
		s += fmt.Sprintf(", %d frames or %v, whichever comes first", cfg.Count, cfg.Duration)
	case cfg.Count != 0:
		s += fmt.Sprintf(", %d frames", cfg.Count)
	case cfg.Duration != 0:
		s += fmt.Sprintf(", for %v", cfg.Duration)
	default:
		s += ", until Ctrl-C"
	}
	return s
}

// thousands formats n with commas: 1,234,567.
func thousands(n uint64) string {
	s := fmt.Sprint(n)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	head := len(s) % 3
	if head > 0 {
		b.WriteString(s[:head])
	}
	for i := head; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// thousandsF formats a rate rounded to a whole number with commas.
func thousandsF(v float64) string {
	if v <= 0 || math.IsNaN(v) {
		return "0"
	}
	return thousands(uint64(math.Round(v)))
}

// xskLiveLines are the lines of live statistics for s, with the rates of
// the period since prev, in the format of the xdp-tutorial's
// af_xdp_user: totals and the period's rates for RX and TX, then the
// sockets' drop counters (totals) and, for ping, the replies.
func xskLiveLines(kind xskapp.Kind, prev, s xskapp.Stats) []string {
	period := s.Elapsed - prev.Elapsed
	line := func(name string, pkts, prevPkts, bytes, prevBytes uint64) string {
		var pps, mbits float64
		if period > 0 {
			pps = float64(pkts-prevPkts) / period.Seconds()
			mbits = float64(bytes-prevBytes) * 8 / period.Seconds() / 1e6
		}
		return fmt.Sprintf("%-12s %11s pkts (%10s pps) %11s Kbytes (%6s Mbits/s) period:%.3f",
			name, thousands(pkts), thousandsF(pps), thousands(bytes/1000), thousandsF(mbits), period.Seconds())
	}
	lines := []string{
		line("AF_XDP RX:", s.RxPackets, prev.RxPackets, s.RxBytes, prev.RxBytes),
		line("       TX:", s.TxPackets, prev.TxPackets, s.TxBytes, prev.TxBytes),
	}
	st := s.Socket
	drops := fmt.Sprintf("%-12s rx_dropped %s  rx_ring_full %s  fill_ring_empty %s  invalid %s/%s",
		"      drops:", thousands(st.RxDropped), thousands(st.RxRingFull), thousands(st.RxFillRingEmpty),
		thousands(st.RxInvalidDescs), thousands(st.TxInvalidDescs))
	if kind == xskapp.Fwd || kind == xskapp.Ping {
		drops += "  tx_dropped " + thousands(s.TxDropped)
	}
	lines = append(lines, drops)
	if kind == xskapp.Ping {
		lines = append(lines, fmt.Sprintf("%-12s %s  ignored %s", "    replies:", repliesText(s.Replies, "  "), thousands(xskIgnored(s.Counters))))
	}
	return lines
}

// replyKinds are the kinds of reply ping makes, in order.
var replyKinds = []responder.Kind{responder.ARPReply, responder.NeighborAdvertisement, responder.EchoReplyV4, responder.EchoReplyV6}

// repliesText lists the replies by kind: "arp-reply 1, echo-reply-v4 3".
func repliesText(r [responder.EchoReplyV6 + 1]uint64, sep string) string {
	parts := make([]string, len(replyKinds))
	for i, k := range replyKinds {
		parts[i] = fmt.Sprintf("%s %s", k, thousands(r[k]))
	}
	return strings.Join(parts, sep)
}

func repliesJSON(r [responder.EchoReplyV6 + 1]uint64) *xskRepliesJSON {
	return &xskRepliesJSON{
		ARPReply:              r[responder.ARPReply],
		NeighborAdvertisement: r[responder.NeighborAdvertisement],
		EchoReplyV4:           r[responder.EchoReplyV4],
		EchoReplyV6:           r[responder.EchoReplyV6],
	}
}

// xskIgnored is how many frames ping received that were no request it
// answers: Replies counts every answer, those the TX ring had no room
// for (TxDropped) too.
func xskIgnored(c xskapp.Counters) uint64 {
	var answered uint64
	for _, n := range c.Replies {
		answered += n
	}
	if answered > c.RxPackets {
		return 0
	}
	return c.RxPackets - answered
}

// socketDrops are the frames the kernel dropped for a socket (in copy mode
// rx_dropped counts those that found the FILL ring empty too).
func socketDrops(st xsk.Statistics) uint64 {
	return st.RxDropped + st.RxRingFull + st.RxInvalidDescs + st.TxInvalidDescs
}

// xskTooLong estimates how many of the frames the kernel dropped for the
// sockets were longer than a UMEM frame holds: rx_dropped, less, in copy
// mode, the frames it also counts there for an empty FILL ring (one
// fill_ring_empty each). In zero-copy mode an empty FILL ring is the
// driver's business and fill_ring_empty counts no drops.
func xskTooLong(st xsk.Statistics, zc bool) uint64 {
	if zc {
		return st.RxDropped
	}
	return st.RxDropped - min(st.RxDropped, st.RxFillRingEmpty)
}

// printXskReport prints the final report, human or JSON, and warns on
// stderr about frames the kernel dropped for the sockets.
func printXskReport(g *globals, job *xskJob, s xskapp.Stats, zc, interrupted bool) error {
	cfg := job.cfg
	kind := cfg.Kind
	if g.json {
		j := xskReportJSON{
			App: string(kind), Interface: cfg.Interface, Queues: []uint32{}, BindMode: "copy", BindRequested: cfg.Bind.String(),
			ZeroCopy: zc, NeedWakeup: cfg.NeedWakeup, XSKMap: cfg.XSKMapPin, FrameSize: cfg.FrameSize,
			FramesPerQueue: cfg.FramesPerQueue, RingSize: cfg.RingSize, Batch: cfg.Batch,
			ElapsedSeconds: s.Elapsed.Seconds(), ActiveSeconds: s.Active.Seconds(),
			RxPackets: s.RxPackets, RxBytes: s.RxBytes, RxPPS: s.RxPPS(), RxMbps: mbps(s.RxBytes, s.Active),
			TxPackets: s.TxPackets, TxBytes: s.TxBytes, TxPPS: s.TxPPS(), TxMbps: mbps(s.TxBytes, s.Active),
			TxDropped: s.TxDropped, Socket: s.Socket, PerQueue: []xskQueueJSON{}, Interrupted: interrupted,
			Count: cfg.Count, DurationSeconds: cfg.Duration.Seconds(), PPSTarget: uint64(cfg.PPS), FrameLen: len(cfg.Frame),
		}
		if zc {
			j.BindMode = "zerocopy"
		}
		if bp := cfg.BusyPoll; bp != nil {
			j.BusyPoll = &xskBusyPollJSON{TimeoutUS: bp.Timeout.Microseconds(), Budget: bp.Budget}
		}
		if job.hasProg {
			mode := string(cfg.XDPMode)
			j.XDPMode = &mode
			j.Program = s.Program
			if j.Program == nil {
				j.Program = []xsk.QueueCounters{}
			}
		}
		if kind == xskapp.Ping {
			j.Replies = repliesJSON(s.Replies)
			ignored := xskIgnored(s.Counters)
			j.Ignored = &ignored
			for _, a := range job.addrs {
				j.Addrs = append(j.Addrs, a.String())
			}
		}
		for _, q := range s.Queues {
			j.Queues = append(j.Queues, q.Queue)
			qj := xskQueueJSON{Queue: q.Queue, ActiveSeconds: q.Active.Seconds(),
				RxPackets: q.RxPackets, RxBytes: q.RxBytes, RxPPS: q.RxPPS(),
				TxPackets: q.TxPackets, TxBytes: q.TxBytes, TxPPS: q.TxPPS(), TxDropped: q.TxDropped, Socket: q.Socket}
			if kind == xskapp.Ping {
				qj.Replies = repliesJSON(q.Replies)
				ignored := xskIgnored(q.Counters)
				qj.Ignored = &ignored
			}
			j.PerQueue = append(j.PerQueue, qj)
		}
		if err := output.JSON(g.stdout, j); err != nil {
			return err
		}
	} else {
		printXskHuman(g.stdout, job, s, zc, interrupted)
	}

	st := s.Socket
	if kind != xskapp.TX && st.RxRingFull+st.RxFillRingEmpty > 0 {
		fmt.Fprintf(g.stderr, "warning: the threads did not keep up: the kernel found the RX ring full %d times (rx_ring_full) "+
			"and the FILL ring empty %d times (fill_ring_empty); try a larger --ring-size, --frames or --batch, more --queues, or --busy-poll\n",
			st.RxRingFull, st.RxFillRingEmpty)
	}
	if n := xskTooLong(st, zc); kind != xskapp.TX && n > 0 {
		room := xskFrameRoom(cfg.FrameSize)
		fix := "use --frame-size 4096"
		if cfg.FrameSize >= 4096 {
			fix = fmt.Sprintf("frames over %d bytes cannot reach the sockets: lower the sender's MTU", room)
		}
		fmt.Fprintf(g.stderr, "warning: the kernel dropped %d frames longer than a UMEM frame holds (rx_dropped %d): "+
			"a --frame-size %d frame holds %d bytes (%d - %d of the kernel's headroom); %s\n",
			n, st.RxDropped, cfg.FrameSize, room, cfg.FrameSize, xsk.PacketHeadroom, fix)
	}
	if st.RxInvalidDescs+st.TxInvalidDescs > 0 {
		fmt.Fprintf(g.stderr, "warning: the kernel refused %d RX and %d TX descriptors as invalid (rx_invalid_descs, tx_invalid_descs): "+
			"xdpkit gave it addresses or lengths outside the UMEM; please report it\n",
			st.RxInvalidDescs, st.TxInvalidDescs)
	}
	if kind != xskapp.RX && s.TxDropped > 0 {
		fmt.Fprintf(g.stderr, "warning: %d frames were not sent back: the TX ring was full; try a larger --ring-size\n", s.TxDropped)
	}
	if cfg.PPS > 0 && s.TxPackets > 0 && s.TxPPS() < 0.98*cfg.PPS {
		fmt.Fprintf(g.stderr, "warning: --pps %.0f was not reached: %s (%.3g %% of it); add --queues or lower --pps\n",
			cfg.PPS, rateText(s.TxPPS()), 100*s.TxPPS()/cfg.PPS)
	}
	return nil
}

// printXskHuman prints the human report.
func printXskHuman(w io.Writer, job *xskJob, s xskapp.Stats, zc, interrupted bool) {
	cfg := job.cfg
	kind := cfg.Kind
	end := ""
	if interrupted {
		end = " (interrupted)"
	}
	fmt.Fprintf(w, "%s: xsk %s on %s ran %v%s\n", cfg.Interface, kind, xskQueuesText(cfg), s.Elapsed.Round(time.Millisecond), end)
	counts := func(n, bytes uint64, pps float64, active time.Duration) string {
		s := fmt.Sprintf("%d frames (%d bytes)", n, bytes)
		if n == 0 {
			return "0 frames"
		}
		if active <= 0 {
			// All in one batch: no time between the first and the last.
			return s + " in one batch: no rate"
		}
		return fmt.Sprintf("%s in %v: %s, %.1f Mbit/s", s, active.Round(time.Microsecond),
			rateText(pps), mbps(bytes, active))
	}
	if kind != xskapp.TX {
		fmt.Fprintf(w, "  received  %s\n", counts(s.RxPackets, s.RxBytes, s.RxPPS(), s.Active))
	}
	if kind != xskapp.RX {
		fmt.Fprintf(w, "  sent      %s\n", counts(s.TxPackets, s.TxBytes, s.TxPPS(), s.Active))
	}
	if kind == xskapp.Ping {
		fmt.Fprintf(w, "  replies   %s\n", repliesText(s.Replies, ", "))
		fmt.Fprintf(w, "  ignored   %d frames that were not requests\n", xskIgnored(s.Counters))
	}
	if kind == xskapp.Fwd || kind == xskapp.Ping {
		fmt.Fprintf(w, "  not sent  %d frames (the TX ring was full)\n", s.TxDropped)
	}
	st := s.Socket
	fmt.Fprintf(w, "  drops     rx_dropped %d, rx_ring_full %d, fill_ring_empty %d, invalid descriptors rx %d tx %d\n",
		st.RxDropped, st.RxRingFull, st.RxFillRingEmpty, st.RxInvalidDescs, st.TxInvalidDescs)
	if kind != xskapp.RX {
		// Not a drop: in copy mode every send call ends at an empty ring.
		fmt.Fprintf(w, "  tx ring   found empty %d times by the kernel (tx_ring_empty; not drops)\n", st.TxRingEmpty)
	}
	switch {
	case job.hasProg:
		var parts []string
		for _, c := range s.Program {
			parts = append(parts, fmt.Sprintf("queue %d: %d redirected, %d passed to the stack", c.Queue, c.Redirected, c.Passed))
		}
		if len(parts) == 0 {
			parts = append(parts, "no frames")
		}
		fmt.Fprintf(w, "  program   xdpkit's redirect program (%s mode): %s\n", cfg.XDPMode, strings.Join(parts, "; "))
	case cfg.XSKMapPin != "":
		fmt.Fprintf(w, "  program   your own, through the XSKMAP %s (its counters are its own)\n", cfg.XSKMapPin)
	}
	wakeup := "off"
	if cfg.NeedWakeup {
		wakeup = "on"
	}
	bind := xskBindText(zc)
	switch {
	case cfg.Bind == xsk.ModeAuto && !zc:
		bind += " (zero-copy not active: the driver cannot, or chose not to)"
	case cfg.Bind == xsk.ModeAuto:
		bind += " (chosen by the kernel)"
	}
	busy := ""
	if bp := cfg.BusyPoll; bp != nil {
		busy = fmt.Sprintf(", busy poll %v", bp.Timeout)
		if bp.Budget > 0 {
			busy += fmt.Sprintf(" (budget %d)", bp.Budget)
		}
	}
	fmt.Fprintf(w, "  bind      %s, need_wakeup %s%s; %d frames of %d bytes per queue, rings of %d, batch %d\n",
		bind, wakeup, busy, cfg.FramesPerQueue, cfg.FrameSize, cfg.RingSize, cfg.Batch)
	if len(s.Queues) > 1 {
		for _, q := range s.Queues {
			var parts []string
			if kind != xskapp.TX {
				parts = append(parts, fmt.Sprintf("rx %d frames, %s", q.RxPackets, rateText(q.RxPPS())))
			}
			if kind != xskapp.RX {
				parts = append(parts, fmt.Sprintf("tx %d frames, %s", q.TxPackets, rateText(q.TxPPS())))
			}
			if kind == xskapp.Ping {
				parts = append(parts, "replies "+repliesText(q.Replies, ", "), fmt.Sprintf("%d ignored", xskIgnored(q.Counters)))
			}
			if n := socketDrops(q.Socket); n > 0 {
				parts = append(parts, fmt.Sprintf("%d dropped by the kernel", n))
			}
			fmt.Fprintf(w, "  queue %-3d %s\n", q.Queue, strings.Join(parts, "; "))
		}
	}
}
