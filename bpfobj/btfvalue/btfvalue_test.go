package btfvalue

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/xdpkit/xdpkit/internal/testprogs"
)

// mapsTypes returns the key and value types of the maps in the maps test
// program, as clang wrote them.
func mapsTypes(t testing.TB) map[string][2]btf.Type {
	t.Helper()
	spec, err := testprogs.Spec("maps")
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][2]btf.Type)
	for name, m := range spec.Maps {
		out[name] = [2]btf.Type{m.Key, m.Value}
	}
	return out
}

var (
	u8   = &btf.Int{Name: "unsigned char", Size: 1}
	u16  = &btf.Int{Name: "unsigned short", Size: 2}
	u32  = &btf.Int{Name: "unsigned int", Size: 4}
	s32  = &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u64  = &btf.Int{Name: "unsigned long long", Size: 8}
	s128 = &btf.Int{Name: "__int128", Size: 16, Encoding: btf.Signed}
	char = &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}
	boo  = &btf.Int{Name: "_Bool", Size: 1, Encoding: btf.Bool}
	f64  = &btf.Float{Name: "double", Size: 8}
	f32  = &btf.Float{Name: "float", Size: 4}
	tU8  = &btf.Typedef{Name: "__u8", Type: u8}

	color = &btf.Enum{Name: "color", Size: 4, Values: []btf.EnumValue{{Name: "RED", Value: 0}, {Name: "GREEN", Value: 5}, {Name: "BLUE", Value: 6}}}

	// struct flags { u32 a:3; int b:5; enum color c:4; u32 :4; u32 d:16; }
	flags = &btf.Struct{Name: "flags", Size: 4, Members: []btf.Member{
		{Name: "a", Type: u32, Offset: 0, BitfieldSize: 3},
		{Name: "b", Type: s32, Offset: 3, BitfieldSize: 5},
		{Name: "c", Type: color, Offset: 8, BitfieldSize: 4},
		{Name: "", Type: u32, Offset: 12, BitfieldSize: 4},
		{Name: "d", Type: u32, Offset: 16, BitfieldSize: 16},
	}}

	// struct mixed { u64 big; __int128 huge; double f; float g; void *p; _Bool ok;
	//   union { u16 lo; u8 b[2]; }; const volatile u8 tag[3]; }
	mixed = &btf.Struct{Name: "mixed", Size: 56, Members: []btf.Member{
		{Name: "big", Type: u64, Offset: 0},
		{Name: "huge", Type: s128, Offset: 64},
		{Name: "f", Type: f64, Offset: 192},
		{Name: "g", Type: f32, Offset: 256},
		{Name: "p", Type: &btf.Pointer{Target: &btf.Void{}}, Offset: 320 - 32},
		{Name: "ok", Type: boo, Offset: 352},
		{Name: "", Type: &btf.Union{Size: 2, Members: []btf.Member{
			{Name: "lo", Type: u16},
			{Name: "b", Type: &btf.Array{Type: tU8, Nelems: 2}},
		}}, Offset: 368},
		{Name: "tag", Type: &btf.Const{Type: &btf.Volatile{Type: &btf.Array{Type: tU8, Nelems: 3}}}, Offset: 384},
	}}
)

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFormatMapsTypes(t *testing.T) {
	types := mapsTypes(t)

	entry := make([]byte, 40)
	copy(entry[0:], []byte{7, 0, 0, 0})                         // id
	copy(entry[4:], []byte{5, 0, 0, 0})                         // color GREEN
	copy(entry[8:], []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}) // mac
	copy(entry[14:], []byte{10, 0})                             // vlan
	copy(entry[16:], []byte{0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(entry[24:], "web")
	copy(entry[32:], []byte{1, 2, 3, 4})

	for _, tc := range []struct {
		name  string
		typ   btf.Type
		in    []byte
		json  string
		human string
	}{
		{"counts key", types["counts"][0], []byte{3, 0, 0, 0}, `3`, `3`},
		{"counts value", types["counts"][1], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, `18446744073709551615`, `18446744073709551615`},
		{"entries key", types["entries"][0], []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 1, 0}, `{"mac":[0,17,34,51,68,85],"vlan":1}`, `{"mac": [0, 17, 34, 51, 68, 85], "vlan": 1}`},
		{"entries value", types["entries"][1], entry,
			`{"id":7,"color":"GREEN","addr":{"mac":[0,17,34,51,68,85],"vlan":10},"delta":-3,"name":"web","raw":{"u32":67305985,"bytes":[1,2,3,4]}}`,
			`{"id": 7, "color": "GREEN", "addr": {"mac": [0, 17, 34, 51, 68, 85], "vlan": 10}, "delta": -3, "name": "web", "raw": {"u32": 67305985, "bytes": [1, 2, 3, 4]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Format(tc.typ, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := mustJSON(t, v); got != tc.json {
				t.Errorf("json:\n got %s\nwant %s", got, tc.json)
			}
			if got := Human(v); got != tc.human {
				t.Errorf("human:\n got %s\nwant %s", got, tc.human)
			}
			back, err := Parse(tc.typ, tc.json)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, tc.in) {
				t.Errorf("Parse(%s) = % x, want % x", tc.json, back, tc.in)
			}
		})
	}
}

func TestFormatCharArrays(t *testing.T) {
	arr := &btf.Array{Type: char, Nelems: 4}
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{[]byte("ab\x00\x00"), `"ab"`},
		{[]byte("abcd"), `"abcd"`},
		{[]byte{0, 0, 0, 0}, `""`},
		{[]byte("a\x00b\x00"), `[97,0,98,0]`}, // bytes after the NUL: keep them
		{[]byte{0xff, 'a', 0, 0}, `[-1,97,0,0]`},
	} {
		v, err := Format(arr, tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustJSON(t, v); got != tc.want {
			t.Errorf("Format(% x) = %s, want %s", tc.in, got, tc.want)
		}
		back, err := Parse(arr, tc.want)
		if err != nil || !bytes.Equal(back, tc.in) {
			t.Errorf("Parse(%s) = % x, %v; want % x", tc.want, back, err, tc.in)
		}
	}
}

func TestBitfields(t *testing.T) {
	// a=5 (101), b=-3 (5 bits: 11101), c=GREEN(5: 0101), pad 1111, d=0xbeef
	var u uint32 = 5 | (0b11101 << 3) | (5 << 8) | (0xf << 12) | (0xbeef << 16)
	in := []byte{byte(u), byte(u >> 8), byte(u >> 16), byte(u >> 24)}
	v, err := Format(flags, in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"a":5,"b":-3,"c":"GREEN","d":48879}`
	if got := mustJSON(t, v); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	back, err := Parse(flags, want)
	if err != nil {
		t.Fatal(err)
	}
	in[1] &^= 0xf0 // the unnamed padding bits come back as zero
	if !bytes.Equal(back, in) {
		t.Fatalf("Parse = % x, want % x", back, in)
	}
	if _, err := Parse(flags, `{"a": 8}`); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), ".a: 8 does not fit in a 3-bit field (0..7)") {
		t.Fatalf("out of range bitfield: %v", err)
	}
	if _, err := Parse(flags, `{"b": -17}`); !errors.Is(err, ErrInvalid) {
		t.Fatalf("out of range signed bitfield: %v", err)
	}
}

