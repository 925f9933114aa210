package responder_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/xdpkit/xdpkit/responder"
)

// FuzzAnswer feeds Answer arbitrary frames, in a buffer of exactly the
// frame's length and in one with room after it. Answer must not panic;
// when it does not answer, buf must be untouched; when it does, both
// buffers must give the same reply (a neighbour advertisement may need the
// room), the reply must decode with gopacket with consistent lengths and
// valid checksums, nothing after the reply and the request may change, and
// the reply must not be answered in turn.
//
// With fix, the checksums of the IPv4 header and of ICMPv4 and ICMPv6
// messages are made right before Answer sees the frame, so that mutations
// of the other fields reach the code behind the checksum checks.
func FuzzAnswer(f *testing.F) {
	for _, q := range requests(f) {
		f.Add(q.frame, uint8(q.slack), false)
		f.Add(q.frame, uint8(q.slack), true)
	}
	for _, q := range rejections(f) {
		f.Add(q.frame, uint8(8), false)
		f.Add(q.frame, uint8(8), true)
	}
	r := newResponder(f, testConfig())
	f.Fuzz(func(t *testing.T, frame []byte, slack uint8, fix bool) {
		if fix {
			fixChecksums(frame)
		}
		exact := bytes.Clone(frame)
		n, k := r.Answer(exact, len(exact))
		room := append(bytes.Clone(frame), bytes.Repeat([]byte{0xa5}, int(slack))...)
		rn, rk := r.Answer(room, len(frame))

		if k == responder.None {
			if n != 0 || !bytes.Equal(exact, frame) {
				t.Fatalf("not answered, but n = %d and buf changed %v", n, !bytes.Equal(exact, frame))
			}
		}
		if rk == responder.None {
			if rn != 0 || !bytes.Equal(room[:len(frame)], frame) || !bytes.Equal(room[len(frame):], bytes.Repeat([]byte{0xa5}, int(slack))) {
				t.Fatalf("not answered with room, but n = %d or buf changed", rn)
			}
			if k != responder.None {
				t.Fatalf("answered (%d, %v) without room, not with room", n, k)
			}
			return
		}
		if rn <= 0 || rn > len(room) {
			t.Fatalf("reply length %d of a %d-byte buffer", rn, len(room))
		}
		switch {
		case k == rk:
			if n != rn || !bytes.Equal(exact[:n], room[:rn]) {
				t.Fatalf("the reply depends on the room after the frame:\n% x\n% x", exact[:n], room[:rn])
			}
		case k == responder.None && rk == responder.NeighborAdvertisement && rn > len(frame):
		default:
			t.Fatalf("kind %v without room, %v with room", k, rk)
		}
		if rk != responder.NeighborAdvertisement && rn > len(frame) {
			t.Fatalf("%v reply of %d bytes to a %d-byte request", rk, rn, len(frame))
		}
		if end := max(rn, len(frame)); !bytes.Equal(room[end:], bytes.Repeat([]byte{0xa5}, len(room)-end)) {
			t.Fatalf("Answer wrote past the reply")
		}
		verifyReply(t, frame, room[:rn], rk)
		again := bytes.Clone(room)
		if n2, k2 := r.Answer(again, rn); k2 != responder.None || n2 != 0 {
			t.Fatalf("the reply is answered too: (%d, %v)", n2, k2)
		}
	})
}

// fixChecksums makes the IPv4 header checksum and the ICMPv4 or ICMPv6
// checksum of any frame right, where the lengths allow.
func fixChecksums(f []byte) {
	if len(f) < 14 {
		return
	}
	l2, et := 14, binary.BigEndian.Uint16(f[12:])
	if et == 0x8100 {
		if len(f) < 18 {
			return
		}
		l2, et = 18, binary.BigEndian.Uint16(f[16:])
	}
	ip := f[l2:]
	switch et {
	case 0x0800:
		if len(ip) < 20 {
			return
		}
		hl := int(ip[0]&0xf) * 4
		if hl < 20 || hl > len(ip) {
			return
		}
		binary.BigEndian.PutUint16(ip[10:], checksumField(ip[:hl], 10, nil))
		tl := min(int(binary.BigEndian.Uint16(ip[2:])), len(ip))
		if ip[9] == 1 && tl >= hl+4 {
			binary.BigEndian.PutUint16(ip[hl+2:], checksumField(ip[hl:tl], 2, nil))
		}
	case 0x86dd:
		if len(ip) < 44 || ip[6] != 58 {
			return
		}
		n := min(int(binary.BigEndian.Uint16(ip[4:])), len(ip)-40)
		if n >= 4 {
			binary.BigEndian.PutUint16(ip[42:], checksumField(ip[40:40+n], 2, pseudo6(ip[8:24], ip[24:40], n)))
		}
	}
}
