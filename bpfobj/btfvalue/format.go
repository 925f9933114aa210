// Package btfvalue converts between the raw bytes of a map key or value and
// a structured value shaped by its BTF type, in both directions:
//
//   - Format turns bytes into plain Go values ready for encoding/json:
//     integers as numbers (a u64 stays exact), char arrays as strings when
//     they are printable, arrays as lists, structs and unions as objects
//     whose fields keep their declaration order (Object), enums as their
//     value's name, pointers as "0x..." strings, bitfields extracted.
//   - Parse is the reverse: it reads a JSON value (or hex bytes, or a bare
//     enum name or string) and encodes it into bytes of the type's size.
//   - Human renders a formatted value on one line, bpftool style; Hex and
//     ParseHex handle maps without BTF ("01 00 00 00").
//
// Bytes are read in the host's byte order, which is the order the kernel
// stores them in; bitfields follow the little-endian BTF layout (bit offsets
// count from the least significant bit), as on every platform xdpkit runs on.
package btfvalue

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"

	"github.com/cilium/ebpf/btf"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// ErrInvalid is matched (errors.Is) by every error about a value that does
// not fit its type or bytes that do not fit it. It wraps os.ErrInvalid.
var ErrInvalid = errs.Markf(os.ErrInvalid, "invalid value")

// maxDepth bounds how deeply nested a type may be; real types are far
// shallower, malformed ones must not exhaust the stack.
const maxDepth = 64

// Field is one member of an Object.
type Field struct {
	Name  string
	Value any
}

// Object is a struct, union or data section as an ordered list of fields.
// It encodes to a JSON object whose keys keep the declaration order.
type Object []Field

// MarshalJSON encodes o as a JSON object in field order.
func (o Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Name)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Get returns the value of the field called name and whether there is one.
func (o Object) Get(name string) (any, bool) {
	for _, f := range o {
		if f.Name == name {
			return f.Value, true
		}
	}
	return nil, false
}

// Pointer is a pointer-typed value. It encodes as a "0x..." string, since a
// kernel address means nothing as a decimal number.
type Pointer uint64

// String returns p as 0x followed by hex digits.
func (p Pointer) String() string { return fmt.Sprintf("0x%x", uint64(p)) }

// MarshalJSON encodes p as a "0x..." string.
func (p Pointer) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// Size returns the size in bytes of a value of typ.
func Size(typ btf.Type) (int, error) {
	typ = peel(typ)
	if v, ok := typ.(*btf.Var); ok {
		typ = v.Type
	}
	n, err := btf.Sizeof(typ)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", typeName(typ), err)
	}
	return n, nil
}

// Format decodes b as a value of typ. len(b) must be the type's size. The
// result holds only nil, bool, int64, uint64, float64, string, json.Number
// (128-bit integers), Pointer, []any and Object, so that encoding/json
// renders it faithfully.
func Format(typ btf.Type, b []byte) (any, error) {
	n, err := Size(typ)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, errs.Markf(ErrInvalid, "%s is %d bytes but %d bytes were given", typeName(typ), n, len(b))
	}
	return format(typ, b, 0)
}

func format(typ btf.Type, b []byte, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errs.Markf(ErrInvalid, "type nested more than %d levels", maxDepth)
	}
	switch t := peel(typ).(type) {
	case *btf.Int:
		if err := need(b, int(t.Size), t); err != nil {
			return nil, err
		}
		return formatInt(t, b[:t.Size])
	case *btf.Enum:
		if err := need(b, int(t.Size), t); err != nil {
			return nil, err
		}
		return formatEnum(t, b[:t.Size])
	case *btf.Pointer:
		if err := need(b, 8, t); err != nil {
			return nil, err
		}
		return Pointer(binary.NativeEndian.Uint64(b)), nil
	case *btf.Float:
		if err := need(b, int(t.Size), t); err != nil {
			return nil, err
		}
		return formatFloat(t, b[:t.Size])
	case *btf.Array:
		return formatArray(t, b, depth)
	case *btf.Struct:
		return formatMembers(t.Members, b, depth)
	case *btf.Union:
		return formatMembers(t.Members, b, depth)
	case *btf.Var:
		return format(t.Type, b, depth+1)
	case *btf.Datasec:
		return formatDatasec(t, b, depth)
	default:
		// Void, functions and anything unsized: show the bytes.
		return Hex(b), nil
	}
}

