package cli

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/responder"
	"github.com/xdpkit/xdpkit/trafficgen"
	"github.com/xdpkit/xdpkit/xdp"
	"github.com/xdpkit/xdpkit/xsk"
	"github.com/xdpkit/xdpkit/xskapp"
)

func newXskCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "xsk",
		Short: "AF_XDP applications: receive, send, forward and answer pings from userspace",
		Long: `Run an AF_XDP application on one or more queues of an interface, as the
xdp-tutorial's af_xdp_user and the kernel's xdpsock do:

  xdpkit xsk rx IFACE     count the frames that arrive, and drop them
  xdpkit xsk tx IFACE     send a UDP, TCP or ICMP frame (gen's template flags)
                          as fast as the socket goes, or at --pps
  xdpkit xsk fwd IFACE    send every frame back out of IFACE with its MACs
                          swapped (l2fwd)
  xdpkit xsk ping IFACE   answer ARP, IPv6 neighbour solicitations and ICMP
                          echo requests for IFACE's addresses (or --addr)

One socket per queue (--queue, --queues), all sharing one UMEM, each driven
by a thread of its own. rx, fwd and ping attach xdpkit's redirect program
to IFACE with a bpf_link (frames of the sockets' queues go to the sockets,
everything else to the stack), or register the sockets in the pinned XSKMAP
of a program of one's own (--xskmap); tx attaches nothing. The bind mode is
zero-copy where the driver can and copy mode elsewhere (veth), unless
--copy or --zerocopy says which.

While it runs on a terminal (or whenever --interval is given), statistics
go to stderr every --interval: totals and the period's rates for RX and
TX, the sockets' drop counters and, for ping, the replies by kind. The
final report (stdout; --json: one object) gives totals, rates over the
time from the first frame to the last, the drop counters, the program's
redirected and passed counts, per-queue lines, and the bind mode.
Ctrl-C ends the run: the report is printed first; nothing stays attached.

Exit codes: 0 done, 2 bad input (also: the queue is out of range or
already has a socket), 3 missing privileges, 4 not supported (zero-copy on
a driver without it: use --copy), 5 no such interface or pinned map,
130 interrupted by Ctrl-C or SIGTERM (the final report is printed first).`,
	}
	cmd.AddCommand(
		newXskAppCmd(g, xskapp.RX),
		newXskAppCmd(g, xskapp.TX),
		newXskAppCmd(g, xskapp.Fwd),
		newXskAppCmd(g, xskapp.Ping),
	)
	return cmd
}

// xskFlags are the flags of xsk rx, tx, fwd and ping.
type xskFlags struct {
	queue          uint32
	queues         int
	copyMode       bool
	zeroCopy       bool
	wakeup         bool
	duration       time.Duration
	count          uint64
	interval       time.Duration
	batch          uint32
	frameSize      uint32
	frames         uint32
	ringSize       uint32
	busyPoll       time.Duration
	busyPollBudget int
	xdpMode        string
	xskmap         string
	quiet          bool
	pps            uint64 // tx; rx, fwd and ping refuse it

	// tx: the frame.
	proto string
	tf    genTemplateFlags
	// ping: the addresses to answer for.
	addrs []string
}

