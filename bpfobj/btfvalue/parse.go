package btfvalue

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// HexPrefix marks an input as raw hex bytes ("hex:01 00 00 00") for Parse,
// for a whole key or value or for any one field of it.
const HexPrefix = "hex:"

// Parse reads s as a value of typ and returns its bytes.
//
// s is one of:
//   - hex bytes after HexPrefix ("hex:01 00 00 00"), taken as they are;
//   - a JSON value shaped like Format's output: a number (or a "0x10"
//     string) for an integer, an enum value's name or number, a string for a
//     char array, a list for an array, an object with field names for a
//     struct or union (missing fields are zero);
//   - a bare word, taken as a JSON string: an enum name (GREEN), a char
//     array's text, or an integer such as 0x10.
//
// With a nil typ (a map without BTF) only hex bytes are accepted, with or
// without the prefix. The bytes returned for a typ are exactly its size;
// hex input is returned as given, and the caller checks its size.
func Parse(typ btf.Type, s string) ([]byte, error) {
	trimmed := strings.TrimSpace(s)
	if typ == nil || strings.HasPrefix(trimmed, HexPrefix) {
		b, err := ParseHex(trimmed)
		if err != nil && typ == nil {
			return nil, fmt.Errorf("%w (this map has no BTF type information, so give hex bytes such as \"01 00 00 00\")", err)
		}
		return b, err
	}
	if trimmed == "" {
		return nil, errs.Markf(ErrInvalid, "empty value: give a JSON value or hex:BYTES")
	}

	v, err := decodeJSON(trimmed)
	if err != nil {
		if strings.ContainsAny(trimmed[:1], `{["`) {
			return nil, errs.Markf(ErrInvalid, "%q is not valid JSON: %v", trimmed, err)
		}
		// Not JSON: a bare word such as an enum name or a string.
		v = trimmed
	}
	return Encode(typ, v)
}

func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errs.Markf(ErrInvalid, "trailing data after the JSON value")
	}
	return v, nil
}

// Encode encodes v, a value as Format returns it or as encoding/json
// decodes it (with UseNumber for exact 64-bit integers), as typ's bytes.
func Encode(typ btf.Type, v any) ([]byte, error) {
	n, err := Size(typ)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if err := encode(typ, v, buf, 0, ""); err != nil {
		return nil, err
	}
	return buf, nil
}

