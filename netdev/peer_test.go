package netdev_test

import (
	"errors"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netdev"
)

// addVeth makes a veth pair in the current namespace, with the peer in
// peerNs when it is open, and deletes it when t ends.
func addVeth(t *testing.T, peerNs netns.NsHandle) (name, peer string) {
	t.Helper()
	name, peer = testutil.UniqueName("nd"), testutil.UniqueName("ndp")
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	veth := &netlink.Veth{LinkAttrs: attrs, PeerName: peer}
	if peerNs.IsOpen() {
		veth.PeerNamespace = netlink.NsFd(peerNs)
	}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("create veth pair %s/%s: %v", name, peer, err)
	}
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(name); err == nil {
			netlink.LinkDel(l)
		}
	})
	return name, peer
}

func TestPeerSameNamespace(t *testing.T) {
	testutil.RequirePrivileged(t)
	name, peerName := addVeth(t, netns.None())
	d, err := netdev.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	want, err := netlink.LinkByName(peerName)
	if err != nil {
		t.Fatal(err)
	}
	if d.Up {
		t.Error("a new veth is up")
	}
	p := d.Peer
	if p == nil || p.Name != peerName || p.Index != want.Attrs().Index || p.Netns != "" {
		t.Fatalf("peer %+v, want %s index %d in the current netns", p, peerName, want.Attrs().Index)
	}
	if _, err := p.Counters(); err != nil {
		t.Error(err)
	}
	pass, err := p.AttachPass()
	if err != nil {
		t.Fatal(err)
	}
	defer pass.Close()
	if err := d.Refresh(); err != nil {
		t.Fatal(err)
	}
	if d.Peer == nil || d.Peer.XDPProgID == 0 {
		t.Errorf("peer after AttachPass: %+v", d.Peer)
	}
	if _, err := d.Peer.AttachPass(); !errors.Is(err, os.ErrExist) {
		t.Errorf("second AttachPass: %v, want os.ErrExist", err)
	}
}

// TestPeerUnnamedNamespace checks that a peer in a namespace with no name
// under /run/netns leaves Peer nil rather than failing Lookup.
func TestPeerUnnamedNamespace(t *testing.T) {
	testutil.RequireNetenv(t)
	ns := unnamedNetns(t)
	name, _ := addVeth(t, ns)
	d, err := netdev.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != "veth" || d.Peer != nil {
		t.Errorf("kind %q peer %+v, want a veth without a peer", d.Kind, d.Peer)
	}
}

// unnamedNetns returns a new network namespace known only by the returned
// handle, closed (and so freed) when t ends.
func unnamedNetns(t *testing.T) netns.NsHandle {
	t.Helper()
	type result struct {
		ns  netns.NsHandle
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer orig.Close()
		ns, err := netns.New()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		if err := netns.Set(orig); err != nil {
			ns.Close()
			done <- result{err: err} // the thread stays locked and dies
			return
		}
		runtime.UnlockOSThread()
		done <- result{ns: ns}
	}()
	r := <-done
	if r.err != nil {
		t.Fatalf("new unnamed netns: %v", r.err)
	}
	t.Cleanup(func() { r.ns.Close() })
	return r.ns
}
