package trafficgen

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// Limits of a Spec.
const (
	// MaxBatch is the largest batch BPF_PROG_RUN takes in live-frames mode.
	MaxBatch = 256
	// DefaultBatch is the kernel's own default batch size.
	DefaultBatch = 64
	// MinFrameLen is the shortest frame the generator sends: the Ethernet
	// minimum without its frame check sequence.
	MinFrameLen = 60
	// MaxFrameLen is the longest frame a live-frames page holds: a 4 KiB
	// page less the kernel's page head (struct xdp_page_head, 112 bytes on
	// Linux 6.x), the XDP headroom (256) and skb_shared_info (320).
	MaxFrameLen = 3408
	// MaxFrames is the most frames a Spec may hold (pcap mode).
	MaxFrames = 65536
	// MaxPPS is the highest rate a Spec may ask for.
	MaxPPS = 1_000_000_000
)

// Action is what the generator's program does with each frame it sends.
type Action int

const (
	// TX transmits the frame out of the interface (XDP_TX; in live-frames
	// mode the kernel turns it into a redirect to the same interface).
	TX Action = iota
	// Pass injects the frame into the local stack as if it had arrived
	// on the interface (XDP_PASS).
	Pass
	// Redirect transmits the frame out of Spec.RedirectTo (XDP_REDIRECT).
	Redirect
)

