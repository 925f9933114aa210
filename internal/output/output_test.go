package output

import (
	"bytes"
	"testing"
)

func TestTable(t *testing.T) {
	tb := NewTable("NAME", "ID")
	tb.Row("a", 1)
	tb.Row("longer", 22)
	var b bytes.Buffer
	if err := tb.Write(&b); err != nil {
		t.Fatal(err)
	}
	want := "NAME    ID\na       1\nlonger  22\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
	if tb.Len() != 2 {
		t.Fatalf("Len = %d", tb.Len())
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, struct {
		Name string `json:"name"`
	}{"<x>"}); err != nil {
		t.Fatal(err)
	}
	if b.String() != "{\"name\":\"<x>\"}\n" {
		t.Fatalf("got %q", b.String())
	}
	if IsTerminal(&b) {
		t.Fatal("a buffer is not a terminal")
	}
}
