package trafficgen

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/netenv"
)

func TestProbe(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	r, err := Probe(env.Outer.Interface, ProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.CanTransmit || r.Trial != nil || !strings.Contains(r.Reason, "peer-prog") {
		t.Errorf("veth without a peer program: %+v", r)
	}
	if r.FeaturesKnown && r.Features.Has(netdev.FeatureNDOXmit) {
		t.Errorf("features %s include ndo-xmit", r.Features)
	}

	r, err = Probe(env.Outer.Interface, ProbeOptions{PeerProgram: PeerPass})
	if err != nil {
		t.Fatal(err)
	}
	if !r.CanTransmit || r.Trial == nil || !r.Trial.OK || r.Trial.Sent != 1 || r.Trial.Device.Delivered() < 1 {
		t.Errorf("veth with a peer program: %+v, trial %+v", r, r.Trial)
	}
	if d, err := netdev.Lookup(env.Outer.Interface); err != nil || d.Peer.XDPProgID != 0 {
		t.Errorf("the trial left a program on the peer: %+v, %v", d.Peer, err)
	}

	r, err = Probe(env.Outer.Interface, ProbeOptions{PeerProgram: PeerPass, NoTrial: true})
	if err != nil || !r.CanTransmit || r.Trial != nil {
		t.Errorf("no trial: %+v, %v", r, err)
	}

	r, err = Probe("lo", ProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.FeaturesKnown && !r.Features.Has(netdev.FeatureNDOXmit) && r.CanTransmit {
		t.Errorf("lo without ndo-xmit can transmit? %+v", r)
	}

	if _, err := Probe("xk-nonexistent0", ProbeOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing interface: %v", err)
	}
}
