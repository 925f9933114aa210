package packet

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// Spec is a parsed packet SPEC: layers outermost first.
type Spec struct {
	Layers []Layer
}

// Layer is one layer of a Spec: its lower-case name and its fields in the
// order they were given.
type Layer struct {
	Name   string
	Fields []Field
}

// Field is one key=value of a Layer. Key is lower case; Value is as given,
// without surrounding whitespace or quotes. The bare length of payload(64)
// is the field len=64.
type Field struct {
	Key   string
	Value string
}

// ParseSpec parses and checks a packet SPEC such as
// "eth/ipv4(dst=10.0.0.2)/udp(dport=53)/payload(64)": the syntax, the layer
// names and order, the field names and every value. A Spec it returns
// builds unless its frame would exceed 65535 bytes, which ParseSpec also
// checks. Errors match os.ErrInvalid.
func ParseSpec(s string) (*Spec, error) {
	spec, err := parseSyntax(s)
	if err != nil {
		return nil, errs.Markf(os.ErrInvalid, "packet spec %q: %w", s, err)
	}
	if _, err := compile(spec); err != nil {
		return nil, errs.Markf(os.ErrInvalid, "packet spec %q: %w", s, err)
	}
	return spec, nil
}

// String returns the canonical form of s: lower-case names, no spaces,
// fields in their order, a layer without fields as its bare name, and
// values quoted Go-style when they hold a character the grammar uses
// (/(),=") or spaces at either end. ParseSpec(s.String()) returns a Spec
// equal to s.
func (s *Spec) String() string {
	var b strings.Builder
	for i, l := range s.Layers {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(l.Name)
		if len(l.Fields) == 0 {
			continue
		}
		b.WriteByte('(')
		if l.Name == "payload" && len(l.Fields) == 1 && l.Fields[0].Key == "len" {
			b.WriteString(quoteValue(l.Fields[0].Value))
		} else {
			for j, f := range l.Fields {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(f.Key)
				b.WriteByte('=')
				b.WriteString(quoteValue(f.Value))
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// quoteValue returns v, or v as a Go string literal when v would not read
// back as itself unquoted.
func quoteValue(v string) string {
	if v == "" || strings.TrimFunc(v, isSpace) != v || strings.ContainsAny(v, `/(),="\`) || !utf8.ValidString(v) {
		return strconv.Quote(v)
	}
	for _, r := range v {
		if !strconv.IsPrint(r) {
			return strconv.Quote(v)
		}
	}
	return v
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '-'
}

// specParser reads the syntax of a SPEC; compile checks the meaning.
type specParser struct {
	s   string
	pos int
}

func (p *specParser) skipSpace() {
	for p.pos < len(p.s) && isSpace(rune(p.s[p.pos])) {
		p.pos++
	}
}

func (p *specParser) atEnd() bool { return p.pos >= len(p.s) }

// found describes what is at the parser's position, for errors.
func (p *specParser) found() string {
	if p.atEnd() {
		return "the end of the spec"
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return strconv.QuoteRune(r)
}

func (p *specParser) word() string {
	start := p.pos
	for p.pos < len(p.s) && isWordByte(p.s[p.pos]) {
		p.pos++
	}
	return strings.ToLower(p.s[start:p.pos])
}

func parseSyntax(s string) (*Spec, error) {
	p := &specParser{s: s}
	spec := &Spec{}
	p.skipSpace()
	if p.atEnd() {
		return nil, fmt.Errorf("empty spec (write layers like eth/ipv4/udp/payload(64))")
	}
	for {
		n := len(spec.Layers) + 1
		p.skipSpace()
		name := p.word()
		if name == "" {
			if p.atEnd() {
				return nil, fmt.Errorf("layer %d: missing after the last '/' (remove the '/' or add a layer)", n)
			}
			if p.s[p.pos] == '/' {
				return nil, fmt.Errorf("layer %d: empty layer name (two '/' in a row)", n)
			}
			return nil, fmt.Errorf("layer %d: unexpected %s where a layer name like eth belongs", n, p.found())
		}
		layer := Layer{Name: name}
		p.skipSpace()
		if !p.atEnd() && p.s[p.pos] == '(' {
			p.pos++
			fields, err := p.fields(name)
			if err != nil {
				return nil, fmt.Errorf("layer %d %s: %w", n, name, err)
			}
			layer.Fields = fields
			p.skipSpace()
		}
		spec.Layers = append(spec.Layers, layer)
		if p.atEnd() {
			return spec, nil
		}
		if p.s[p.pos] != '/' {
			return nil, fmt.Errorf("layer %d %s: unexpected %s after the layer (separate layers with '/', put fields in parentheses)", n, name, p.found())
		}
		p.pos++
	}
}

// fields reads "key=value, ...)" after a layer's '('; bare values are
// taken only by payload, as its len.
func (p *specParser) fields(layer string) ([]Field, error) {
	var fields []Field
	p.skipSpace()
	if !p.atEnd() && p.s[p.pos] == ')' {
		p.pos++
		return nil, nil
	}
	for {
		p.skipSpace()
		if p.atEnd() {
			return nil, fmt.Errorf("missing ')' after the fields")
		}
		var f Field
		if p.s[p.pos] == '"' {
			v, err := p.quoted()
			if err != nil {
				return nil, err
			}
			f.Value = v
		} else {
			run := p.run(",()=")
			if !p.atEnd() && p.s[p.pos] == '=' {
				p.pos++
				key := strings.TrimFunc(run, isSpace)
				if key == "" {
					return nil, fmt.Errorf("'=' without a field name before it (write key=value)")
				}
				for i := range len(key) {
					if !isWordByte(key[i]) {
						return nil, fmt.Errorf("field name %q is not a word (write key=value like src=10.0.0.1)", key)
					}
				}
				f.Key = strings.ToLower(key)
				p.skipSpace()
				if !p.atEnd() && p.s[p.pos] == '"' {
					v, err := p.quoted()
					if err != nil {
						return nil, fmt.Errorf("field %s: %w", f.Key, err)
					}
					f.Value = v
				} else {
					f.Value = strings.TrimFunc(p.run(",()"), isSpace)
					if f.Value == "" && !p.atEnd() && p.s[p.pos] == '(' {
						return nil, errNestedParen
					}
					if f.Value == "" {
						return nil, fmt.Errorf("field %s has no value (write %s=VALUE, or leave %s out for its default)", f.Key, f.Key, f.Key)
					}
				}
			} else {
				f.Value = strings.TrimFunc(run, isSpace)
				if f.Value == "" && !p.atEnd() && p.s[p.pos] == '(' {
					return nil, errNestedParen
				}
				if f.Value == "" {
					return nil, fmt.Errorf("empty field (remove the extra ',')")
				}
			}
		}
		if f.Key == "" {
			if layer != "payload" {
				return nil, fmt.Errorf("%q is not key=value (%s)", f.Value, takesList(layer))
			}
			f.Key = "len"
		}
		fields = append(fields, f)
		p.skipSpace()
		switch {
		case p.atEnd():
			return nil, fmt.Errorf("missing ')' after the fields")
		case p.s[p.pos] == ',':
			p.pos++
		case p.s[p.pos] == ')':
			p.pos++
			return fields, nil
		case p.s[p.pos] == '(':
			return nil, errNestedParen
		default:
			return nil, fmt.Errorf("unexpected %s after a field (separate fields with ',')", p.found())
		}
	}
}

var errNestedParen = errors.New("unexpected '(' in the fields (a layer's fields are key=value, and layers are separated by '/'; quote a value that holds parentheses)")

// run reads up to the next byte in stops, or the end.
func (p *specParser) run(stops string) string {
	start := p.pos
	for p.pos < len(p.s) && strings.IndexByte(stops, p.s[p.pos]) < 0 {
		p.pos++
	}
	return p.s[start:p.pos]
}

// quoted reads a Go double-quoted string literal.
func (p *specParser) quoted() (string, error) {
	lit, err := strconv.QuotedPrefix(p.s[p.pos:])
	if err == nil && lit[0] == '"' {
		v, err := strconv.Unquote(lit)
		if err == nil {
			p.pos += len(lit)
			return v, nil
		}
	}
	return "", fmt.Errorf("bad quoted value at %s (a quoted value is a Go string literal like \"a, b\")", p.found())
}

// takesList returns "ipv4 takes src, dst, ..." for a known layer, or the
// list of layers for an unknown one.
func takesList(layer string) string {
	if d := lookupLayer(layer); d != nil {
		return fmt.Sprintf("%s takes %s", d.name, strings.Join(d.fields, ", "))
	}
	return "layers: " + layerNames()
}
