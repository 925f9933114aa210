package builtin_test

import (
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/builtin"
	"github.com/xdpkit/xdpkit/internal/testutil"
)

func TestSpecsParse(t *testing.T) {
	for name, load := range map[string]func() (*ebpf.CollectionSpec, error){
		"xdp_pass":  builtin.XDPPassSpec,
		"xdp_count": builtin.XDPCountSpec,
		"xdp_fw":    builtin.XDPFirewallSpec,
	} {
		spec, err := load()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := spec.Programs[name]
		if p == nil || p.Type != ebpf.XDP {
			t.Fatalf("%s: no XDP program %q in %v", name, name, spec.Programs)
		}
	}
}

// TestXDPCountCounts runs xdp_count on an IPv4/UDP frame and an ARP frame
// and reads back what it counted.
func TestXDPCountCounts(t *testing.T) {
	testutil.RequirePrivileged(t)
	spec, err := builtin.XDPCountSpec()
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	prog, stats := coll.Programs["xdp_count"], coll.Maps["xdp_count_stats"]

	udp := make([]byte, 60)
	binary.BigEndian.PutUint16(udp[12:], 0x0800) // EtherType IPv4
	udp[14] = 0x45                               // version 4, IHL 5
	udp[14+9] = 17                               // protocol UDP
	arp := make([]byte, 42)
	binary.BigEndian.PutUint16(arp[12:], 0x0806)

	for _, frame := range [][]byte{udp, udp, arp} {
		ret, err := prog.Run(&ebpf.RunOptions{Data: frame})
		if err != nil {
			t.Fatal(err)
		}
		if ret != 2 { // XDP_PASS
			t.Fatalf("xdp_count returned %d, want XDP_PASS (2)", ret)
		}
	}

	type counters struct{ Packets, Bytes uint64 }
	sum := func(ethertype uint16, proto uint8) counters {
		key := make([]byte, 4)
		binary.LittleEndian.PutUint16(key, ethertype)
		key[2] = proto
		var perCPU []counters
		if err := stats.Lookup(key, &perCPU); err != nil {
			t.Fatalf("lookup %#04x/%d: %v", ethertype, proto, err)
		}
		var c counters
		for _, v := range perCPU {
			c.Packets += v.Packets
			c.Bytes += v.Bytes
		}
		return c
	}
	if got := sum(0x0800, 17); got != (counters{2, 120}) {
		t.Errorf("IPv4/UDP: %+v, want 2 packets, 120 bytes", got)
	}
	if got := sum(0x0806, 0); got != (counters{1, 42}) {
		t.Errorf("ARP: %+v, want 1 packet, 42 bytes", got)
	}
}
