package btfvalue

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Human renders a value from Format on one line for people, like bpftool:
// {"mac": [0, 17, 34, 51, 68, 85], "vlan": 10}. Strings are quoted,
// pointers are 0x... and numbers are decimal.
func Human(v any) string {
	var b strings.Builder
	human(&b, v)
	return b.String()
}

func human(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		q, _ := json.Marshal(x)
		b.Write(q)
	case Pointer:
		b.WriteString(x.String())
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			human(b, e)
		}
		b.WriteByte(']')
	case Object:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			q, _ := json.Marshal(f.Name)
			b.Write(q)
			b.WriteString(": ")
			human(b, f.Value)
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, x)
	}
}
