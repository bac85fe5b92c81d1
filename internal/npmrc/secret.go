package npmrc

import (
	"fmt"
	"log/slog"
)

// Secret holds a credential. Every way of printing or encoding it gives
// "[redacted]"; Reveal is for building the Authorization header only.
type Secret struct{ v string }

const redacted = "[redacted]"

// NewSecret wraps s, for tests and for tokens obtained elsewhere (OIDC).
func NewSecret(s string) Secret { return Secret{s} }

// Reveal returns the credential. Use it only to set a request header.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

func (s Secret) String() string               { return redacted }
func (s Secret) GoString() string             { return redacted }
func (s Secret) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redacted)) }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
