package packet

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseSpecErrors(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"", `packet spec "": empty spec (write layers like eth/ipv4/udp/payload(64))`},
		{"   ", "empty spec"},
		{"eth/ipv4(srcc=1.2.3.4)", `packet spec "eth/ipv4(srcc=1.2.3.4)": layer 2 ipv4: unknown field "srcc" (ipv4 takes src, dst, ttl, tos, id, df, proto)`},
		{"eth/ipv5", `packet spec "eth/ipv5": layer 2: unknown layer "ipv5" (layers: eth, vlan, arp, ipv4, ipv6, udp, tcp, icmp, icmp6, payload)`},
		{"ipv4/udp", `layer 1 ipv4: a spec starts with eth (write eth/ipv4...)`},
		{"eth/eth", `layer 2 eth: eth must be the first layer`},
		{"eth/udp", `layer 2 udp: udp cannot follow eth (udp goes after ipv4 or ipv6)`},
		{"eth/arp/ipv4", `layer 3 ipv4: ipv4 cannot follow arp (ipv4 goes after eth, vlan, ipv4 or ipv6)`},
		{"eth/ipv4/icmp6", `layer 3 icmp6: icmp6 cannot follow ipv4 (icmp6 goes after ipv6)`},
		{"eth/ipv6/icmp", `layer 3 icmp: icmp cannot follow ipv6 (icmp goes after ipv4)`},
		{"eth/ipv4/udp/tcp", `layer 4 tcp: tcp cannot follow udp`},
		{"eth/payload(4)/ipv4", `layer 3 ipv4: nothing may follow payload (payload is the last layer)`},
		{"eth/ipv4(ttl=300)", `layer 2 ipv4: ttl "300" is not a number from 0 to 255 (decimal or 0x hex)`},
		{"eth/ipv4(ttl=-1)", `ttl "-1" is not a number from 0 to 255`},
		{"eth/ipv4/udp(sport=70000)", `layer 3 udp: sport "70000" is not a number from 0 to 65535`},
		{"eth/ipv4(src=10.0.0)", `layer 2 ipv4: src "10.0.0" is not an IPv4 address (want a dotted quad like 10.0.0.1)`},
		{"eth/ipv4(dst=fc00::1)", `layer 2 ipv4: dst "fc00::1" is an IPv6 address; ipv4 needs an IPv4 address like 10.0.0.1`},
		{"eth/ipv6(src=10.0.0.1)", `layer 2 ipv6: src "10.0.0.1" is an IPv4 address; ipv6 needs an IPv6 address like fc00::1`},
		{"eth/ipv6(src=fe80::1%eth0)", `src "fe80::1%eth0" has a zone`},
		{"eth/ipv6(dst=fc00::zz)", `dst "fc00::zz" is not an IPv6 address (want one like fc00::1)`},
		{"eth/ipv6(flow=0x100000)", `flow "0x100000" is not a number from 0 to 1048575`},
		{"eth(src=02:00:00:00:00)", `layer 1 eth: src "02:00:00:00:00" is not a MAC address (want 6 bytes like 02:00:00:00:00:01)`},
		{"eth(type=ipx)", `layer 1 eth: type "ipx" is not an EtherType (ipv4, arp, vlan, ipv6, or a number from 0 to 65535)`},
		{"eth/vlan(id=4096)", `layer 2 vlan: id "4096" is not a number from 0 to 4095`},
		{"eth/vlan(prio=8)", `prio "8" is not a number from 0 to 7`},
		{"eth/arp(op=ask)", `layer 2 arp: op "ask" is not an ARP operation (request, reply, or a number from 0 to 65535)`},
		{"eth/ipv4(df=maybe)", `layer 2 ipv4: df "maybe" is not true or false`},
		{"eth/ipv4(proto=300)", `proto "300" is not an IP protocol`},
		{"eth/ipv4/tcp(flags=SX)", `layer 3 tcp: flags "SX": 'X' is not a TCP flag (letters from FSRPAUEC, e.g. SA, or none)`},
		{"eth/ipv4/tcp(flags=\"\")", `flags no flags given`},
		{"eth/ipv4/tcp(seq=4294967296)", `seq "4294967296" is not a number from 0 to 4294967295`},
		{"eth/ipv4/icmp(type=ping)", `layer 3 icmp: type "ping" is not an ICMP type (echo-reply, dest-unreachable, redirect, echo-request, time-exceeded, param-problem, or a number from 0 to 255)`},
		{"eth/ipv6/icmp6(type=ping)", `type "ping" is not an ICMPv6 type (`},
		{"eth/ipv4(ttl=64,ttl=63)", `layer 2 ipv4: field ttl given twice (give each field once)`},
		{"eth/ipv4(ttl=010x)", `ttl "010x" is not a number`},
		{"eth/ipv4(ttl=0x)", `ttl "0x" is not a number`},
		{"eth/payload(70000)", `layer 2 payload: len "70000" is not a number from 0 to 65535 (decimal or 0x hex) (a frame is at most 65535 bytes)`},
		{"eth/payload(65522)", `the frame would be 65536 bytes, more than the 65535 a frame may have (make the payload smaller)`},
		{"eth/ipv4/udp/payload(65535)", `the frame would be`},
		{"eth/payload(hex=zz)", `layer 2 payload: hex "zz": "zz" at byte 1 is not hex`},
		{"eth/payload(hex=abc)", `odd number of hex digits (3)`},
		{"eth/payload(4,text=a)", `layer 2 payload: give one of len, hex or text, not 2 of them`},
		{"eth/payload(4,len=3)", `field len given twice`},
		{"eth/ipv4(1.2.3.4)", `layer 2 ipv4: "1.2.3.4" is not key=value (ipv4 takes src, dst, ttl, tos, id, df, proto)`},
		{"eth/ipv4(ttl=)", `layer 2 ipv4: field ttl has no value (write ttl=VALUE, or leave ttl out for its default)`},
		{"eth/ipv4(=5)", `'=' without a field name before it`},
		{"eth/ipv4(t t=5)", `field name "t t" is not a word`},
		{"eth/ipv4(ttl=5", `layer 2 ipv4: missing ')' after the fields`},
		{"eth/ipv4(ttl=5,)", `layer 2 ipv4: empty field (remove the extra ',')`},
		{"eth/ipv4(ttl=5 x", `missing ')'`},
		{"eth/ipv4(ttl=(5))", `unexpected '(' in the fields`},
		{"eth/ipv4(ttl=\"5)", `layer 2 ipv4: field ttl: bad quoted value at '"'`},
		{"eth/ipv4(ttl=\"5\" 6)", `unexpected '6' after a field (separate fields with ',')`},
		{"eth//ipv4", `layer 2: empty layer name (two '/' in a row)`},
		{"eth/ipv4/", `layer 3: missing after the last '/'`},
		{"eth ipv4", `layer 1 eth: unexpected 'i' after the layer (separate layers with '/', put fields in parentheses)`},
		{"eth/(ttl=5)", `layer 2: unexpected '(' where a layer name like eth belongs`},
		{"eth/ipv4()x", `unexpected 'x' after the layer`},
		{"ÿ", `layer 1: unexpected 'ÿ' where a layer name like eth belongs`},
	}
	for _, tc := range tests {
		s, err := ParseSpec(tc.spec)
		if err == nil {
			t.Errorf("ParseSpec(%q) = %v, want an error containing %q", tc.spec, s, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSpec(%q):\n got %v\nwant %s", tc.spec, err, tc.want)
		}
		if !errors.Is(err, os.ErrInvalid) {
			t.Errorf("ParseSpec(%q): %v does not match os.ErrInvalid", tc.spec, err)
		}
		if strings.HasSuffix(err.Error(), "invalid argument") {
			t.Errorf("ParseSpec(%q): %v ends in the sentinel's text", tc.spec, err)
		}
		if _, berr := Build(tc.spec); berr == nil || berr.Error() != err.Error() {
			t.Errorf("Build(%q) = %v, want ParseSpec's error", tc.spec, berr)
		}
	}
}