// pathError names where in a value a problem is, such as ".addr.mac[7]".
func pathError(path string, err error) error {
	if err == nil || path == "" {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

func invalidf(format string, args ...any) error {
	return errs.Markf(ErrInvalid, "%s", fmt.Sprintf(format, args...))
}

func encode(typ btf.Type, v any, buf []byte, depth int, path string) error {
	if depth > maxDepth {
		return pathError(path, invalidf("type nested more than %d levels", maxDepth))
	}
	if s, ok := v.(string); ok && strings.HasPrefix(s, HexPrefix) {
		b, err := ParseHex(s)
		if err != nil {
			return pathError(path, err)
		}
		if len(b) != len(buf) {
			return pathError(path, invalidf("%d hex bytes given for %s, which is %d bytes", len(b), typeName(typ), len(buf)))
		}
		copy(buf, b)
		return nil
	}

	var err error
	switch t := peel(typ).(type) {
	case *btf.Int:
		err = encodeInt(t, typeName(typ), v, buf)
	case *btf.Enum:
		err = encodeEnum(t, v, buf, uint64(len(buf))*8)
	case *btf.Pointer:
		err = encodeInteger(v, buf, false, "pointer")
	case *btf.Float:
		err = encodeFloat(v, buf)
	case *btf.Array:
		return encodeArray(t, v, buf, depth, path)
	case *btf.Struct:
		return encodeMembers(t.Members, typ, v, buf, depth, path)
	case *btf.Union:
		return encodeMembers(t.Members, typ, v, buf, depth, path)
	case *btf.Var:
		return encode(t.Type, v, buf, depth+1, path)
	case *btf.Datasec:
		return encodeDatasec(t, v, buf, depth, path)
	default:
		err = invalidf("values of type %s can only be given as hex bytes (%s...)", typeName(typ), HexPrefix)
		if s, ok := v.(string); ok {
			b, herr := ParseHex(s)
			if herr == nil && len(b) == len(buf) {
				copy(buf, b)
				err = nil
			}
		}
	}
	return pathError(path, err)
}

func encodeInt(t *btf.Int, name string, v any, buf []byte) error {
	if len(buf) != int(t.Size) {
		return invalidf("%s is %d bytes but %d are left", name, t.Size, len(buf))
	}
	if s, ok := v.(string); ok && len(buf) == 1 && isChar(t) && len(s) == 1 {
		if _, err := strconv.Atoi(s); err != nil {
			buf[0] = s[0] // a single character for a char
			return nil
		}
	}
	if b, ok := v.(bool); ok && t.Encoding == btf.Bool {
		buf[0] = 0
		if b {
			buf[0] = 1
		}
		clear(buf[1:])
		return nil
	}
	return encodeInteger(v, buf, t.Encoding&btf.Signed != 0, name)
}

// encodeInteger writes v, an integer of any accepted form, into buf as a
// len(buf)-byte integer, checking its range.
func encodeInteger(v any, buf []byte, signed bool, name string) error {
	n, err := toBig(v)
	if err != nil {
		return invalidf("%v for %s", err, name)
	}
	bits := uint(len(buf)) * 8
	if err := checkRange(n, bits, signed, name); err != nil {
		return err
	}
	writeBig(buf, n)
	return nil
}

func checkRange(n *big.Int, bits uint, signed bool, name string) error {
	var lo, hi *big.Int
	one := big.NewInt(1)
	if signed {
		hi = new(big.Int).Sub(new(big.Int).Lsh(one, bits-1), one)
		lo = new(big.Int).Neg(new(big.Int).Lsh(one, bits-1))
	} else {
		hi = new(big.Int).Sub(new(big.Int).Lsh(one, bits), one)
		lo = new(big.Int)
	}
	if n.Cmp(lo) < 0 || n.Cmp(hi) > 0 {
		return invalidf("%s does not fit in %s (%s..%s)", n, name, lo, hi)
	}
	return nil
}

// writeBig writes n in two's complement into buf, in host byte order.
func writeBig(buf []byte, n *big.Int) {
	bits := uint(len(buf)) * 8
	u := new(big.Int).Set(n)
	if u.Sign() < 0 {
		u.Add(u, new(big.Int).Lsh(big.NewInt(1), bits))
	}
	be := u.FillBytes(make([]byte, len(buf)))
	if nativeLittle {
		slices.Reverse(be)
	}
	copy(buf, be)
}

// toBig converts an integer given as a JSON number, a string (decimal, 0x
// hex, 0o octal, 0b binary), a bool or a Go integer.
func toBig(v any) (*big.Int, error) {
	switch x := v.(type) {
	case json.Number:
		return parseBigInt(string(x))
	case string:
		return parseBigInt(x)
	case bool:
		if x {
			return big.NewInt(1), nil
		}
		return big.NewInt(0), nil
	case uint64:
		return new(big.Int).SetUint64(x), nil
	case int64:
		return big.NewInt(x), nil
	case int:
		return big.NewInt(int64(x)), nil
	case Pointer:
		return new(big.Int).SetUint64(uint64(x)), nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v is not an integer", x)
		}
		n, _ := big.NewFloat(x).Int(nil)
		return n, nil
	case nil:
		return nil, errors.New("null is not an integer")
	}
	return nil, fmt.Errorf("%s is not an integer", describe(v))
}

func parseBigInt(s string) (*big.Int, error) {
	s = strings.TrimSpace(s)
	if n, ok := new(big.Int).SetString(s, ParseBase(s)); ok {
		return n, nil
	}
	// JSON numbers such as 1e3 or 5.0 that are whole. The exponent is
	// checked before the integer is built: 1e646000000 would take
	// hundreds of megabytes.
	if f, _, err := big.ParseFloat(s, 10, 256, big.ToNearestEven); err == nil && f.IsInt() && f.MantExp(nil) <= 129 {
		n, _ := f.Int(nil)
		if n.BitLen() <= 128 {
			return n, nil
		}
	}
	return nil, fmt.Errorf("%q is not an integer", s)
}

// ParseBase is the base argument for big.Int.SetString and
// strconv.ParseInt that reads s in IntBase(s): 0 (the prefix decides) when
// s has a 0x, 0o or 0b prefix, else 10.
func ParseBase(s string) int {
	if IntBase(s) != 10 {
		return 0
	}
	return 10
}

// IntBase is the base in which to read the integer s: 16, 8 or 2 with a
// 0x, 0o or 0b prefix (after an optional sign), else 10. A leading zero
// does not make a number octal: "010" is ten, as a user typing a port or
// an index means it. ParseBase gives the base argument for strconv.
func IntBase(s string) int {
	s = strings.TrimLeft(s, "+-")
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			return 16
		case 'o', 'O':
			return 8
		case 'b', 'B':
			return 2
		}
	}
	return 10
}