// peel removes typedefs and qualifiers (const, volatile, restrict, type tags).
func peel(typ btf.Type) btf.Type { return btf.UnderlyingType(typ) }

func need(b []byte, n int, typ btf.Type) error {
	if n <= 0 || len(b) < n {
		return errs.Markf(ErrInvalid, "%s needs %d bytes, %d left", typeName(typ), n, len(b))
	}
	return nil
}

func formatInt(t *btf.Int, b []byte) (any, error) {
	signed := t.Encoding&btf.Signed != 0
	switch len(b) {
	case 1, 2, 4, 8:
		u := readUint(b)
		if t.Encoding == btf.Bool && u <= 1 {
			return u == 1, nil
		}
		if signed {
			return signExtend(u, uint(len(b))*8), nil
		}
		return u, nil
	case 16:
		return json.Number(readBig(b, signed).String()), nil
	default:
		return Hex(b), nil
	}
}

func formatEnum(t *btf.Enum, b []byte) (any, error) {
	if !validIntSize(len(b)) {
		return Hex(b), nil
	}
	u := readUint(b)
	for _, v := range t.Values {
		if truncate(v.Value, uint(len(b))*8) == u {
			return v.Name, nil
		}
	}
	if t.Signed {
		return signExtend(u, uint(len(b))*8), nil
	}
	return u, nil
}

func formatFloat(t *btf.Float, b []byte) (any, error) {
	var f float64
	switch len(b) {
	case 4:
		f = float64(math.Float32frombits(binary.NativeEndian.Uint32(b)))
	case 8:
		f = math.Float64frombits(binary.NativeEndian.Uint64(b))
	default:
		return Hex(b), nil
	}
	switch {
	case math.IsNaN(f):
		return "NaN", nil
	case math.IsInf(f, 1):
		return "+Inf", nil
	case math.IsInf(f, -1):
		return "-Inf", nil
	}
	return f, nil
}

func formatArray(t *btf.Array, b []byte, depth int) (any, error) {
	elemSize, err := Size(t.Type)
	if err != nil {
		return nil, err
	}
	total := uint64(elemSize) * uint64(t.Nelems)
	if total > uint64(len(b)) {
		return nil, errs.Markf(ErrInvalid, "array of %d x %d bytes does not fit in %d bytes", t.Nelems, elemSize, len(b))
	}
	if elemSize == 0 {
		return []any{}, nil // an array of empty structs holds nothing
	}
	if isChar(t.Type) {
		if s, ok := printable(b[:t.Nelems], plainChar(t.Type)); ok {
			return s, nil
		}
	}
	list := make([]any, 0, t.Nelems)
	for i := range int(t.Nelems) {
		v, err := format(t.Type, b[i*elemSize:(i+1)*elemSize], depth+1)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		list = append(list, v)
	}
	return list, nil
}

// member is a named member of a struct or union at an absolute bit offset,
// with the members of anonymous structs and unions lifted into their parent.
type member struct {
	btf.Member
}

