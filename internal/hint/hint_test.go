package hint

import (
	"errors"
	"fmt"
	"testing"
)

func TestOfFindsWrappedAdvice(t *testing.T) {
	base := errors.New("boom")
	err := fmt.Errorf("packing: %w", With(base, "try again"))
	if got := Of(err); got != "try again" {
		t.Fatalf("Of = %q, want %q", got, "try again")
	}
	if !errors.Is(err, base) {
		t.Fatal("With hides the wrapped error from errors.Is")
	}
	if err.Error() != "packing: boom" {
		t.Fatalf("message = %q: advice must not leak into the message", err.Error())
	}
	if Of(base) != "" || With(nil, "x") != nil {
		t.Fatal("plain errors have no advice and nil stays nil")
	}
}