func encodeEnum(t *btf.Enum, v any, buf []byte, bits uint64) error {
	if s, ok := v.(string); ok {
		for _, ev := range t.Values {
			if ev.Name == s {
				return writeEnum(t, ev.Value, buf, bits)
			}
		}
		if _, err := parseBigInt(s); err != nil {
			return invalidf("%q is not a value of %s (one of %s, or a number)", s, typeName(t), enumNames(t))
		}
	}
	if len(buf) == 0 || !validIntSize(len(buf)) {
		return invalidf("%s has an unsupported size of %d bytes", typeName(t), len(buf))
	}
	return encodeInteger(v, buf, t.Signed, typeName(t))
}

func writeEnum(t *btf.Enum, value uint64, buf []byte, bits uint64) error {
	if !validIntSize(len(buf)) {
		return invalidf("%s has an unsupported size of %d bytes", typeName(t), len(buf))
	}
	writeUint(buf, truncate(value, uint(bits)))
	return nil
}

func enumNames(t *btf.Enum) string {
	names := make([]string, 0, len(t.Values))
	for _, v := range t.Values {
		names = append(names, v.Name)
	}
	return strings.Join(names, ", ")
}

func encodeFloat(v any, buf []byte) error {
	var f float64
	switch x := v.(type) {
	case json.Number:
		p, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return invalidf("%s is not a number", x)
		}
		f = p
	case float64:
		f = x
	case uint64:
		f = float64(x)
	case int64:
		f = float64(x)
	case string:
		p, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return invalidf("%q is not a number", x)
		}
		f = p
	default:
		return invalidf("%s is not a number", describe(v))
	}
	switch len(buf) {
	case 4:
		binary.NativeEndian.PutUint32(buf, math.Float32bits(float32(f)))
	case 8:
		binary.NativeEndian.PutUint64(buf, math.Float64bits(f))
	default:
		return invalidf("floats of %d bytes are not supported", len(buf))
	}
	return nil
}

func encodeArray(t *btf.Array, v any, buf []byte, depth int, path string) error {
	elemSize, err := Size(t.Type)
	if err != nil {
		return pathError(path, err)
	}
	if uint64(elemSize)*uint64(t.Nelems) != uint64(len(buf)) {
		return pathError(path, invalidf("array of %d x %d bytes does not fill %d bytes", t.Nelems, elemSize, len(buf)))
	}
	var list []any
	switch x := v.(type) {
	case string:
		if !isChar(t.Type) {
			return pathError(path, invalidf("a string was given for %s, which is not a char array: give a list", typeName(t)))
		}
		if len(x) > int(t.Nelems) {
			return pathError(path, invalidf("string of %d bytes does not fit in char[%d]", len(x), t.Nelems))
		}
		clear(buf)
		copy(buf, x)
		return nil
	case []any:
		list = x
	default:
		return pathError(path, invalidf("%s was given for %s: give a list", describe(v), typeName(t)))
	}
	if len(list) > int(t.Nelems) {
		return pathError(path, invalidf("%d elements do not fit in %s", len(list), typeName(t)))
	}
	clear(buf)
	for i, elem := range list {
		err := encode(t.Type, elem, buf[i*elemSize:(i+1)*elemSize], depth+1, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return err
		}
	}
	return nil
}

