package jwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, refuses only with
// ErrMalformed and a short error, and that a token it accepts keeps its
// meaning when its header and claims are encoded again: the result parses
// to the same header and claims.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, compact string) {
		checkParse(t, compact)
	})
}

// checkParse checks the FuzzParse properties for compact and returns
// Parse's error.
func checkParse(t *testing.T, compact string) error {
	t.Helper()
	tok, err := Parse(compact)
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("Parse error %v is not ErrMalformed", err)
		}
		if len(err.Error()) > maxErrorLen {
			t.Fatalf("Parse error is %d bytes long, more than %d", len(err.Error()), maxErrorLen)
		}
		return err
	}
	if tok.Header.Alg != "RS256" && tok.Header.Alg != "ES256" {
		t.Fatalf("Parse accepted alg %q", tok.Header.Alg)
	}
	tok.Claims.Audience()
	for name := range tok.Claims {
		tok.Claims.String(name)
		tok.Claims.Time(name)
	}
	if err := tok.Verify(JWKS{}); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify with no keys = %v", err)
	}

	header, err := json.Marshal(tok.Header)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := json.Marshal(tok.Claims)
	if err != nil {
		t.Fatalf("encoding the claims again: %v", err)
	}
	sig := compact[strings.LastIndexByte(compact, '.')+1:]
	again, err := Parse(b64(header) + "." + b64(claims) + "." + sig)
	if err != nil {
		t.Fatalf("the token encoded again does not parse: %v\nheader %s\nclaims %s", err, header, claims)
	}
	if again.Header != tok.Header {
		t.Fatalf("header %+v became %+v", tok.Header, again.Header)
	}
	if a, b := decodeAll(t, tok.Claims), decodeAll(t, again.Claims); !reflect.DeepEqual(a, b) {
		t.Fatalf("claims %v became %v", a, b)
	}
	return nil
}

func decodeAll(t *testing.T, c Claims) map[string]any {
	t.Helper()
	out := map[string]any{}
	for name, raw := range c {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("claim %q: %v", name, err)
		}
		out[name] = v
	}
	return out
}

// TestFuzzSeeds checks the committed seed corpus: it is there, each seed
// named valid_* parses, each named bad_* is refused, and all of them hold
// the FuzzParse properties.
func TestFuzzSeeds(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var valid, bad int
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "string(") {
			t.Fatalf("%s is not a go test fuzz v1 file with one string", p)
		}
		compact, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			err := checkParse(t, compact)
			switch {
			case strings.HasPrefix(name, "valid_"):
				valid++
				if err != nil {
					t.Errorf("refused: %v", err)
				}
			case strings.HasPrefix(name, "bad_"):
				bad++
				if err == nil {
					t.Error("parsed")
				}
			default:
				t.Error("seed names start with valid_ or bad_")
			}
		})
	}
	if valid < 3 || bad < 8 {
		t.Fatalf("the corpus has %d valid and %d bad seeds, want at least 3 and 8", valid, bad)
	}
}
