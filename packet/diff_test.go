package packet

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func mustBuild(t testing.TB, spec string) []byte {
	t.Helper()
	b, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDiffEqual(t *testing.T) {
	a := mustBuild(t, "eth/ipv4/udp/payload(64)")
	if d := Diff(a, append([]byte(nil), a...)); d != nil {
		t.Fatalf("Diff of equal frames = %v", d)
	}
	if d := Diff(nil, []byte{}); d != nil {
		t.Fatalf("Diff(nil, empty) = %v", d)
	}
}

func TestDiffTTL(t *testing.T) {
	want := mustBuild(t, "eth/ipv4/udp/payload(64)")
	got := mustBuild(t, "eth/ipv4(ttl=63)/udp/payload(64)")
	d := Diff(want, got)
	if len(d) != 2 {
		t.Fatalf("got %d differences, want 2:\n%s", len(d), FormatDiff(d))
	}
	if d[0].String() != "IPv4.TTL: want 64, got 63" {
		t.Errorf("first difference %q", d[0])
	}
	if d[0] != (Difference{Layer: "IPv4", Field: "TTL", Want: "64", Got: "63"}) {
		t.Errorf("first difference %#v", d[0])
	}
	wantSum := fmt.Sprintf("0x%04x", uint16(want[24])<<8|uint16(want[25]))
	gotSum := fmt.Sprintf("0x%04x", uint16(got[24])<<8|uint16(got[25]))
	if d[1] != (Difference{Layer: "IPv4", Field: "Checksum", Want: wantSum, Got: gotSum}) {
		t.Errorf("second difference %#v", d[1])
	}
	if s := FormatDiff(d); s != "IPv4.TTL: want 64, got 63\nIPv4.Checksum: want "+wantSum+", got "+gotSum {
		t.Errorf("FormatDiff = %q", s)
	}
}

func TestDiffCases(t *testing.T) {
	tests := []struct {
		name      string
		want, got []byte
		diffs     []string
	}{
		{
			"missing layer",
			mustBuild(t, "eth/vlan(id=5)/ipv4/udp"),
			mustBuild(t, "eth/ipv4/udp"),
			[]string{"Ethernet.EthernetType: want Dot1Q, got IPv4", "layer 2: want Dot1Q, got IPv4"},
		},
		{
			"layer absent at the end",
			mustBuild(t, "eth/ipv4(proto=udp)/udp"),
			mustBuild(t, "eth/ipv4(proto=udp)"),
			[]string{"IPv4.Length: want 28, got 20", "IPv4.Checksum: want 0x66cf, got 0x66d7", "UDP: want present, got absent"},
		},
		{
			"layer present only in got",
			mustBuild(t, "eth/ipv6(nh=6)/payload(0)"),
			mustBuild(t, "eth/ipv6/tcp"),
			[]string{"IPv6.Length: want 0, got 20", "TCP: want absent, got present"},
		},
		{
			"payload byte",
			mustBuild(t, "eth/ipv4/udp/payload(hex=00010203040506070809)"),
			mustBuild(t, "eth/ipv4/udp/payload(hex=000102030405060709ff)"),
			[]string{"UDP.Checksum: want 0xbcae, got 0xbab8", "Payload.Bytes[8]: want 0x08, got 0x09"},
		},
		{
			"payload length",
			mustBuild(t, "eth/ipv4/tcp/payload(4)"),
			mustBuild(t, "eth/ipv4/tcp/payload(6)"),
			[]string{"IPv4.Length: want 44, got 46", "IPv4.Checksum: want 0x66ca, got 0x66c8", "TCP.Checksum: want 0x94b6, got 0x90af", "Payload.Length: want 4, got 6"},
		},
		{
			"trailing bytes after the IP packet",
			mustBuild(t, "eth/ipv4/udp"),
			append(mustBuild(t, "eth/ipv4/udp"), 0, 0),
			[]string{"Frame.Length: want 42, got 44"},
		},
		{
			"tcp flags and ports",
			mustBuild(t, "eth/ipv4/tcp(flags=S,dport=80)"),
			mustBuild(t, "eth/ipv4/tcp(flags=SA,dport=443)"),
			[]string{"TCP.DstPort: want 80, got 443", "TCP.ACK: want false, got true", "TCP.Checksum: want 0x96be, got 0x9543"},
		},
		{
			"addresses",
			mustBuild(t, "eth(src=02:00:00:00:00:0a)/arp(tpa=10.0.0.3)"),
			mustBuild(t, "eth(src=02:00:00:00:00:0b)/arp(tpa=10.0.0.3,sha=02:00:00:00:00:0a,spa=10.0.0.9)"),
			[]string{"Ethernet.SrcMAC: want 02:00:00:00:00:0a, got 02:00:00:00:00:0b", "ARP.SourceProtAddress: want 10.0.0.1, got 10.0.0.9"},
		},
		{
			"undecodable tails compared as bytes",
			mustBuild(t, "eth(type=0x88b5)/payload(hex=0102)"),
			mustBuild(t, "eth(type=0x88b5)/payload(hex=0103)"),
			[]string{"Payload.Bytes[1]: want 0x02, got 0x03"},
		},
		{
			"short frames",
			[]byte{1, 2, 3},
			[]byte{1, 2, 4, 5},
			[]string{"Payload.Length: want 3, got 4", "Payload.Bytes[2]: want 0x03, got 0x04"},
		},
		{
			"truncated IPv4",
			mustBuild(t, "eth/ipv4/udp"),
			mustBuild(t, "eth/ipv4/udp")[:20],
			[]string{"IPv4: want present, got absent", "UDP: want present, got absent"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Diff(tc.want, tc.got)
			var got []string
			for _, x := range d {
				got = append(got, x.String())
			}
			if !reflect.DeepEqual(got, tc.diffs) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.diffs, "\n"))
			}
		})
	}
}

func TestDifferenceString(t *testing.T) {
	if s := (Difference{Layer: "UDP", Want: "present", Got: "absent"}).String(); s != "UDP: want present, got absent" {
		t.Errorf("%q", s)
	}
	if FormatDiff(nil) != "" {
		t.Error("FormatDiff(nil) not empty")
	}
}