func newXskAppCmd(g *globals, kind xskapp.Kind) *cobra.Command {
	var f xskFlags
	short := map[xskapp.Kind]string{
		xskapp.RX:   "Count the frames that arrive on IFACE's queues, and drop them",
		xskapp.TX:   "Send a UDP, TCP or ICMP frame out of IFACE's queues, as fast as they go or at --pps",
		xskapp.Fwd:  "Send every frame that arrives back out of IFACE with its MACs swapped",
		xskapp.Ping: "Answer ARP, neighbour solicitations and ICMP echo requests from userspace",
	}[kind]
	cmd := &cobra.Command{
		Use:     string(kind) + " IFACE",
		Short:   short,
		Long:    xskLong(kind),
		Example: xskExample(kind),
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runXsk(cmd, g, kind, args[0], &f)
		},
	}
	fl := cmd.Flags()
	fl.Uint32Var(&f.queue, "queue", 0, "the first queue `N` to bind a socket to")
	fl.IntVar(&f.queues, "queues", 1, "bind `N` sockets, to --queue, --queue+1, ..., sharing one UMEM")
	fl.BoolVar(&f.copyMode, "copy", false, "bind in copy mode (XDP_COPY), which every driver does (default: zero-copy where the driver can)")
	fl.BoolVar(&f.zeroCopy, "zerocopy", false, "bind in zero-copy mode (XDP_ZEROCOPY), or fail where the driver cannot")
	fl.BoolVar(&f.wakeup, "wakeup", false, "bind with XDP_USE_NEED_WAKEUP: make a syscall only when the kernel asks for one")
	fl.DurationVarP(&f.duration, "duration", "d", 0, "stop after this long, such as 10s (default: no limit)")
	what := "receive"
	if kind == xskapp.TX {
		what = "send"
	}
	fl.Uint64VarP(&f.count, "count", "n", 0, fmt.Sprintf("%s exactly `N` frames, then stop (default: no limit)", what))
	fl.DurationVar(&f.interval, "interval", time.Second, "print live statistics this often (on a terminal; always when given)")
	fl.Uint32Var(&f.batch, "batch", 64, "frames a thread moves at a time, `N` from 1 to --ring-size")
	fl.Uint32Var(&f.frameSize, "frame-size", xsk.DefaultFrameSize, "UMEM frame size in `BYTES`: 2048 or 4096")
	fl.Uint32Var(&f.frames, "frames", xsk.DefaultNumFrames, "UMEM frames per queue, `N`: at least twice --ring-size (they back the FILL and COMPLETION rings)")
	fl.Uint32Var(&f.ringSize, "ring-size", xsk.DefaultRingSize, "entries of every ring (RX, TX, FILL, COMPLETION), `N`: a power of two")
	fl.DurationVar(&f.busyPoll, "busy-poll", 0, "busy-poll the driver for up to this long per poll, such as 20us (SO_BUSY_POLL with SO_PREFER_BUSY_POLL; default: off)")
	fl.IntVar(&f.busyPollBudget, "busy-poll-budget", 0, "frames per busy poll, `N` from 1 to 65535 (SO_BUSY_POLL_BUDGET; default: the kernel's, 8); needs --busy-poll")
	fl.StringVar(&f.xdpMode, "xdp-mode", "native", "attach the redirect program in this XDP `MODE`: native or generic")
	fl.StringVar(&f.xskmap, "xskmap", "", "register the sockets in the XSKMAP pinned at `PATH` (of a program of your own, attached already) instead of attaching xdpkit's program")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the final report: no start line, no live statistics")

	switch kind {
	case xskapp.TX:
		fl.Uint64Var(&f.pps, "pps", 0, "send at most `N` frames per second in all (default: as fast as the sockets go)")
		fl.StringVar(&f.proto, "proto", "udp", "the frame's transport `PROTO`: udp, tcp or icmp (an echo request; ICMPv6 over IPv6)")
		addXskTemplateFlags(cmd, &f.tf)
		// tx attaches no program: the flags are here to say so.
		fl.MarkHidden("xdp-mode")
		fl.MarkHidden("xskmap")
	case xskapp.Ping:
		fl.StringSliceVar(&f.addrs, "addr", nil, "answer for this `ADDR` (IPv4 or IPv6; repeat the flag or separate with commas) instead of IFACE's own addresses")
	}
	if kind != xskapp.TX {
		// Only tx sends at a rate; the flag is here to say so.
		fl.Uint64Var(&f.pps, "pps", 0, "")
		fl.MarkHidden("pps")
	}
	return cmd
}