// fields returns v's fields as a lookup by name, accepting a decoded JSON
// object or an Object.
func fields(v any) (map[string]any, []string, bool) {
	switch x := v.(type) {
	case map[string]any:
		names := make([]string, 0, len(x))
		for k := range x {
			names = append(names, k)
		}
		slices.Sort(names)
		return x, names, true
	case Object:
		m := make(map[string]any, len(x))
		names := make([]string, 0, len(x))
		for _, f := range x {
			if _, dup := m[f.Name]; !dup {
				names = append(names, f.Name)
			}
			m[f.Name] = f.Value
		}
		return m, names, true
	}
	return nil, nil, false
}

// encodeMembers fills a struct or union from an object. Members given
// together that overlap (union members) must encode to the same bytes;
// missing members and padding are zero.
func encodeMembers(members []btf.Member, typ btf.Type, v any, buf []byte, depth int, path string) error {
	given, names, ok := fields(v)
	if !ok {
		return pathError(path, invalidf("%s was given for %s: give an object with its field names", describe(v), typeName(typ)))
	}
	flat, err := flatten(members, 0, depth)
	if err != nil {
		return pathError(path, err)
	}
	known := make(map[string]bool, len(flat))
	for _, m := range flat {
		known[m.Name] = true
	}
	for _, name := range names {
		if !known[name] {
			valid := make([]string, 0, len(flat))
			for _, m := range flat {
				valid = append(valid, m.Name)
			}
			return pathError(path, invalidf("%s has no field %q (fields: %s)", typeName(typ), name, strings.Join(valid, ", ")))
		}
	}
	clear(buf)
	// Members that share bytes (those of a union) must agree on them: a
	// dump prints every member of a union, and reading it back must give
	// the same bytes, but {"u32": 1, "bytes": [2, 3, 4, 5]} is a mistake.
	scratch := make([]byte, len(buf))
	writer := make([]string, len(buf))
	for _, m := range flat {
		val, ok := given[m.Name]
		if !ok {
			continue
		}
		if m.BitfieldSize > 0 {
			if err := encodeMember(m, val, buf, depth, path+"."+m.Name); err != nil {
				return err
			}
			continue
		}
		clear(scratch)
		if err := encodeMember(m, val, scratch, depth, path+"."+m.Name); err != nil {
			return err
		}
		size, _ := Size(m.Type) // encodeMember checked it
		off := int(m.Offset / 8)
		for i := off; i < off+size; i++ {
			if writer[i] != "" && buf[i] != scratch[i] {
				return pathError(path, invalidf("members %q and %q of %s share bytes and disagree on them: give one of them", writer[i], m.Name, typeName(typ)))
			}
			buf[i], writer[i] = scratch[i], m.Name
		}
	}
	return nil
}

func encodeMember(m member, v any, buf []byte, depth int, path string) error {
	if m.BitfieldSize > 0 {
		return pathError(path, encodeBitfield(m, v, buf))
	}
	if m.Offset%8 != 0 {
		return pathError(path, invalidf("member at bit offset %d is not byte aligned", m.Offset))
	}
	size, err := Size(m.Type)
	if err != nil {
		return pathError(path, err)
	}
	off := uint64(m.Offset / 8)
	if off+uint64(size) > uint64(len(buf)) {
		return pathError(path, invalidf("member at byte %d of %d bytes overruns %d bytes", off, size, len(buf)))
	}
	return encode(m.Type, v, buf[off:off+uint64(size)], depth+1, path)
}