// String returns "tx", "pass" or "redirect".
func (a Action) String() string {
	switch a {
	case TX:
		return "tx"
	case Pass:
		return "pass"
	case Redirect:
		return "redirect"
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// ParseAction parses the names String returns.
func ParseAction(s string) (Action, error) {
	return parseName("action", s, TX, Pass, Redirect)
}

// parseName returns the value among all whose String is s, or an error
// naming what, s and the names there are.
func parseName[T fmt.Stringer](what, s string, all ...T) (T, error) {
	names := make([]string, len(all))
	for i, v := range all {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
		names[i] = v.String()
	}
	var zero T
	last := len(names) - 1
	return zero, errs.Markf(os.ErrInvalid, "%s %q: use %s or %s", what, s, strings.Join(names[:last], ", "), names[last])
}

// Flows makes one template into many flows: each field takes Count
// consecutive values starting at the template's own. The destination port
// changes fastest, then the source port, then the source address, so
// frame n of a run has destination port base+n%DstPorts, and so on. A
// count of 0 or 1 leaves the field as the template has it.
type Flows struct {
	// DstPorts is the number of destination ports (xdp-trafficgen's
	// --dyn-ports).
	DstPorts uint32
	// SrcPorts is the number of source ports.
	SrcPorts uint32
	// SrcAddrs is the number of source addresses. For IPv6 only the last
	// 32 bits of the address change.
	SrcAddrs uint32
}

// varies reports whether f changes any field.
func (f Flows) varies() bool { return f.DstPorts > 1 || f.SrcPorts > 1 || f.SrcAddrs > 1 }

// Spec describes a generator run. It is plain data: Validate checks it,
// New makes a Generator from it.
type Spec struct {
	// Interface is the name of the interface to send from, in the
	// current network namespace.
	Interface string

	// Frames are the frames to send. With one frame, the kernel's page
	// pool holds it and Flows may vary it; with several (pcap mode) the
	// program copies them in, in order, looping, and Flows must be zero.
	Frames [][]byte

	// Flows varies ports and source address of a single frame.
	Flows Flows

	// Count is the exact number of frames to send; 0 sends until Duration
	// ends or Stop is called.
	Count uint64

	// Duration ends the run after this long; 0 means no time limit.
	Duration time.Duration

	// PPS limits the rate to this many frames per second in total, spread
	// over the workers; 0 sends as fast as the kernel goes.
	PPS uint64

	// Threads is the number of workers, each a thread pinned to its own
	// CPU running one long live-frames call; 0 means 1.
	Threads int

	// CPUs are the CPUs to pin the workers to, one each; nil picks the
	// first Threads CPUs the process may run on.
	CPUs []int

	// Batch is the number of frames the kernel runs per batch, 1 to
	// MaxBatch; 0 means DefaultBatch. The pacer's largest burst is one
	// batch.
	Batch int

	// Action is what the program does with a frame; the zero value is TX.
	Action Action

	// RedirectTo names the interface frames go out of with Action
	// Redirect.
	RedirectTo string

	// PeerProgram attaches a program to the peer of a veth Interface for
	// the run, also in another named namespace, when the peer has none:
	// without one, veth drops every XDP frame sent to it.
	PeerProgram PeerProgram

	// Rewrite says when the program writes the template's headers anew
	// for every frame; the zero value is RewriteAuto.
	Rewrite Rewrite
}

// Rewrite says when the generator writes a single template's headers anew
// for every frame. The kernel recycles a live-frames page without
// rewriting it, and a receiver that takes the frame into its network
// stack may edit the page in place (untagging a VLAN frame moves the MAC
// addresses; forwarding decrements the TTL): without a rewrite, later
// frames from that page go out edited. A rewrite costs about 4 % of the
// highest rate.
type Rewrite int

const (
	// RewriteAuto rewrites unless nothing can edit the pages: it does not
	// when the frames leave by a device other than a veth (a NIC only
	// reads what it sends) or by a veth whose peer runs the generator's
	// own dropping program (PeerDrop).
	RewriteAuto Rewrite = iota
	// RewriteAlways rewrites the headers of every frame.
	RewriteAlways
	// RewriteNever never does: the fastest, for receivers that never hand
	// the frames to a stack (an XDP program that drops or redirects them).
	RewriteNever
)

// String returns "auto", "always" or "never".
func (r Rewrite) String() string {
	switch r {
	case RewriteAuto:
		return "auto"
	case RewriteAlways:
		return "always"
	case RewriteNever:
		return "never"
	}
	return fmt.Sprintf("rewrite(%d)", int(r))
}

// ParseRewrite parses the names String returns.
func ParseRewrite(s string) (Rewrite, error) {
	return parseName("header rewrite", s, RewriteAuto, RewriteAlways, RewriteNever)
}

// PeerProgram is the XDP program a generator attaches to a veth peer.
type PeerProgram int

const (
	// PeerNone attaches nothing.
	PeerNone PeerProgram = iota
	// PeerPass attaches a pass-through program: the frames reach the
	// peer's stack (which limits how many the peer takes).
	PeerPass
	// PeerDrop attaches a program that drops every frame: the peer
	// counts them and its stack never sees them, so the generator, not
	// the peer, sets the rate.
	PeerDrop
)

// String returns "none", "pass" or "drop".
func (p PeerProgram) String() string {
	switch p {
	case PeerNone:
		return "none"
	case PeerPass:
		return "pass"
	case PeerDrop:
		return "drop"
	}
	return fmt.Sprintf("peer-program(%d)", int(p))
}

// ParsePeerProgram parses the names String returns.
func ParsePeerProgram(s string) (PeerProgram, error) {
	return parseName("peer program", s, PeerPass, PeerDrop, PeerNone)
}

// threads returns the number of workers s asks for.
func (s *Spec) threads() int {
	if s.Threads == 0 {
		return 1
	}
	return s.Threads
}

// batch returns the batch size s asks for.
func (s *Spec) batch() int {
	if s.Batch == 0 {
		return DefaultBatch
	}
	return s.Batch
}

// Validate reports whether s is a spec New can run, without looking at the
// system beyond the CPU count. Errors match os.ErrInvalid and name the
// field and what it accepts.
func (s *Spec) Validate() error {
	if s.Interface == "" {
		return invalidf("no interface: name the interface to send from")
	}
	if len(s.Frames) == 0 {
		return invalidf("no frames to send: give a template or a pcap with at least one frame")
	}
	if len(s.Frames) > MaxFrames {
		return invalidf("%d frames: at most %d fit the generator's frame map", len(s.Frames), MaxFrames)
	}
	for i, f := range s.Frames {
		if len(f) < MinFrameLen || len(f) > MaxFrameLen {
			which := "frame"
			if len(s.Frames) > 1 {
				which = fmt.Sprintf("frame %d", i+1)
			}
			if len(f) < EthernetHeaderLen {
				return invalidf("%s is %d bytes, shorter than an Ethernet header (%d): it cannot be sent", which, len(f), EthernetHeaderLen)
			}
			if len(f) < MinFrameLen {
				return invalidf("%s is %d bytes: frames are %d to %d bytes (pad it to %d)", which, len(f), MinFrameLen, MaxFrameLen, MinFrameLen)
			}
			return invalidf("%s is %d bytes: frames are %d to %d bytes (one live-frames page)", which, len(f), MinFrameLen, MaxFrameLen)
		}
	}
	if s.Flows.varies() && len(s.Frames) > 1 {
		return invalidf("flows vary a single template: not possible with %d frames (pcap mode)", len(s.Frames))
	}
	if s.Batch < 0 || s.Batch > MaxBatch {
		return invalidf("batch %d out of range: use 1 to %d (0 for the default, %d)", s.Batch, MaxBatch, DefaultBatch)
	}
	if s.Threads < 0 {
		return invalidf("threads %d: use 1 or more", s.Threads)
	}
	if n := runtime.NumCPU(); s.threads() > n {
		return invalidf("%d threads but this process may run on %d CPUs: use at most %d (one worker per CPU)", s.threads(), n, n)
	}
	if s.CPUs != nil {
		if len(s.CPUs) != s.threads() {
			return invalidf("%d CPUs for %d threads: give one CPU per thread", len(s.CPUs), s.threads())
		}
		seen := map[int]bool{}
		for _, c := range s.CPUs {
			if c < 0 {
				return invalidf("CPU %d: CPU numbers are 0 or more", c)
			}
			if seen[c] {
				return invalidf("CPU %d given twice: each worker needs a CPU of its own", c)
			}
			seen[c] = true
		}
	}
	if s.PPS > MaxPPS {
		return invalidf("rate %d pps: at most %d", s.PPS, uint64(MaxPPS))
	}
	if s.PPS != 0 && s.PPS < uint64(s.threads()) {
		return invalidf("rate %d pps with %d threads: each thread needs at least 1 pps; use fewer threads", s.PPS, s.threads())
	}
	if s.Count != 0 && s.Count < uint64(s.threads()) {
		return invalidf("count %d with %d threads: each thread sends at least one frame; use fewer threads", s.Count, s.threads())
	}
	if s.Duration < 0 {
		return invalidf("duration %s: use a positive duration, or 0 for none", s.Duration)
	}
	if s.PeerProgram < PeerNone || s.PeerProgram > PeerDrop {
		return invalidf("unknown peer program %d", int(s.PeerProgram))
	}
	if s.Rewrite < RewriteAuto || s.Rewrite > RewriteNever {
		return invalidf("unknown header rewrite %d", int(s.Rewrite))
	}
	switch s.Action {
	case TX, Pass:
		if s.RedirectTo != "" {
			return invalidf("redirect interface %q given with action %s: use action redirect", s.RedirectTo, s.Action)
		}
	case Redirect:
		if s.RedirectTo == "" {
			return invalidf("action redirect needs the interface to redirect to")
		}
	default:
		return invalidf("unknown action %d", int(s.Action))
	}
	return nil
}

// EthernetHeaderLen is the length of an Ethernet header without VLAN tags.
const EthernetHeaderLen = 14

func invalidf(format string, args ...any) error {
	return errs.Markf(os.ErrInvalid, "trafficgen: "+format, args...)
}