func TestMixed(t *testing.T) {
	const in = `{"big":18446744073709551615,"huge":-170141183460469231731687303715884105728,"f":1.5,"g":-0.25,"p":"0xffff8880deadbeef","ok":true,"lo":258,"b":[2,1],"tag":[1,2,3]}`
	b, err := Parse(mixed, in)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Format(mixed, b)
	if err != nil {
		t.Fatal(err)
	}
	// b is written after lo (declaration order) and wins: lo reads 0x0102.
	const want = `{"big":18446744073709551615,"huge":-170141183460469231731687303715884105728,"f":1.5,"g":-0.25,"p":"0xffff8880deadbeef","ok":true,"lo":258,"b":[2,1],"tag":[1,2,3]}`
	if got := mustJSON(t, v); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if h := Human(v); !strings.Contains(h, `"p": 0xffff8880deadbeef`) {
		t.Errorf("human rendering of a pointer: %s", h)
	}
}

func TestParseForms(t *testing.T) {
	types := mapsTypes(t)
	key, value := types["entries"][0], types["entries"][1]
	u32key := types["counts"][0]

	for _, tc := range []struct {
		typ  btf.Type
		in   string
		want []byte
	}{
		{u32key, "1", []byte{1, 0, 0, 0}},
		{u32key, "0x10", []byte{0x10, 0, 0, 0}},
		{u32key, `"0x10"`, []byte{0x10, 0, 0, 0}},
		{u32key, "hex:01 02 03 04", []byte{1, 2, 3, 4}},
		{u32key, "hex:01020304", []byte{1, 2, 3, 4}},
		{key, `{"vlan": 2}`, []byte{0, 0, 0, 0, 0, 0, 2, 0}},
		{key, `{"mac": [1, 2], "vlan": "hex:00 01"}`, []byte{1, 2, 0, 0, 0, 0, 0, 1}},
		{color, "BLUE", []byte{6, 0, 0, 0}},
		{color, `"GREEN"`, []byte{5, 0, 0, 0}},
		{color, `9`, []byte{9, 0, 0, 0}},
		{&btf.Array{Type: char, Nelems: 4}, `hi`, []byte{'h', 'i', 0, 0}},
		{value, `{"raw": {"bytes": [9]}, "color": "BLUE", "name": "x"}`, func() []byte {
			b := make([]byte, 40)
			b[4] = 6
			b[24] = 'x'
			b[32] = 9
			return b
		}()},
	} {
		got, err := Parse(tc.typ, tc.in)
		if err != nil {
			t.Errorf("Parse(%s): %v", tc.in, err)
			continue
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("Parse(%s) = % x, want % x", tc.in, got, tc.want)
		}
	}

	for _, tc := range []struct {
		typ  btf.Type
		in   string
		want string
	}{
		{u32key, "-1", "-1 does not fit in"},
		{u32key, "4294967296", "does not fit in"},
		{u32key, "1.5", "not an integer"},
		{u32key, `[1]`, "a list is not an integer"},
		{key, `{"vlan": 1, "vlna": 2}`, `has no field "vlna" (fields: mac, vlan)`},
		{key, `{"mac": [1,2,3,4,5,6,7]}`, "7 elements do not fit"},
		{key, `{"mac": [1,2,300]}`, ".mac[2]: 300 does not fit in __u8 (0..255)"},
		{key, `5`, "give an object with its field names"},
		{color, "PURPLE", "one of RED, GREEN, BLUE"},
		{value, `{"name": "toolongname"}`, "does not fit in char[8]"},
		{u32key, "hex:zz", "not a hex byte"},
		{u32key, "", "empty value"},
		{nil, "xyz", "no BTF"},
	} {
		_, err := Parse(tc.typ, tc.in)
		if err == nil || !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an os.ErrInvalid error containing %q", tc.in, err, tc.want)
		}
	}
}

