package responder

import (
	"encoding/binary"
	"math/bits"
)

// The Internet checksum (RFC 1071) in three steps: sum adds bytes to an
// accumulator in ones'-complement arithmetic, add adds one more value, and
// fold reduces the accumulator to 16 bits. The checksum field of a message
// is ^fold(sum of the message with the field zero); a message is valid when
// fold(sum of the message with its field) is 0xffff.
//
// The accumulator is 64 bits wide with end-around carry, so 8 bytes are
// added at a time: 2^16 ≡ 1 (mod 0xffff) makes a big-endian 64-bit word
// congruent to the sum of its four 16-bit words. fold returns 0 only for an
// accumulator of 0, that is only when every byte summed was zero, exactly
// like a sum of 16-bit words; so a checksum made from several partial sums
// is bit for bit the one a single pass over the message gives.

// sum returns acc plus the 16-bit big-endian words of b, the last odd byte
// padded with a zero byte. b must start at an even offset of the message.
func sum(acc uint64, b []byte) uint64 {
	var c uint64
	for len(b) >= 32 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), 0)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[8:]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[16:]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[24:]), c)
		acc += c
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), 0)
		acc += c
		b = b[8:]
	}
	if len(b) >= 4 {
		acc = add(acc, uint64(binary.BigEndian.Uint32(b)))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc = add(acc, uint64(binary.BigEndian.Uint16(b)))
		b = b[2:]
	}
	if len(b) == 1 {
		acc = add(acc, uint64(b[0])<<8)
	}
	return acc
}

// add returns acc + v with end-around carry.
func add(acc, v uint64) uint64 {
	acc, c := bits.Add64(acc, v, 0)
	return acc + c
}

// fold reduces acc to 16 bits in ones'-complement arithmetic.
func fold(acc uint64) uint16 {
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>16 + acc&0xffff
	acc = acc>>16 + acc&0xffff
	return uint16(acc)
}

// valid reports whether acc, the sum of a whole message with its checksum
// field, is a valid checksum.
func valid(acc uint64) bool { return fold(acc) == 0xffff }