func encodeBitfield(m member, v any, buf []byte) error {
	signed, enum, err := bitfieldKind(m)
	if err != nil {
		return err
	}
	bits := uint(m.BitfieldSize)
	if s, ok := v.(string); ok && enum != nil {
		for _, ev := range enum.Values {
			if ev.Name == s {
				return writeBits(buf, uint64(m.Offset), uint64(bits), truncate(ev.Value, bits))
			}
		}
	}
	n, err := toBig(v)
	if err != nil {
		return invalidf("%v for a %d-bit field", err, bits)
	}
	if err := checkRange(n, bits, signed, fmt.Sprintf("a %d-bit field", bits)); err != nil {
		return err
	}
	var u uint64
	if n.Sign() < 0 {
		u = truncate(uint64(n.Int64()), bits)
	} else {
		u = n.Uint64()
	}
	return writeBits(buf, uint64(m.Offset), uint64(bits), u)
}

func encodeDatasec(t *btf.Datasec, v any, buf []byte, depth int, path string) error {
	given, names, ok := fields(v)
	if !ok {
		return pathError(path, invalidf("%s was given for section %s: give an object with its variable names", describe(v), t.Name))
	}
	vars := make(map[string]btf.VarSecinfo, len(t.Vars))
	for _, vs := range t.Vars {
		if vr, ok := vs.Type.(*btf.Var); ok {
			vars[vr.Name] = vs
		}
	}
	for _, name := range names {
		if _, ok := vars[name]; !ok {
			return pathError(path, invalidf("section %s has no variable %q", t.Name, name))
		}
	}
	clear(buf)
	for _, vs := range t.Vars {
		vr, ok := vs.Type.(*btf.Var)
		if !ok {
			continue
		}
		val, ok := given[vr.Name]
		if !ok {
			continue
		}
		end := uint64(vs.Offset) + uint64(vs.Size)
		if end > uint64(len(buf)) {
			return pathError(path, invalidf("variable %s overruns the section", vr.Name))
		}
		if err := encode(vr.Type, val, buf[vs.Offset:end], depth+1, path+"."+vr.Name); err != nil {
			return err
		}
	}
	return nil
}

// describe names the JSON kind of v for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a bool"
	case json.Number, uint64, int64, int, float64:
		return fmt.Sprintf("the number %v", x)
	case string:
		return fmt.Sprintf("the string %q", x)
	case []any:
		return "a list"
	case map[string]any, Object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// Hex renders b as bytes in two hex digits separated by spaces, as bpftool
// prints maps without BTF: "01 00 00 00".
func Hex(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	s.Grow(len(b) * 3)
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&0xf])
	}
	return s.String()
}

// ParseHex reads hex bytes, with or without HexPrefix: tokens separated by
// spaces, commas or colons, each one or two hex digits with an optional 0x
// ("1 0 0 0", "01:00:00:00", "0x01 0x00"), or one run of pairs ("01000000").
func ParseHex(s string) ([]byte, error) {
	in := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), HexPrefix))
	tokens := strings.FieldsFunc(in, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == ',' || r == ':'
	})
	if len(tokens) == 0 {
		return nil, invalidf("no hex bytes in %q", s)
	}
	var out bytes.Buffer
	for _, tok := range tokens {
		tok = strings.TrimPrefix(strings.TrimPrefix(tok, "0x"), "0X")
		switch {
		case tok == "":
			return nil, invalidf("%q has a 0x without digits", s)
		case len(tok) == 1 || len(tok) == 2:
			u, err := strconv.ParseUint(tok, 16, 8)
			if err != nil {
				return nil, invalidf("%q is not a hex byte", tok)
			}
			out.WriteByte(byte(u))
		case len(tok)%2 == 0:
			for i := 0; i < len(tok); i += 2 {
				u, err := strconv.ParseUint(tok[i:i+2], 16, 8)
				if err != nil {
					return nil, invalidf("%q is not hex bytes", tok)
				}
				out.WriteByte(byte(u))
			}
		default:
			return nil, invalidf("%q is an odd number of hex digits: write bytes as pairs such as 01 00", tok)
		}
	}
	return out.Bytes(), nil
}
