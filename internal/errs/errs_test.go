package errs

import (
	"errors"
	"io"
	"os"
	"testing"
)

func TestMarkf(t *testing.T) {
	err := Markf(os.ErrInvalid, "key is %d bytes: %w", 3, io.EOF)
	if err.Error() != "key is 3 bytes: EOF" {
		t.Fatalf("message %q", err)
	}
	if !errors.Is(err, os.ErrInvalid) || !errors.Is(err, io.EOF) {
		t.Fatal("Markf must match its kind and its wrapped cause")
	}
}

func TestMark(t *testing.T) {
	if Mark(nil, os.ErrInvalid) != nil {
		t.Fatal("Mark(nil) != nil")
	}
	err := Mark(io.EOF, os.ErrNotExist)
	if err.Error() != "EOF" || !errors.Is(err, os.ErrNotExist) || !errors.Is(err, io.EOF) {
		t.Fatalf("Mark: %v", err)
	}
}
