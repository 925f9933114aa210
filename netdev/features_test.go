package netdev_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/netenv"
)

func TestFeaturesString(t *testing.T) {
	for _, c := range []struct {
		f    netdev.XDPFeatures
		want string
	}{
		{0, "none"},
		{netdev.FeatureBasic | netdev.FeatureRedirect | netdev.FeatureNDOXmit, "basic,redirect,ndo-xmit"},
		{netdev.FeatureXSKZeroCopy | netdev.FeatureHWOffload | netdev.FeatureRxSG | netdev.FeatureNDOXmitSG, "xsk-zerocopy,hw-offload,rx-sg,ndo-xmit-sg"},
		{netdev.FeatureBasic | 1<<9, "basic,0x200"},
	} {
		if got := c.f.String(); got != c.want {
			t.Errorf("%#x.String() = %q, want %q", uint64(c.f), got, c.want)
		}
	}
	// The kernel's enum netdev_xdp_act.
	if netdev.FeatureNDOXmit != 4 || netdev.FeatureNDOXmitSG != 64 {
		t.Error("feature bits differ from the kernel's")
	}
	f := netdev.FeatureBasic | netdev.FeatureNDOXmit
	if !f.Has(netdev.FeatureNDOXmit) || f.Has(netdev.FeatureNDOXmit|netdev.FeatureRedirect) {
		t.Error("Has")
	}
}

// features reads d's XDP features, skipping (or failing in CI) on a kernel
// without the netdev netlink family.
func features(t *testing.T, d *netdev.Device) netdev.XDPFeatures {
	t.Helper()
	f, err := d.XDPFeatures()
	if errors.Is(err, errors.ErrUnsupported) {
		testutil.SkipOrFail(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestPeerProgramEnablesNDOXmit checks what trafficgen relies on: a veth
// reports NDO_XMIT only while its peer has an XDP program.
func TestPeerProgramEnablesNDOXmit(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	d, err := netdev.Lookup(env.Outer.Interface)
	if err != nil {
		t.Fatal(err)
	}
	if d.Peer == nil {
		t.Fatal("no peer found")
	}
	before := features(t, d)
	t.Logf("%s without a peer program: %s", d.Name, before)
	if !before.Has(netdev.FeatureBasic|netdev.FeatureRedirect) || before.Has(netdev.FeatureNDOXmit) {
		t.Errorf("fresh veth features %s, want basic and redirect without ndo-xmit", before)
	}

	pass, err := d.Peer.AttachPass()
	if err != nil {
		t.Fatal(err)
	}
	defer pass.Close()
	with := features(t, d)
	t.Logf("%s with a peer program: %s", d.Name, with)
	if !with.Has(netdev.FeatureNDOXmit) {
		t.Errorf("features with a peer program %s lack ndo-xmit", with)
	}
	if err := d.Refresh(); err != nil {
		t.Fatal(err)
	}
	if d.Peer == nil || d.Peer.XDPProgID == 0 {
		t.Fatalf("after AttachPass the peer shows no XDP program: %+v", d.Peer)
	}

	_, err = d.Peer.AttachPass()
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("second AttachPass: %v, want os.ErrExist", err)
	}
	t.Log(err)
	if _, err = d.Peer.AttachDrop(); !errors.Is(err, os.ErrExist) {
		t.Fatalf("AttachDrop over AttachPass: %v, want os.ErrExist", err)
	}

	if err := pass.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pass.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if after := features(t, d); after.Has(netdev.FeatureNDOXmit) {
		t.Errorf("features after Close %s still have ndo-xmit", after)
	}
	if err := d.Refresh(); err != nil {
		t.Fatal(err)
	}
	if d.Peer == nil || d.Peer.XDPProgID != 0 {
		t.Errorf("after Close the peer still shows an XDP program: %+v", d.Peer)
	}
}

func TestXDPFeaturesGone(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	d, err := netdev.Lookup(env.Outer.Interface)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.XDPFeatures(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("XDPFeatures of a deleted interface: %v, want os.ErrNotExist", err)
	}
}

func TestAttachDrop(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{})
	d, err := netdev.Lookup(env.Outer.Interface)
	if err != nil || d.Peer == nil {
		t.Fatalf("lookup: %v, peer %v", err, d)
	}
	drop, err := d.Peer.AttachDrop()
	if err != nil {
		t.Fatal(err)
	}
	if f := features(t, d); !f.Has(netdev.FeatureNDOXmit) {
		t.Errorf("features with a dropping peer program %s lack ndo-xmit", f)
	}
	// The peer drops what arrives: a ping gets no answer.
	res, err := env.Ping(t.Context(), netenv.PingOptions{Count: 2, Interval: 50 * time.Millisecond, Timeout: time.Second})
	if err == nil && res.Received != 0 {
		t.Errorf("ping through a dropping peer: %+v", res)
	}
	if err := drop.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Refresh(); err != nil || d.Peer.XDPProgID != 0 {
		t.Errorf("after Close: peer %+v, %v", d.Peer, err)
	}
}