// flatten lists the named members of members, lifting those of anonymous
// struct and union members (C11 anonymous members) to the top level.
func flatten(members []btf.Member, base btf.Bits, depth int) ([]member, error) {
	if depth > maxDepth {
		return nil, errs.Markf(ErrInvalid, "type nested more than %d levels", maxDepth)
	}
	var out []member
	for _, m := range members {
		m.Offset += base
		if m.Name == "" {
			switch inner := peel(m.Type).(type) {
			case *btf.Struct:
				sub, err := flatten(inner.Members, m.Offset, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
			case *btf.Union:
				sub, err := flatten(inner.Members, m.Offset, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
			}
			// Unnamed bitfields are padding: skip them.
			continue
		}
		out = append(out, member{m})
	}
	return out, nil
}

func formatMembers(members []btf.Member, b []byte, depth int) (any, error) {
	flat, err := flatten(members, 0, depth)
	if err != nil {
		return nil, err
	}
	obj := make(Object, 0, len(flat))
	for _, m := range flat {
		v, err := formatMember(m, b, depth)
		if err != nil {
			return nil, fmt.Errorf(".%s: %w", m.Name, err)
		}
		obj = append(obj, Field{Name: m.Name, Value: v})
	}
	return obj, nil
}

func formatMember(m member, b []byte, depth int) (any, error) {
	if m.BitfieldSize > 0 {
		return formatBitfield(m, b)
	}
	if m.Offset%8 != 0 {
		return nil, errs.Markf(ErrInvalid, "member at bit offset %d is not byte aligned", m.Offset)
	}
	size, err := Size(m.Type)
	if err != nil {
		return nil, err
	}
	off := uint64(m.Offset / 8)
	if off+uint64(size) > uint64(len(b)) {
		return nil, errs.Markf(ErrInvalid, "member at byte %d of %d bytes overruns %d bytes", off, size, len(b))
	}
	return format(m.Type, b[off:off+uint64(size)], depth+1)
}

func formatBitfield(m member, b []byte) (any, error) {
	signed, names, err := bitfieldKind(m)
	if err != nil {
		return nil, err
	}
	u, err := readBits(b, uint64(m.Offset), uint64(m.BitfieldSize))
	if err != nil {
		return nil, err
	}
	if names != nil {
		for _, v := range names.Values {
			if truncate(v.Value, uint(m.BitfieldSize)) == u {
				return v.Name, nil
			}
		}
	}
	if signed {
		return signExtend(u, uint(m.BitfieldSize)), nil
	}
	return u, nil
}

// bitfieldKind reports whether a bitfield member is signed and, for enum
// bitfields, the enum that names its values.
func bitfieldKind(m member) (signed bool, enum *btf.Enum, err error) {
	if m.BitfieldSize > 64 {
		return false, nil, errs.Markf(ErrInvalid, "bitfield of %d bits is wider than 64", m.BitfieldSize)
	}
	switch t := peel(m.Type).(type) {
	case *btf.Int:
		return t.Encoding&btf.Signed != 0, nil, nil
	case *btf.Enum:
		return t.Signed, t, nil
	}
	return false, nil, errs.Markf(ErrInvalid, "bitfield of type %s is not an integer", typeName(m.Type))
}

func formatDatasec(t *btf.Datasec, b []byte, depth int) (any, error) {
	obj := make(Object, 0, len(t.Vars))
	for _, v := range t.Vars {
		vr, ok := v.Type.(*btf.Var)
		if !ok {
			continue
		}
		end := uint64(v.Offset) + uint64(v.Size)
		if end > uint64(len(b)) {
			return nil, errs.Markf(ErrInvalid, "variable %s overruns the section", vr.Name)
		}
		val, err := format(vr.Type, b[v.Offset:end], depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", vr.Name, err)
		}
		obj = append(obj, Field{Name: vr.Name, Value: val})
	}
	return obj, nil
}

// isChar reports whether an array of elem is a C string: elem is a 1-byte
// integer named char (or with the char encoding) and not a typedef such as
// __u8, whose arrays are lists of numbers.
func isChar(elem btf.Type) bool {
	i, ok := btf.QualifiedType(elem).(*btf.Int)
	if !ok || i.Size != 1 {
		return false
	}
	return i.Encoding&btf.Char != 0 || i.Name == "char" || i.Name == "signed char" || i.Name == "unsigned char"
}

// plainChar reports whether elem is C's plain char, whose arrays are
// strings even when empty; arrays of signed or unsigned char are strings
// only when they hold some text (a zeroed unsigned char mac[6] is six
// numbers, as bpftool prints it).
func plainChar(elem btf.Type) bool {
	i, ok := btf.QualifiedType(elem).(*btf.Int)
	return ok && i.Name == "char"
}

// printable returns b as a string when it holds printable ASCII up to the
// first NUL and only NULs after it, so that parsing the string back gives
// the same bytes. An empty string counts only when allowEmpty.
func printable(b []byte, allowEmpty bool) (string, bool) {
	end := bytes.IndexByte(b, 0)
	if end < 0 {
		end = len(b)
	}
	if end == 0 && !allowEmpty {
		return "", false
	}
	for _, c := range b[:end] {
		if c < 0x20 || c > 0x7e {
			return "", false
		}
	}
	for _, c := range b[end:] {
		if c != 0 {
			return "", false
		}
	}
	return string(b[:end]), true
}

func validIntSize(n int) bool { return n == 1 || n == 2 || n == 4 || n == 8 }

func readUint(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.NativeEndian.Uint16(b))
	case 4:
		return uint64(binary.NativeEndian.Uint32(b))
	default:
		return binary.NativeEndian.Uint64(b)
	}
}

