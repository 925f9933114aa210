package packet

import (
	"fmt"
	"net"
	"strings"
)

// layerDef describes one SPEC layer: its fields in documentation order,
// the layers it may follow, and its header size.
type layerDef struct {
	name   string
	fields []string
	after  []string // layers this one may follow; payload may follow any
	size   int      // header bytes; payload's come from its fields
}

var layerDefs = []layerDef{
	{name: "eth", fields: []string{"src", "dst", "type"}, size: EthernetHeaderLen},
	{name: "vlan", fields: []string{"id", "prio", "type"}, after: []string{"eth", "vlan"}, size: 4},
	{name: "arp", fields: []string{"op", "sha", "spa", "tha", "tpa"}, after: []string{"eth", "vlan"}, size: 28},
	{name: "ipv4", fields: []string{"src", "dst", "ttl", "tos", "id", "df", "proto"}, after: []string{"eth", "vlan", "ipv4", "ipv6"}, size: 20},
	{name: "ipv6", fields: []string{"src", "dst", "hlim", "tc", "flow", "nh"}, after: []string{"eth", "vlan", "ipv4", "ipv6"}, size: 40},
	{name: "udp", fields: []string{"sport", "dport"}, after: []string{"ipv4", "ipv6"}, size: 8},
	{name: "tcp", fields: []string{"sport", "dport", "flags", "seq", "ack", "win"}, after: []string{"ipv4", "ipv6"}, size: 20},
	{name: "icmp", fields: []string{"type", "code", "id", "seq"}, after: []string{"ipv4"}, size: 8},
	{name: "icmp6", fields: []string{"type", "code", "id", "seq"}, after: []string{"ipv6"}, size: 8},
	{name: "payload", fields: []string{"len", "hex", "text"}},
}

func lookupLayer(name string) *layerDef {
	for i := range layerDefs {
		if layerDefs[i].name == name {
			return &layerDefs[i]
		}
	}
	return nil
}

func layerNames() string {
	names := make([]string, len(layerDefs))
	for i, d := range layerDefs {
		names[i] = d.name
	}
	return strings.Join(names, ", ")
}

// orList returns "a", "a or b", "a, b or c".
func orList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// layerFields gives a layer's values by key, with the layer's position for
// errors.
type layerFields struct {
	n    int // 1-based position in the spec
	name string
	m    map[string]string
}

func (f *layerFields) errorf(format string, args ...any) error {
	return fmt.Errorf("layer %d %s: %s", f.n, f.name, fmt.Sprintf(format, args...))
}

// value returns the field's value and whether it was given.
func (f *layerFields) value(key string) (string, bool) {
	v, ok := f.m[key]
	return v, ok
}

// fieldError wraps a value parser's error with the layer and field.
func (f *layerFields) fieldError(key string, err error) error {
	return fmt.Errorf("layer %d %s: %s %w", f.n, f.name, key, err)
}

func (f *layerFields) uint(key string, def, max uint64) (uint64, error) {
	v, ok := f.value(key)
	if !ok {
		return def, nil
	}
	n, err := parseUint(v, max)
	if err != nil {
		return 0, f.fieldError(key, err)
	}
	return n, nil
}

func (f *layerFields) named(key string, def, max uint64, names []namedValue, what string) (uint64, error) {
	v, ok := f.value(key)
	if !ok {
		return def, nil
	}
	n, err := parseNamedUint(v, max, names, what)
	if err != nil {
		return 0, f.fieldError(key, err)
	}
	return n, nil
}

func (f *layerFields) mac(key string, def net.HardwareAddr) (net.HardwareAddr, error) {
	v, ok := f.value(key)
	if !ok {
		return def, nil
	}
	mac, err := parseMAC(v)
	if err != nil {
		return nil, f.fieldError(key, err)
	}
	return mac, nil
}

func (f *layerFields) ip(key string, def net.IP, parse func(string) (net.IP, error)) (net.IP, error) {
	v, ok := f.value(key)
	if !ok {
		return def, nil
	}
	ip, err := parse(v)
	if err != nil {
		return nil, f.fieldError(key, err)
	}
	return ip, nil
}

func (f *layerFields) bool(key string) (bool, error) {
	v, ok := f.value(key)
	if !ok {
		return false, nil
	}
	b, err := parseBool(v)
	if err != nil {
		return false, f.fieldError(key, err)
	}
	return b, nil
}

// checkLayer checks layer i's name, position and field names, and returns
// its fields by key.
func checkLayer(s *Spec, i int) (*layerFields, error) {
	l := s.Layers[i]
	n := i + 1
	d := lookupLayer(strings.ToLower(l.Name))
	if d == nil {
		return nil, fmt.Errorf("layer %d: unknown layer %q (layers: %s)", n, l.Name, layerNames())
	}
	switch {
	case i == 0 && d.name != "eth":
		return nil, fmt.Errorf("layer 1 %s: a spec starts with eth (write eth/%s...)", d.name, d.name)
	case i > 0 && d.name == "eth":
		return nil, fmt.Errorf("layer %d eth: eth must be the first layer, and only the first", n)
	case i > 0 && strings.EqualFold(s.Layers[i-1].Name, "payload"):
		return nil, fmt.Errorf("layer %d %s: nothing may follow payload (payload is the last layer)", n, d.name)
	case i > 0 && d.name != "payload":
		prev := strings.ToLower(s.Layers[i-1].Name)
		ok := false
		for _, a := range d.after {
			ok = ok || a == prev
		}
		if !ok {
			return nil, fmt.Errorf("layer %d %s: %s cannot follow %s (%s goes after %s)", n, d.name, d.name, prev, d.name, orList(d.after))
		}
	}
	f := &layerFields{n: n, name: d.name, m: make(map[string]string, len(l.Fields))}
	for _, fl := range l.Fields {
		key := strings.ToLower(fl.Key)
		known := false
		for _, k := range d.fields {
			known = known || k == key
		}
		if !known {
			return nil, f.errorf("unknown field %q (%s takes %s)", fl.Key, d.name, strings.Join(d.fields, ", "))
		}
		if _, dup := f.m[key]; dup {
			return nil, f.errorf("field %s given twice (give each field once)", key)
		}
		f.m[key] = fl.Value
	}
	return f, nil
}