// addXskTemplateFlags adds gen's template flags, as gen udp|tcp|icmp
// have them, for the frame xsk tx sends: parseTemplate reads them. The
// protocol comes from --proto, so the port and TCP flags are all here;
// there are no flows (one frame is sent over and over), so no
// --dyn-ports.
func addXskTemplateFlags(cmd *cobra.Command, tf *genTemplateFlags) {
	addTemplateFlags(cmd, tf, templateFlagSet{
		srcMAC:   "source `MAC` (default: IFACE's)",
		ports:    true,
		tcpFlags: "with --proto tcp, the TCP `FLAGS`: ",
		size: fmt.Sprintf("frame length in `BYTES` without the FCS, 60 to the MTU + 14 and at most %d "+
			"(and what a --frame-size frame holds after the kernel's %d bytes of headroom; "+
			"default 60, or the headers' length when longer: TCP over IPv6 is 74)", trafficgen.MaxFrameLen, xsk.PacketHeadroom),
	})
}

func xskLong(kind xskapp.Kind) string {
	common := `
Sockets: one per queue, --queue to --queue+--queues-1, sharing one UMEM of
--frames frames of --frame-size bytes per queue; every ring has --ring-size
entries and each thread moves up to --batch frames at a time. The bind mode
is zero-copy where the driver can, else copy (--copy or --zerocopy force
one; a veth only does copy). --wakeup binds with need_wakeup; --busy-poll
turns on preferred busy polling.

The run: --count, --duration or Ctrl-C ends it. Live statistics every
--interval on stderr (on a terminal, or whenever --interval is given):

  AF_XDP RX:       1,024 pkts (       512 pps)           61 Kbytes (     0 Mbits/s) period:1.000
         TX:           0 pkts (         0 pps)            0 Kbytes (     0 Mbits/s) period:1.000
      drops: rx_dropped 0  rx_ring_full 0  fill_ring_empty 0  invalid 0/0

with the totals so far and the rates of the period. The final report
(stdout) gives the totals, the rates over the time from the first frame to
the last, the drop counters, per-queue lines, and the bind mode; --json
prints it as one object. Apart from the drops, tx_ring_empty says how
often the kernel found the TX ring empty: in copy mode every send call
ends so, and it counts no lost frame. Exit 130 after Ctrl-C (the report
first).

Drops: rx_dropped counts frames longer than a UMEM frame holds (a
--frame-size F frame holds F - 256 bytes: the kernel keeps 256 bytes of
headroom), and in copy mode also those that found the FILL ring empty;
rx_ring_full and fill_ring_empty count frames the threads did not take in
time (a larger --ring-size, --batch, more --queues or --busy-poll help).`
	program := `
The program: xdpkit's redirect program is attached to IFACE (--xdp-mode
native, the default, or generic) with a bpf_link for the run: the frames
of the sockets' queues go to the sockets, all others to the stack; the
report shows how many of each. With --xskmap PATH the sockets are
registered in the XSKMAP pinned at PATH instead, that of a program of your
own that is attached already; xdpkit attaches nothing.
`
	switch kind {
	case xskapp.RX:
		return `Count the frames that arrive on IFACE's queues and drop them (hand their
frames straight back to the FILL ring), as af_xdp_user and xdpsock -r do.
--count stops after exactly that many frames.
` + program + common
	case xskapp.TX:
		return `Send one frame over and over out of IFACE's queues, as fast as the sockets
go or at --pps in all, as xdpsock -t does. No program is attached: a
socket sends without one.

The frame is built from the template flags of "xdpkit gen udp|tcp|icmp",
with --proto choosing the transport (UDP by default): --src-addr defaults
to IFACE's address of the family, --dst-addr to the veth peer's, --src-mac
to IFACE's MAC, --dst-mac to the neighbour entry of the destination, else
the veth peer's MAC, else broadcast. --size is the frame's length without
the FCS (60 by default: a 64-byte frame on the wire); it is at most the MTU
+ 14, and what a --frame-size frame holds after the kernel's headroom.
` + common
	case xskapp.Fwd:
		return `Send every frame that arrives on IFACE's queues back out of IFACE with its
destination and source MACs swapped, from the same UMEM frame (l2fwd, as
xdpsock -l does). Frames the TX ring has no room for are dropped and
counted (tx_dropped).
` + program + common
	}
	return `Answer from userspace, as a host with IFACE's addresses would: ARP requests
and IPv6 neighbour solicitations for the addresses, and ICMPv4 and ICMPv6
echo requests to them. The reply is written over the request in its UMEM
frame and sent back out of IFACE. The addresses are IFACE's own (IPv4,
IPv6, link-local included) unless --addr gives others; the MAC is IFACE's.
Frames that are no such request are counted ("ignored") and dropped:
while it runs, IFACE's stack does not see the queues' frames.

Not answered (counted as ignored): fragmented requests (there is no
reassembly), echo requests to multicast or broadcast addresses, and IPv6
packets with extension headers (the ICMPv6 message must follow the IPv6
header). IPv4 options of an echo request are echoed unchanged.
` + program + common
}