func writeUint(b []byte, u uint64) {
	switch len(b) {
	case 1:
		b[0] = byte(u)
	case 2:
		binary.NativeEndian.PutUint16(b, uint16(u))
	case 4:
		binary.NativeEndian.PutUint32(b, uint32(u))
	default:
		binary.NativeEndian.PutUint64(b, u)
	}
}

// nativeLittle is true on little-endian hosts.
var nativeLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// readBig reads a 16-byte integer.
func readBig(b []byte, signed bool) *big.Int {
	be := make([]byte, len(b))
	copy(be, b)
	if nativeLittle {
		for i, j := 0, len(be)-1; i < j; i, j = i+1, j-1 {
			be[i], be[j] = be[j], be[i]
		}
	}
	n := new(big.Int).SetBytes(be)
	if signed && be[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return n
}

func signExtend(u uint64, bits uint) int64 {
	if bits >= 64 {
		return int64(u)
	}
	shift := 64 - bits
	return int64(u<<shift) >> shift
}

func truncate(u uint64, bits uint) uint64 {
	if bits >= 64 {
		return u
	}
	return u & (1<<bits - 1)
}

// readBits reads size bits starting at bit off, least significant first.
func readBits(b []byte, off, size uint64) (uint64, error) {
	if off+size > uint64(len(b))*8 {
		return 0, errs.Markf(ErrInvalid, "bitfield at bit %d of %d bits overruns %d bytes", off, size, len(b))
	}
	var u uint64
	for i := range size {
		bit := off + i
		if b[bit/8]>>(bit%8)&1 != 0 {
			u |= 1 << i
		}
	}
	return u, nil
}

// writeBits writes the low size bits of u starting at bit off.
func writeBits(b []byte, off, size, u uint64) error {
	if off+size > uint64(len(b))*8 {
		return errs.Markf(ErrInvalid, "bitfield at bit %d of %d bits overruns %d bytes", off, size, len(b))
	}
	for i := range size {
		bit := off + i
		if u>>i&1 != 0 {
			b[bit/8] |= 1 << (bit % 8)
		} else {
			b[bit/8] &^= 1 << (bit % 8)
		}
	}
	return nil
}

// typeName names typ for error messages, such as "struct addr" or "u32".
func typeName(typ btf.Type) string {
	if typ == nil {
		return "<no type>"
	}
	switch t := typ.(type) {
	case *btf.Struct:
		return "struct " + orAnon(t.Name)
	case *btf.Union:
		return "union " + orAnon(t.Name)
	case *btf.Enum:
		return "enum " + orAnon(t.Name)
	case *btf.Array:
		return fmt.Sprintf("%s[%d]", typeName(t.Type), t.Nelems)
	case *btf.Pointer:
		return "pointer"
	case *btf.Const:
		return "const " + typeName(t.Type)
	case *btf.Volatile:
		return "volatile " + typeName(t.Type)
	}
	if n := typ.TypeName(); n != "" {
		return n
	}
	return fmt.Sprintf("%T", typ)
}

func orAnon(name string) string {
	if name == "" {
		return "(anonymous)"
	}
	return name
}
