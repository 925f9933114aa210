// Package errs marks errors with the sentinel they match without adding
// the sentinel's text to the message: "key is 3 bytes but map "counts" has
// 4-byte keys" matches os.ErrInvalid, and does not end in ": invalid
// argument". The CLI maps those sentinels to exit codes.
package errs

import "fmt"

// Markf formats a message like fmt.Errorf (%w wraps causes as usual) and
// returns an error with that message that also matches kind with errors.Is.
func Markf(kind error, format string, args ...any) error {
	return &marked{err: fmt.Errorf(format, args...), kind: kind}
}

// Mark returns an error with err's message that matches both err and kind
// with errors.Is and errors.As. Mark(nil, kind) is nil.
func Mark(err, kind error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, kind: kind}
}

type marked struct {
	err  error
	kind error
}

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return []error{m.err, m.kind} }
