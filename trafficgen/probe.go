package trafficgen

import (
	"errors"
	"fmt"
	"time"

	"github.com/xdpkit/xdpkit/netdev"
)

// ProbeOptions are the choices of Probe.
type ProbeOptions struct {
	// PeerProgram attaches a program to a veth peer without one for the
	// trial, as Spec.PeerProgram does for a run.
	PeerProgram PeerProgram
	// NoTrial skips the one-frame trial: Probe then only reads what the
	// kernel says of the interface.
	NoTrial bool
}

// ProbeResult says whether an interface can transmit XDP frames, and why.
type ProbeResult struct {
	// Device is what netdev knows of the interface, its veth peer included.
	Device *netdev.Device
	// Features are the interface's XDP feature flags; FeaturesKnown is
	// false on kernels that do not report them (before 6.3).
	Features      netdev.XDPFeatures
	FeaturesKnown bool
	// CanTransmit is the verdict; Reason says why not and what to do.
	CanTransmit bool
	Reason      string
	// Trial is the one-frame trial's outcome; nil when it was not made.
	Trial *Trial
}

// Trial is the outcome of sending one frame.
type Trial struct {
	// Sent is the number of frames the program sent (1).
	Sent uint64
	// Device holds what the interface (and a veth peer) counted.
	Device *DeviceStats
	// OK reports whether the frame was seen leaving (or, for a veth,
	// arriving at the peer).
	OK bool
}

// probeEtherType is the trial frame's EtherType: IEEE 802 local
// experimental, which no stack acts on.
const probeEtherType = 0x88b5

// Probe tells whether iface can transmit XDP frames: from its XDP feature
// flags (NDO_XMIT) where the kernel reports them, from the veth peer's
// program, and by sending one broadcast frame of a local experimental
// EtherType and reading the counters. A missing interface is an error;
// an interface that cannot transmit is not.
func Probe(iface string, opts ProbeOptions) (*ProbeResult, error) {
	dev, err := netdev.Lookup(iface)
	if err != nil {
		return nil, fmt.Errorf("trafficgen: %w", err)
	}
	r := &ProbeResult{Device: dev}
	if f, err := dev.XDPFeatures(); err == nil {
		r.Features, r.FeaturesKnown = f, true
	}
	if !dev.Up {
		r.Reason = fmt.Sprintf("%s is down: bring it up with \"ip link set %s up\"", dev.Name, dev.Name)
		return r, nil
	}
	reason, err := transmitProblem(dev)
	if err != nil {
		return nil, fmt.Errorf("trafficgen: %w", err)
	}
	if reason != "" && opts.PeerProgram == PeerNone {
		r.Reason = reason
		return r, nil
	}
	r.CanTransmit = true
	if opts.NoTrial {
		return r, nil
	}

	frame := make([]byte, MinFrameLen)
	copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(frame[6:], dev.MAC)
	frame[12], frame[13] = probeEtherType>>8, probeEtherType&0xff
	g, err := New(Spec{Interface: iface, Frames: [][]byte{frame}, Count: 1, PeerProgram: opts.PeerProgram})
	if err != nil {
		if errors.Is(err, ErrCannotTransmit) {
			r.CanTransmit, r.Reason = false, err.Error()
			return r, nil
		}
		return nil, err
	}
	defer g.Close()
	if err := g.Start(); err != nil {
		return nil, err
	}
	s, err := g.Wait()
	if err != nil {
		return nil, err
	}
	// Device counters of some drivers lag the transmit; give them a moment.
	for i := 0; i < 20 && s.Device != nil && s.Device.Delivered() == 0; i++ {
		time.Sleep(5 * time.Millisecond)
		s = g.Stats()
	}
	r.Trial = &Trial{Sent: s.Frames, Device: s.Device, OK: s.Device != nil && s.Device.Delivered() >= 1}
	if !r.Trial.OK {
		r.CanTransmit = false
		r.Reason = fmt.Sprintf("the program sent %d frame but %s counted none leaving: the driver drops XDP frames", s.Frames, dev.Name)
	}
	return r, nil
}