func TestHex(t *testing.T) {
	if got := Hex([]byte{1, 0xab, 0}); got != "01 ab 00" {
		t.Fatalf("Hex = %q", got)
	}
	for in, want := range map[string][]byte{
		"01 00 00 00":     {1, 0, 0, 0},
		"hex:1 0 0xff":    {1, 0, 0xff},
		"01:02,03":        {1, 2, 3},
		"  0a0b0c  ":      {0xa, 0xb, 0xc},
		"hex: 0X0A 0x0b ": {0xa, 0xb},
	} {
		got, err := ParseHex(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ParseHex(%q) = % x, %v; want % x", in, got, err, want)
		}
	}
	for _, in := range []string{"", "hex:", "123", "0xg1", "1 2 3 abc"} {
		if _, err := ParseHex(in); !errors.Is(err, os.ErrInvalid) {
			t.Errorf("ParseHex(%q) = %v, want os.ErrInvalid", in, err)
		}
	}
}

func TestFormatWrongSize(t *testing.T) {
	if _, err := Format(u32, []byte{1, 2, 3}); !errors.Is(err, os.ErrInvalid) {
		t.Fatalf("Format with 3 bytes for a u32: %v", err)
	}
}

// fuzzTypes are the types the fuzz tests draw from, with whether every byte
// of them is significant (no padding), so that bytes must round-trip exactly.
func fuzzTypes(t testing.TB) []struct {
	typ   btf.Type
	exact bool
} {
	types := mapsTypes(t)
	return []struct {
		typ   btf.Type
		exact bool
	}{
		{types["counts"][0], true},
		{types["counts"][1], true},
		{types["entries"][0], true},
		{types["entries"][1], false}, // 4 bytes of tail padding
		{flags, false},               // 4 unnamed bits
		{mixed, false},               // floats: NaN payloads
		{&btf.Array{Type: char, Nelems: 5}, true},
		{&btf.Array{Type: color, Nelems: 2}, true},
		{s128, true},
	}
}