func xskExample(kind xskapp.Kind) string {
	switch kind {
	case xskapp.RX:
		return `  xdpkit xsk rx xk-demo
  xdpkit xsk rx eth0 --queue 2 --queues 4 --zerocopy --wakeup --busy-poll 20us
  xdpkit xsk rx xk-demo --count 1000000 --json
  xdpkit xsk rx eth0 --xskmap /sys/fs/bpf/my_xsks_map`
	case xskapp.TX:
		return `  xdpkit xsk tx xk-demo --count 1000000
  xdpkit xsk tx xk-demo --pps 100000 --duration 10s --proto tcp --dst-port 80
  xdpkit xsk tx eth0 --dst-addr 10.0.0.2 --dst-mac 02:00:00:00:00:02 --size 1514 --queues 2`
	case xskapp.Fwd:
		return `  xdpkit xsk fwd xk-demo
  xdpkit xsk fwd eth0 --queues 4 --wakeup --duration 30s --json`
	}
	return `  xdpkit xsk ping xk-demo
  xdpkit xsk ping xk-demo --addr 10.11.0.9 --addr fc00::9 --duration 60s`
}

// xskJob is an xsk command, checked and ready to run.
type xskJob struct {
	kind    xskapp.Kind
	cfg     xskapp.Config
	f       *xskFlags
	dev     *netdev.Device
	what    string       // tx: the frame, for the start line
	addrs   []netip.Addr // ping: the addresses answered for
	hasProg bool         // xdpkit's redirect program is attached
}

