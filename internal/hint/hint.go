// Package hint attaches advice to errors: what the user can do about them.
// The command layer prints the advice on its own line after the error.
package hint

import "errors"

type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

// With returns err carrying advice. A nil err stays nil.
func With(err error, advice string) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hint: advice}
}

// Of returns the outermost advice attached to err, or "".
func Of(err error) string {
	var h *hinted
	if errors.As(err, &h) {
		return h.hint
	}
	return ""
}