func FuzzFormatParse(f *testing.F) {
	types := fuzzTypes(f)
	f.Add(uint8(0), []byte{1, 2, 3, 4})
	f.Add(uint8(3), bytes.Repeat([]byte{0x41}, 40))
	f.Add(uint8(4), []byte{0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(6), []byte("abc\x00\x00"))
	f.Add(uint8(5), bytes.Repeat([]byte{0xff}, 56))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		tc := types[int(which)%len(types)]
		n, err := Size(tc.typ)
		if err != nil {
			t.Fatal(err)
		}
		in := make([]byte, n)
		copy(in, data)

		v, err := Format(tc.typ, in)
		if err != nil {
			t.Fatalf("Format(% x): %v", in, err)
		}
		text := mustJSON(t, v)
		back, err := Parse(tc.typ, text)
		if err != nil {
			t.Fatalf("Parse(%s) of Format(% x): %v", text, in, err)
		}
		if tc.exact && !bytes.Equal(back, in) {
			t.Fatalf("round trip: % x -> %s -> % x", in, text, back)
		}
		v2, err := Format(tc.typ, back)
		if err != nil {
			t.Fatal(err)
		}
		if again := mustJSON(t, v2); again != text {
			t.Fatalf("format(parse(format(b))) != format(b):\n%s\n%s", text, again)
		}
		// Hex input round-trips every byte, padding included.
		hb, err := Parse(tc.typ, HexPrefix+Hex(in))
		if err != nil || !bytes.Equal(hb, in) {
			t.Fatalf("hex round trip of % x: % x, %v", in, hb, err)
		}
	})
}

func FuzzParse(f *testing.F) {
	types := fuzzTypes(f)
	for _, s := range []string{`1`, `{"mac":[1,2],"vlan":3}`, `"GREEN"`, `hex:01 02`, `{"raw":{"bytes":[1]}}`, `-5`, `[1,"BLUE"]`, `{"a":1,"b":-1,"c":"RED","d":3}`, `1e3`, `"0x1_0"`} {
		for i := range types {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		tc := types[int(which)%len(types)]
		b, err := Parse(tc.typ, s)
		if err != nil {
			if !errors.Is(err, os.ErrInvalid) {
				t.Fatalf("Parse(%q): error does not match os.ErrInvalid: %v", s, err)
			}
			return
		}
		n, _ := Size(tc.typ)
		if strings.HasPrefix(strings.TrimSpace(s), HexPrefix) {
			if len(b) != n {
				return // the caller reports the size
			}
		} else if len(b) != n {
			t.Fatalf("Parse(%q) gave %d bytes for a %d-byte type", s, len(b), n)
		}
		v, err := Format(tc.typ, b)
		if err != nil {
			t.Fatalf("Format of parsed %q: %v", s, err)
		}
		b2, err := Parse(tc.typ, mustJSON(t, v))
		if err != nil {
			t.Fatalf("reparse of %q: %v", s, err)
		}
		v2, _ := Format(tc.typ, b2)
		if mustJSON(t, v) != mustJSON(t, v2) {
			t.Fatalf("unstable: %q -> %s -> %s", s, mustJSON(t, v), mustJSON(t, v2))
		}
	})
}