// xskConfig checks the flags that need no system and returns the
// configuration they describe.
func xskConfig(cmd *cobra.Command, kind xskapp.Kind, iface string, f *xskFlags) (xskapp.Config, error) {
	fl := cmd.Flags()
	cfg := xskapp.Config{Kind: kind, Interface: iface, Queue: f.queue, Queues: f.queues, NeedWakeup: f.wakeup,
		Count: f.count, Duration: f.duration, FrameSize: f.frameSize, FramesPerQueue: f.frames,
		RingSize: f.ringSize, Batch: f.batch, XSKMapPin: f.xskmap}
	switch {
	case f.copyMode && f.zeroCopy:
		return cfg, usagef("--copy with --zerocopy: give one of them, or neither to bind zero-copy where the driver can and in copy mode elsewhere")
	case f.copyMode:
		cfg.Bind = xsk.ModeCopy
	case f.zeroCopy:
		cfg.Bind = xsk.ModeZeroCopy
	default:
		cfg.Bind = xsk.ModeAuto
	}
	if fl.Changed("count") && f.count == 0 {
		what := "receives"
		if kind == xskapp.TX {
			what = "sends"
		}
		return cfg, usagef("--count 0 %s nothing: give a positive count, or leave --count out to run until Ctrl-C or --duration", what)
	}
	if f.duration < 0 || (fl.Changed("duration") && f.duration == 0) {
		return cfg, usagef("--duration %v: give a positive duration such as 10s", f.duration)
	}
	if f.interval <= 0 {
		return cfg, usagef("--interval %v: give a positive period such as 1s or 500ms", f.interval)
	}
	if err := checkXskSizes(cmd, iface, f); err != nil {
		return cfg, err
	}
	if last := uint64(f.queue) + uint64(f.queues) - 1; last > math.MaxUint32 {
		return cfg, usagef("--queue %d with --queues %d goes past queue %d: start lower", f.queue, f.queues, uint32(math.MaxUint32))
	}
	if fl.Changed("busy-poll-budget") {
		switch {
		case !fl.Changed("busy-poll"):
			return cfg, usagef("--busy-poll-budget %d needs --busy-poll: give how long a busy poll may spin, such as --busy-poll 20us", f.busyPollBudget)
		case f.busyPollBudget < 1 || f.busyPollBudget > math.MaxUint16:
			return cfg, usagef("--busy-poll-budget %d: give 1 to %d frames per busy poll", f.busyPollBudget, math.MaxUint16)
		}
	}
	if fl.Changed("busy-poll") {
		if f.busyPoll < time.Microsecond || f.busyPoll > time.Duration(math.MaxInt32)*time.Microsecond {
			return cfg, usagef("--busy-poll %v: give a positive time of at least 1us, such as 20us", f.busyPoll)
		}
		cfg.BusyPoll = &xsk.BusyPoll{Timeout: f.busyPoll, Budget: f.busyPollBudget, Prefer: true}
	}
	mode, err := xdp.ParseMode(f.xdpMode)
	if err != nil || mode == xdp.ModeOffload {
		return cfg, usagef("--xdp-mode %q: use native or generic", f.xdpMode)
	}
	cfg.XDPMode = mode
	if kind == xskapp.TX {
		for _, name := range []string{"xdp-mode", "xskmap"} {
			if fl.Changed(name) {
				return cfg, usagef("--%s with xsk tx: tx only sends, and a socket sends without an XDP program; drop --%s", name, name)
			}
		}
		if fl.Changed("pps") && f.pps == 0 {
			return cfg, usagef("--pps 0 sends nothing: give a positive rate, or leave --pps out to send as fast as the sockets go")
		}
		cfg.PPS = float64(f.pps)
	} else {
		if fl.Changed("pps") {
			return cfg, usagef("--pps applies to xsk tx only: %s takes frames at the rate they arrive; drop --pps", kind)
		}
		if f.xskmap != "" && fl.Changed("xdp-mode") {
			return cfg, usagef("--xdp-mode with --xskmap: xdpkit attaches no program with --xskmap (yours is attached already); drop --xdp-mode")
		}
	}
	return cfg, nil
}

// xskSizeFlags are the flags of the sizes xskapp.Config.Validate judges,
// in the order checkXskSizes blames them.
var xskSizeFlags = []struct {
	name string
	set  func(*xskapp.Config, *xskFlags)
}{
	{"queues", func(c *xskapp.Config, f *xskFlags) { c.Queues = f.queues }},
	{"frame-size", func(c *xskapp.Config, f *xskFlags) { c.FrameSize = f.frameSize }},
	{"ring-size", func(c *xskapp.Config, f *xskFlags) { c.RingSize = f.ringSize }},
	{"frames", func(c *xskapp.Config, f *xskFlags) { c.FramesPerQueue = f.frames }},
	{"batch", func(c *xskapp.Config, f *xskFlags) { c.Batch = f.batch }},
}

// checkXskSizes has xskapp judge the sizes the flags give (and xsk the
// UMEM's), and names the flag of what they refuse: it validates a
// configuration of defaults with the flags' values set in one at a time,
// and blames the first that makes it fail, as in "--ring-size 1000: FILL
// ring size 1000 is not a power of two ...". xskapp takes 0 for its
// default; on the command line 0 is a mistake.
func checkXskSizes(cmd *cobra.Command, iface string, f *xskFlags) error {
	for _, s := range xskSizeFlags {
		if fl := cmd.Flags().Lookup(s.name); fl.Value.String() == "0" {
			return usagef("--%s 0: give a positive number (the default is %s)", s.name, fl.DefValue)
		}
	}
	// As rx: tx's frame and ping's responder come later.
	c := xskapp.Config{Kind: xskapp.RX, Interface: iface}
	for _, s := range xskSizeFlags {
		s.set(&c, f)
		if err := c.Validate(); err != nil {
			return usageError{cliTextError{msg: fmt.Sprintf("--%s %s: %v", s.name, cmd.Flags().Lookup(s.name).Value, err), err: err}}
		}
	}
	return nil
}

