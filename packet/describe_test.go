package packet

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(dport=53)/payload(64)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 udp 1234 > 53 payload 64"},
		{"eth/ipv6/icmp6(type=echo-request,id=7,seq=1)/payload(56)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv6 fc00::1 > fc00::2 icmp6 echo-request id 7 seq 1 payload 56"},
		{"eth/arp(op=request,tpa=10.11.1.2)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 arp request who-has 10.11.1.2 tell 10.0.0.1"},
		{"eth/arp(op=reply)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 arp reply 10.0.0.1 is-at 02:00:00:00:00:01"},
		{"eth/arp(op=9)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 arp op 9 10.0.0.1 > 10.0.0.2"},
		{"eth/vlan(id=100)/ipv4/tcp(dport=443,flags=S)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 vlan 100 ipv4 10.0.0.1 > 10.0.0.2 tcp 1234 > 443 flags S"},
		{"eth/vlan(id=7,prio=3)/ipv6/tcp(flags=none)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 vlan 7 prio 3 ipv6 fc00::1 > fc00::2 tcp 1234 > 80 flags none"},
		{"eth/ipv4/icmp(type=echo-reply,id=3,seq=4)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 icmp echo-reply id 3 seq 4"},
		{"eth/ipv4/icmp(type=dest-unreachable,code=3)/payload(28)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 icmp dest-unreachable code 3 payload 28"},
		{"eth/ipv4/icmp(type=42)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 icmp type 42"},
		{"eth/ipv4/ipv6/udp", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 ipv6 fc00::1 > fc00::2 udp 1234 > 5678"},
		{"eth", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02"},
		{"eth/payload(20)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 type 0x88b5 payload 20"},
		{"eth/vlan(type=0x1234)/payload(2)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 vlan 1 type 0x1234 payload 2"},
		{"eth/ipv4/payload(3)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 proto 253 payload 3"},
		{"eth/ipv6(nh=253)/payload(3)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv6 fc00::1 > fc00::2 nh 253 payload 3"},
		{"eth/ipv6/payload(8)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv6 fc00::1 > fc00::2 nh 59 payload 8"},
		{"eth/ipv4(proto=tcp)/payload(3)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 malformed tcp (3 bytes) (truncated)"},
		{"eth(type=ipv4)/payload(6)", "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 malformed ipv4 (6 bytes) (truncated)"},
	}
	for _, tc := range tests {
		if got := Describe(mustBuild(t, tc.spec)); got != tc.want {
			t.Errorf("Describe(%s):\n got %s\nwant %s", tc.spec, got, tc.want)
		}
	}
}

func TestDescribeShortAndGarbage(t *testing.T) {
	for n := range EthernetHeaderLen {
		want := "short frame (" + itoa(n) + " bytes)"
		if got := Describe(make([]byte, n)); got != want {
			t.Errorf("Describe(%d bytes) = %q, want %q", n, got, want)
		}
	}
	if got := Describe(nil); got != "short frame (0 bytes)" {
		t.Errorf("Describe(nil) = %q", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(200))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		// Steer some frames into IP decoders.
		if len(b) > 14 && r.IntN(2) == 0 {
			b[12], b[13] = 0x08, 0x00
			if len(b) > 14 {
				b[14] = 0x45
			}
		}
		s := Describe(b)
		if s == "" || strings.Contains(s, "\n") {
			t.Fatalf("Describe(%x) = %q", b, s)
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}

// TestDescribeHopByHop: an MLDv2 report behind a hop-by-hop header, as
// every Linux host sends when an interface comes up, is whole, and cut
// short it is truncated.
func TestDescribeHopByHop(t *testing.T) {
	frame, err := ParseHex("33330000001602000000000186dd6000000000240001fe800000000000000000000000000001" +
		"ff020000000000000000000000000016" + "3a000502000001008f00000000000001" + "04000000ff020000000000000000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if got := Describe(frame); strings.Contains(got, "truncated") || !strings.Contains(got, "ipv6hopbyhop icmp6 type 143") {
		t.Errorf("Describe = %q", got)
	}
	if got := Describe(frame[:len(frame)-4]); !strings.HasSuffix(got, "(truncated)") {
		t.Errorf("Describe(cut) = %q, want (truncated)", got)
	}
}
