package packet

import (
	"bytes"
	"fmt"
	"net"
	"reflect"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Difference is one way two frames differ: a field of a layer, a layer
// one frame has and the other lacks (Field ""), the payload bytes, or, when
// the layers agree but the bytes do not, the frame bytes.
type Difference struct {
	// Layer is gopacket's name of the layer, e.g. "IPv4"; "Payload" for
	// the bytes after the last layer; "Frame" for the whole frame; "layer N"
	// when the Nth layers are of different types.
	Layer string
	// Field is the struct field of the gopacket layer, e.g. "TTL";
	// "Length" or "Bytes[OFFSET]" for Payload and Frame; "" when a whole
	// layer differs.
	Field string
	// Want and Got are the values in the two frames, formatted for people:
	// addresses as addresses, checksums in hex, enums by name.
	Want string
	Got  string
}

// String returns "IPv4.TTL: want 64, got 63", or "UDP: want present, got
// absent" for a whole layer.
func (d Difference) String() string {
	if d.Field == "" {
		return fmt.Sprintf("%s: want %s, got %s", d.Layer, d.Want, d.Got)
	}
	return fmt.Sprintf("%s.%s: want %s, got %s", d.Layer, d.Field, d.Want, d.Got)
}

// FormatDiff returns the differences one per line, without a final newline;
// "" for none.
func FormatDiff(d []Difference) string {
	lines := make([]string, len(d))
	for i, x := range d {
		lines[i] = x.String()
	}
	return strings.Join(lines, "\n")
}

// Diff compares two Ethernet frames layer by layer and returns how got
// differs from want, or nil when the frames are equal. Both are decoded
// with gopacket, up to and including UDP or TCP. Layers are walked
// pairwise: a layer only one frame has is one Difference with Field "";
// layers of different types at the same depth are one Difference and end
// the walk; layers of the same type are compared field by field (exported
// fields, not the layer's bytes, payload or nested layers). Then the
// innermost payloads, or the bytes neither frame could decode, are
// compared: lengths, and the first differing offset. If all that agrees
// and the frames still differ (say, trailing bytes after the IP packet),
// the frames' bytes are compared the same way. Diff never panics.
func Diff(want, got []byte) []Difference {
	if bytes.Equal(want, got) {
		return nil
	}
	w, g := decodeFrame(want), decodeFrame(got)
	var diffs []Difference
	structural := false
	n := min(len(w.layers), len(g.layers))
	for i := range n {
		wl, gl := w.layers[i], g.layers[i]
		if wl.LayerType() != gl.LayerType() {
			diffs = append(diffs, Difference{Layer: fmt.Sprintf("layer %d", i+1), Want: wl.LayerType().String(), Got: gl.LayerType().String()})
			structural = true
			break
		}
		diffs = append(diffs, diffLayer(wl, gl)...)
	}
	if !structural {
		for _, l := range w.layers[n:] {
			diffs = append(diffs, Difference{Layer: l.LayerType().String(), Want: "present", Got: "absent"})
			structural = true
		}
		for _, l := range g.layers[n:] {
			diffs = append(diffs, Difference{Layer: l.LayerType().String(), Want: "absent", Got: "present"})
			structural = true
		}
	}
	if !structural {
		diffs = append(diffs, diffBytes("Payload", w.tail, g.tail)...)
	}
	if len(diffs) == 0 {
		diffs = diffBytes("Frame", want, got)
	}
	return diffs
}

// diffBytes reports a length difference and the first differing byte.
func diffBytes(layer string, want, got []byte) []Difference {
	var diffs []Difference
	if len(want) != len(got) {
		diffs = append(diffs, Difference{Layer: layer, Field: "Length", Want: fmt.Sprint(len(want)), Got: fmt.Sprint(len(got))})
	}
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			diffs = append(diffs, Difference{Layer: layer, Field: fmt.Sprintf("Bytes[%d]", i), Want: fmt.Sprintf("0x%02x", want[i]), Got: fmt.Sprintf("0x%02x", got[i])})
			break
		}
	}
	return diffs
}

var layerInterface = reflect.TypeFor[gopacket.Layer]()

// diffLayer compares the exported fields of two layers of the same type.
func diffLayer(want, got gopacket.Layer) []Difference {
	name := want.LayerType().String()
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	for wv.Kind() == reflect.Pointer && gv.Kind() == reflect.Pointer && !wv.IsNil() && !gv.IsNil() {
		wv, gv = wv.Elem(), gv.Elem()
	}
	if wv.Kind() != reflect.Struct || wv.Type() != gv.Type() {
		return diffBytes(name, want.LayerContents(), got.LayerContents())
	}
	var diffs []Difference
	t := wv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous || f.Name == "Contents" || f.Name == "Payload" || isLayerField(f.Type) {
			continue
		}
		a, b := wv.Field(i), gv.Field(i)
		if equalValues(a, b) {
			continue
		}
		diffs = append(diffs, Difference{Layer: name, Field: f.Name, Want: formatValue(f.Name, a), Got: formatValue(f.Name, b)})
	}
	return diffs
}

// isLayerField reports whether a field holds layers (a layer, or a slice
// or array of them): those are compared as layers of their own.
func isLayerField(t reflect.Type) bool {
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	return t.Implements(layerInterface) || t.Kind() == reflect.Struct && reflect.PointerTo(t).Implements(layerInterface)
}

// equalValues is reflect.DeepEqual, except that nil and empty slices are
// equal.
func equalValues(a, b reflect.Value) bool {
	if a.Kind() == reflect.Slice && a.Len() == 0 && b.Len() == 0 {
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// formatValue shows a field readably: checksums in hex, addresses as
// addresses, byte slices in hex, the rest with %v (gopacket's enums print
// their names).
func formatValue(field string, v reflect.Value) string {
	x := v.Interface()
	switch x := x.(type) {
	case net.IP:
		return x.String()
	case net.HardwareAddr:
		return x.String()
	case layers.UDPPort:
		return fmt.Sprint(uint16(x)) // not "53(domain)"
	case layers.TCPPort:
		return fmt.Sprint(uint16(x))
	case uint16:
		if strings.Contains(field, "Checksum") {
			return fmt.Sprintf("0x%04x", x)
		}
	case []byte:
		switch {
		case strings.HasSuffix(field, "HwAddress") && len(x) == 6:
			return net.HardwareAddr(x).String()
		case strings.HasSuffix(field, "ProtAddress") && (len(x) == 4 || len(x) == 16):
			return net.IP(x).String()
		case len(x) == 0:
			return "(none)"
		case len(x) > 32:
			return fmt.Sprintf("%x... (%d bytes)", x[:32], len(x))
		}
		return fmt.Sprintf("%x", x)
	}
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
		return fmt.Sprintf("%x", v.Bytes())
	}
	s := fmt.Sprintf("%v", x)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