// xskFrameRoom is what a UMEM frame of frameSize bytes holds of a frame:
// the rest after the kernel's headroom (xdpkit asks for none of its own).
func xskFrameRoom(frameSize uint32) int {
	return int(frameSize) - xsk.PacketHeadroom
}

// parseXskTemplate checks the template flags of xsk tx with gen's
// parseTemplate, and what xsk tx does not do: flows of several
// addresses or ports, flags of another protocol.
func parseXskTemplate(cmd *cobra.Command, f *xskFlags) (*genTemplate, error) {
	fl := cmd.Flags()
	proto, err := trafficgen.ParseProto(f.proto)
	if err != nil {
		return nil, usagef("--proto %q: use udp, tcp or icmp", f.proto)
	}
	if proto == trafficgen.ICMP {
		for _, name := range []string{"src-port", "dst-port"} {
			if fl.Changed(name) {
				return nil, usagef("--%s with --proto icmp: an echo request has no ports; drop --%s or use --proto udp or tcp", name, name)
			}
		}
	}
	if proto != trafficgen.TCP {
		if fl.Changed("tcp-flags") {
			return nil, usagef("--tcp-flags with --proto %s: only TCP has flags; use --proto tcp or drop --tcp-flags", proto)
		}
		f.tf.tcpFlags = ""
	}
	gt, err := parseTemplate(cmd, proto, &f.tf)
	if err != nil {
		return nil, err
	}
	one := func(flag, val string) error {
		return usagef("--%s %s: xsk tx sends one frame over and over: give one %s (xdpkit gen varies them)", flag, val,
			map[bool]string{true: "address", false: "port"}[flag == "src-addr"])
	}
	switch {
	case gt.flows.SrcAddrs > 1:
		return nil, one("src-addr", f.tf.srcAddr)
	case gt.flows.SrcPorts > 1:
		return nil, one("src-port", f.tf.srcPort)
	case gt.flows.DstPorts > 1:
		return nil, one("dst-port", f.tf.dstPort)
	}
	return gt, nil
}

// xskFrame builds the frame of xsk tx: gen's template, its --size
// checked against what dev sends and a UMEM frame of frameSize holds.
func xskFrame(gt *genTemplate, dev *netdev.Device, frameSize uint32) ([]byte, error) {
	limit := dev.MTU + trafficgen.EthernetHeaderLen
	why := fmt.Sprintf("%s's MTU (%d) plus the %d-byte Ethernet header", dev.Name, dev.MTU, trafficgen.EthernetHeaderLen)
	if gt.t.VLAN != 0 {
		limit += 4
		why += " and 4 bytes of VLAN tag"
	}
	fix := "raise the MTU or give a smaller --size"
	if room := xskFrameRoom(frameSize); room < limit {
		limit = room
		why = fmt.Sprintf("what a --frame-size %d UMEM frame holds after the kernel's %d bytes of headroom", frameSize, xsk.PacketHeadroom)
		fix = "give a smaller --size"
		if frameSize < 4096 {
			fix = "give --frame-size 4096 or a smaller --size"
		}
	}
	if limit > trafficgen.MaxFrameLen {
		limit = trafficgen.MaxFrameLen
		why = "the longest frame the template builds"
		fix = "give a smaller --size"
	}
	if gt.t.Size > limit {
		return nil, usagef("--size %d: frames on %s are %d to %d bytes: %d is the Ethernet minimum without the 4-byte FCS, %d is %s; %s",
			gt.t.Size, dev.Name, trafficgen.MinFrameLen, limit, trafficgen.MinFrameLen, limit, why, fix)
	}
	frame, err := gt.t.Frame()
	if err != nil {
		return nil, usageError{err}
	}
	return frame, nil
}