func TestParseSpecStructure(t *testing.T) {
	s, err := ParseSpec(` Eth(SRC=02:00:00:00:00:0a) / IPV4 ( ttl = 5 , src=10.0.0.9 ) /udp/ payload( 12 ) `)
	if err != nil {
		t.Fatal(err)
	}
	want := &Spec{Layers: []Layer{
		{Name: "eth", Fields: []Field{{"src", "02:00:00:00:00:0a"}}},
		{Name: "ipv4", Fields: []Field{{"ttl", "5"}, {"src", "10.0.0.9"}}},
		{Name: "udp"},
		{Name: "payload", Fields: []Field{{"len", "12"}}},
	}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got %#v\nwant %#v", s, want)
	}
	if got := s.String(); got != "eth(src=02:00:00:00:00:0a)/ipv4(ttl=5,src=10.0.0.9)/udp/payload(12)" {
		t.Fatalf("String() = %q", got)
	}
}

func TestSpecRoundTrip(t *testing.T) {
	specs := []string{
		"eth",
		"eth()",
		"eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(dport=53)/payload(64)",
		"eth/ipv6/icmp6(type=echo-request,id=7,seq=1)/payload(56)",
		"eth/arp(op=request,tpa=10.11.1.2)",
		"eth/vlan(id=100)/ipv4/tcp(dport=443,flags=S)",
		"eth/payload(len=5)",
		`eth/payload(text="a, b/(c)=\"d\"")`,
		`eth/payload(text=" padded ")`,
		`eth/payload(text="")`,
		`eth/payload(text="tab\there\x00\xff")`,
		`eth/payload(text=héllo wörld)`,
		`eth/payload("7")`,
		"eth/ipv6(src=::ffff:1.2.3.4)",
	}
	for _, in := range specs {
		s, err := ParseSpec(in)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", in, err)
			continue
		}
		out := s.String()
		s2, err := ParseSpec(out)
		if err != nil {
			t.Errorf("ParseSpec(%q) (String of %q): %v", out, in, err)
			continue
		}
		if !reflect.DeepEqual(s, s2) {
			t.Errorf("round trip of %q via %q:\n%#v\n%#v", in, out, s, s2)
		}
		if out2 := s2.String(); out2 != out {
			t.Errorf("String not canonical: %q then %q", out, out2)
		}
		a, err1 := s.Build()
		b, err2 := s2.Build()
		if err1 != nil || err2 != nil || string(a) != string(b) {
			t.Errorf("%q and %q build differently: %v %v", in, out, err1, err2)
		}
	}
}

func TestSpecStringQuoting(t *testing.T) {
	s, err := ParseSpec(`eth/payload(text="a,b")`)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); got != `eth/payload(text="a,b")` {
		t.Fatalf("String() = %q", got)
	}
	if got := s.Layers[1].Fields[0].Value; got != "a,b" {
		t.Fatalf("value %q", got)
	}
}
