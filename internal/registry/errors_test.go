package registry

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEscapeName(t *testing.T) {
	for name, want := range map[string]string{
		"lodash":           "lodash",
		"@scope/name":      "@scope%2fname",
		"@types/node":      "@types%2fnode",
		"left-pad":         "left-pad",
		"@a/b.c_d-e~f!'()": "@a%2fb.c_d-e~f!'()",
	} {
		if got := EscapeName(name); got != want {
			t.Errorf("EscapeName(%q) = %q, want %q", name, got, want)
		}
		if err := checkName(name); err != nil {
			t.Errorf("checkName(%q): %v", name, err)
		}
	}
}

func TestCheckNameRejects(t *testing.T) {
	for _, name := range []string{"", ".", "..", "@scope", "@scope/", "@/name", "a/b", "@a/b/c", "@a/..", "a b", "a?b", "a#b", "a%2fb", "ü", strings.Repeat("a", 215)} {
		if err := checkName(name); err == nil {
			t.Errorf("checkName(%q) accepted it", name)
		}
	}
}

func TestPackageURL(t *testing.T) {
	for _, tc := range []struct{ registry, name, want string }{
		{"https://registry.npmjs.org", "@s/p", "https://registry.npmjs.org/@s%2fp"},
		{"https://registry.npmjs.org/", "p", "https://registry.npmjs.org/p"},
		{"https://example.com/artifactory/api/npm/npm-local", "@s/p", "https://example.com/artifactory/api/npm/npm-local/@s%2fp"},
		{"http://127.0.0.1:4873/", "@s/p", "http://127.0.0.1:4873/@s%2fp"},
	} {
		base, err := registryBase(tc.registry)
		if err != nil {
			t.Fatal(err)
		}
		u, err := packageURL(base, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if u.String() != tc.want {
			t.Errorf("package URL of %s at %s = %s, want %s", tc.name, tc.registry, u, tc.want)
		}
	}
	for _, bad := range []string{"ftp://x/", "https://", "//x/", "https://u:p@x/", "https://x/?a=b", "https://x/#f", "::"} {
		if _, err := registryBase(bad); err == nil {
			t.Errorf("registryBase(%q) accepted it", bad)
		}
	}
}

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://user:pass@registry.example/a/@s%2fp?token=x#frag")
	if got, want := RedactURL(u), "https://registry.example/a/@s%2fp"; got != want {
		t.Fatalf("RedactURL = %q, want %q", got, want)
	}
}

func TestRegistryMessage(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body, want string
	}{
		{"npm", "application/json", `{"error":"You cannot publish over the previously published versions: 1.0.0."}`, "You cannot publish over the previously published versions: 1.0.0."},
		{"error and reason", "application/json", `{"error":"forbidden","reason":"no access to @s/p"}`, "forbidden: no access to @s/p"},
		{"message only", "application/json; charset=utf-8", `{"message":"Two-factor authentication required"}`, "Two-factor authentication required"},
		{"duplicate fields", "application/json", `{"error":"x","message":"x"}`, "x"},
		{"non-string fields", "application/json", `{"error":{"code":1},"message":"m"}`, "m"},
		{"plain text", "text/plain", "  bad\r\ngateway\t ", "bad gateway"},
		{"html", "text/html", "<html>oops</html>", ""},
		{"not JSON", "application/json", "{", ""},
		{"escapes", "application/json", `{"error":"\u001b[31mred\u001b[0m and \u0007bell \u202eevil"}`, "red and bell evil"},
		{"long", "text/plain", strings.Repeat("é", 1000), strings.Repeat("é", maxMessage) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := registryMessage(tc.contentType, []byte(tc.body), nil); got != tc.want {
				t.Fatalf("registryMessage = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHTTPErrorKinds(t *testing.T) {
	u, _ := url.Parse("https://r.example/p")
	for _, tc := range []struct {
		method string
		status int
		body   string
		is     []error
		isNot  []error
	}{
		{"GET", 404, "", []error{ErrNotFound}, []error{ErrVersionExists, ErrUnauthorized}},
		{"PUT", 409, `{"error":"this package is already present"}`, []error{ErrVersionExists}, []error{ErrNotFound}},
		{"PUT", 403, `{"error":"You cannot publish over the previously published versions: 1.0.0."}`, []error{ErrVersionExists}, nil},
		{"PUT", 403, `{"error":"You do not have permission to publish \"p\"."}`, nil, []error{ErrVersionExists}},
		{"PUT", 401, "", []error{ErrUnauthorized}, []error{ErrNotFound}},
	} {
		e := newHTTPError(tc.method, u, tc.status, "application/json", []byte(tc.body), nil)
		for _, target := range tc.is {
			if !errors.Is(e, target) {
				t.Errorf("%s %d %s: not %v", tc.method, tc.status, tc.body, target)
			}
		}
		for _, target := range tc.isNot {
			if errors.Is(e, target) {
				t.Errorf("%s %d %s: is %v", tc.method, tc.status, tc.body, target)
			}
		}
		if e.Hint == "" {
			t.Errorf("%s %d: no hint", tc.method, tc.status)
		}
	}
	for _, status := range []int{401, 403, 404, 409, 413, 422, 429, 500, 502, 503} {
		if hintFor("PUT", status, false) == "" {
			t.Errorf("no hint for %d", status)
		}
	}
}

// Sanitize's output is safe to print whatever the registry sends.
func FuzzSanitize(f *testing.F) {
	f.Add("plain", "secret")
	f.Add("\x1b[31mred\x1b[0m s\x00ecret", "secret")
	f.Add("\xff\xfe invalid", "")
	f.Add(strings.Repeat("long ", 200), "long")
	f.Fuzz(func(t *testing.T, s, secret string) {
		var secrets []string
		if len(secret) >= 4 {
			secrets = []string{secret}
		}
		got := Sanitize(s, secrets)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		if n := utf8.RuneCountInString(got); n > maxMessage+1+len(redacted) {
			t.Fatalf("%d runes", n)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || (unicode.IsSpace(r) && r != ' ') {
				t.Fatalf("control or space character %U in %q", r, got)
			}
		}
		if len(secrets) > 0 && !strings.Contains(redacted, secret) && strings.Contains(got, secret) {
			t.Fatalf("secret %q survives in %q", secret, got)
		}
	})
}

// The packument parser accepts only what it can describe, and keeps the
// document as received.
func FuzzParsePackument(f *testing.F) {
	f.Add([]byte(packumentJSON("p", "1.0.0", "sha512-x")))
	f.Add([]byte(`{"name":"p","versions":{"1.0.0":{"dist":null}},"dist-tags":null}`))
	f.Add([]byte(`{"versions":{"1":{"dist":{"integrity":5}}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePackument(data)
		if err != nil {
			return
		}
		if string(p.Raw) != string(data) {
			t.Fatal("Raw differs from the input")
		}
		if !json.Valid(data) {
			t.Fatal("accepted invalid JSON")
		}
	})
}

// Strings are written so that a JSON parser reads back the same string.
func FuzzEncodeString(f *testing.F) {
	f.Add("plain")
	f.Add("quote \" backslash \\ \x00\x1f\x7f \u2028 <>&")
	f.Fuzz(func(t *testing.T, s string) {
		var e docEncoder
		e.str("test", s)
		if !utf8.ValidString(s) {
			if e.err == nil {
				t.Fatal("accepted invalid UTF-8")
			}
			return
		}
		var back string
		if err := json.Unmarshal(e.buf.Bytes(), &back); err != nil || back != s {
			t.Fatalf("%q encoded as %s, read back as %q (%v)", s, e.buf.Bytes(), back, err)
		}
	})
}