func FuzzParseHex(f *testing.F) {
	for _, s := range []string{"01 02", "hex:0x1,2:3", "0a0b", "zz", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseHex(s)
		if err != nil {
			if !errors.Is(err, os.ErrInvalid) {
				t.Fatalf("ParseHex(%q): %v does not match os.ErrInvalid", s, err)
			}
			return
		}
		b2, err := ParseHex(Hex(b))
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("ParseHex(Hex(% x)) = % x, %v", b, b2, err)
		}
	})
}

// TestReviewEdgeCases holds inputs that once went wrong.
func TestReviewEdgeCases(t *testing.T) {
	// A leading zero is decimal, not octal.
	if b, err := Parse(u32, "010"); err != nil || !bytes.Equal(b, []byte{10, 0, 0, 0}) {
		t.Errorf(`Parse("010") = % x, %v; want ten`, b, err)
	}
	for in, want := range map[string]byte{"0x10": 16, "0o10": 8, "0b10": 2, "1e1": 10} {
		if b, err := Parse(u32, in); err != nil || b[0] != want {
			t.Errorf("Parse(%q) = % x, %v; want %d", in, b, err, want)
		}
	}
	// A huge exponent is refused before the integer is built.
	if _, err := Parse(u64, "1e646000000"); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("huge exponent: %v", err)
	}
	// An array of empty structs holds nothing, whatever its length.
	empty := &btf.Struct{Name: "e", Size: 0}
	v, err := Format(&btf.Array{Type: empty, Nelems: 0x7fffffff}, nil)
	if err != nil || len(v.([]any)) != 0 {
		t.Errorf("array of empty structs: %v, %v", v, err)
	}
	// A zeroed unsigned char array is numbers; a zeroed char array a string.
	if s := mustJSON(t, mustFormat(t, &btf.Array{Type: u8, Nelems: 3}, []byte{0, 0, 0})); s != "[0,0,0]" {
		t.Errorf("zeroed unsigned char[3] = %s", s)
	}
	if s := mustJSON(t, mustFormat(t, &btf.Array{Type: char, Nelems: 3}, []byte{0, 0, 0})); s != `""` {
		t.Errorf("zeroed char[3] = %s", s)
	}
	// Broken JSON is an error, not a string.
	if _, err := Parse(&btf.Array{Type: char, Nelems: 8}, `"abc`); !errors.Is(err, os.ErrInvalid) {
		t.Errorf(`Parse("abc): %v`, err)
	}
	// Union members given together must agree.
	u := &btf.Union{Name: "u", Size: 4, Members: []btf.Member{
		{Name: "n", Type: u32},
		{Name: "b", Type: &btf.Array{Type: tU8, Nelems: 4}},
	}}
	if _, err := Parse(u, `{"n": 1, "b": [2, 3, 4, 5]}`); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "disagree") {
		t.Errorf("disagreeing union members: %v", err)
	}
	b, err := Parse(u, `{"n": 1, "b": [1, 0, 0, 0]}`)
	if err != nil || !bytes.Equal(b, []byte{1, 0, 0, 0}) {
		t.Errorf("agreeing union members: % x, %v", b, err)
	}
}

func mustFormat(t *testing.T, typ btf.Type, b []byte) any {
	t.Helper()
	v, err := Format(typ, b)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
