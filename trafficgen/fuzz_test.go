package trafficgen

import (
	"errors"
	"os"
	"testing"

	"github.com/xdpkit/xdpkit/packet"
)

// FuzzFieldsOf checks that FieldsOf never panics, errs only on frames
// shorter than an Ethernet header, and returns offsets inside the frame
// with room for their fields.
func FuzzFieldsOf(f *testing.F) {
	for _, proto := range []Proto{UDP, TCP, ICMP} {
		for _, v6 := range []bool{false, true} {
			for _, vlan := range []uint16{0, 42} {
				tmpl := tmplOf(proto, v6, 0)
				tmpl.VLAN = vlan
				frame, err := tmpl.Frame()
				if err != nil {
					f.Fatal(err)
				}
				f.Add(frame)
				f.Add(frame[:len(frame)-3])
			}
		}
	}
	for _, spec := range []string{
		"eth/arp",
		"eth(type=0x88a8)/vlan/vlan/ipv6/udp",
		"eth/ipv6(nh=0)/payload(hex=1100010400000000)",
		"eth/ipv4(proto=udp)/payload(4)",
		"eth/ipv4/ipv4/udp",
	} {
		frame, err := packet.Build(spec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	f.Add([]byte{})
	f.Add(make([]byte, 13))

	f.Fuzz(func(t *testing.T, frame []byte) {
		fields, err := FieldsOf(frame)
		if len(frame) < EthernetHeaderLen {
			if !errors.Is(err, os.ErrInvalid) {
				t.Fatalf("FieldsOf(%d bytes) error = %v, want os.ErrInvalid", len(frame), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("FieldsOf(%d bytes): %v", len(frame), err)
		}
		if p := fieldsProblem(fields, len(frame)); p != "" {
			t.Fatalf("FieldsOf(%x) = %+v: %s", frame, fields, p)
		}
	})
}