// xskAddrs returns the addresses xsk ping answers for: --addr, else
// dev's own.
func xskAddrs(dev *netdev.Device, flags []string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if len(flags) == 0 {
		for _, p := range dev.Addrs {
			addrs = append(addrs, p.Addr().WithZone(""))
		}
		if len(addrs) == 0 {
			return nil, usagef("%s has no addresses to answer for: give --addr ADDR", dev.Name)
		}
		return addrs, nil
	}
	for _, s := range flags {
		s = strings.TrimSpace(s)
		a, err := netip.ParseAddr(s)
		if err != nil {
			p, perr := netip.ParsePrefix(s)
			if perr != nil {
				return nil, usagef("--addr %q: not an IPv4 or IPv6 address", s)
			}
			a = p.Addr()
		}
		if err := (responder.Config{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Addrs: []netip.Addr{a}}).Validate(); err != nil {
			msg := err.Error()
			if i := strings.LastIndex(msg, ": "); i >= 0 {
				msg = msg[i+2:]
			}
			return nil, usagef("--addr %s: %s: give a unicast address", s, msg)
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// prepareXsk checks the command line, the interface and the privileges,
// and returns the job to run; it loads and binds nothing.
func prepareXsk(cmd *cobra.Command, kind xskapp.Kind, iface string, f *xskFlags) (*xskJob, error) {
	cfg, err := xskConfig(cmd, kind, iface, f)
	if err != nil {
		return nil, err
	}
	var gt *genTemplate
	if kind == xskapp.TX {
		if gt, err = parseXskTemplate(cmd, f); err != nil {
			return nil, err
		}
	}
	for _, a := range f.addrs {
		if _, err := xskAddrs(nil, []string{a}); err != nil {
			return nil, err
		}
	}
	dev, err := lookupIface(iface, "AF_XDP")
	if err != nil {
		return nil, err
	}
	job := &xskJob{kind: kind, cfg: cfg, f: f, dev: dev, hasProg: kind != xskapp.TX && f.xskmap == ""}
	// The privileges before the defaults of tx's frame, which read the
	// veth peer (in another namespace only with CAP_SYS_ADMIN): without
	// the command's own capabilities, that is what to hear of first.
	if err := caps.Require(job.caps()...); err != nil {
		return nil, err
	}
	switch kind {
	case xskapp.TX:
		if err := gt.complete(dev, false); err != nil {
			return nil, err
		}
		frame, err := xskFrame(gt, dev, f.frameSize)
		if err != nil {
			return nil, err
		}
		job.cfg.Frame = frame
		job.what = gt.describe(frame)
	case xskapp.Ping:
		if len(dev.MAC) != 6 {
			return nil, usagef("%s has no Ethernet address: xsk ping answers on Ethernet interfaces only", dev.Name)
		}
		if job.addrs, err = xskAddrs(dev, f.addrs); err != nil {
			return nil, err
		}
		if job.cfg.Responder, err = responder.New(responder.Config{MAC: dev.MAC, Addrs: job.addrs}); err != nil {
			return nil, usageError{err}
		}
	}
	if err := job.cfg.Validate(); err != nil {
		// The flags' own checks come first; what is left is the library's.
		return nil, usageError{err}
	}
	return job, nil
}

// xskCaps are the capabilities the job needs: CAP_NET_RAW for the
// sockets, CAP_BPF and CAP_NET_ADMIN for the program (CAP_BPF for a
// pinned map), CAP_NET_ADMIN for busy polling.
func (j *xskJob) caps() []caps.Cap {
	need := []caps.Cap{caps.NetRaw}
	if j.kind != xskapp.TX {
		need = append(need, caps.BPF)
		if j.hasProg {
			need = append(need, caps.NetAdmin)
		}
	}
	if j.cfg.BusyPoll != nil && !j.hasProg {
		need = append(need, caps.NetAdmin)
	}
	return need
}
