package npmrc

import (
	"math/rand/v2"
	"strings"
	"testing"
)

var urlCases = []string{
	"https://registry.npmjs.org/", "https://Registry.NPMJS.org", "http://reg.example:8080/a/b",
	"https://reg.example:443/", "http://reg.example:80/x", "https://u:p@reg.example/npm/",
	"https://reg.example/a/../b/./c", "https://reg.example/a%20b/", "https://reg.example/a b/",
	"https://reg.example\\npm\\x", "https:reg.example/p", "https:///reg.example/p", "HTTPS://REG.EXAMPLE/P",
	"https://reg.example/p?q=1#f", "https://[::1]:4873/", "http://127.0.0.1:4873/", "reg.example",
	"//reg.example/", "not a url", "https://", "ftp://x/", "foo:bar", "https://reg.example:0443/",
	"https://reg.example./", "https://reg_example.com/", " https://reg.example/ ", "https://reg.example/%2e%2e/x",
	"https://0x7f.1/", "https://1.2.3.256/", "https://4294967296/", "https://[::ffff:1.2.3.4]/", "https://[::A]/",
	"git+ssh://h:x/", "foo://[::1]x", "https://ex%41mple.com/", "https://ex%zzample.com/", "https://é.example/",
	"https://reg.example/{x}/`y`/\"z\"", "http:reg.example", "https://reg.example:99999/",
}

// TestURLsMatchNode compares the two URL readers with Node's: legacyHref
// with url.parse (what nopt uses to validate registry) and hostPath with
// WHATWG URL (what npm uses to match credentials). hostPath may refuse a
// URL Node accepts (no credentials are then sent), never disagree with it.
func TestURLsMatchNode(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	atoms := []string{"https:", "http:", "//", "/", "reg", ".example", ":", "443", "80", "8080", "@", "u", "..", ".", "%2e",
		"?", "#", " ", "\\", "A", "[", "]", "::1", "npm", "_", "-", "%41", "{", "x:", "0x", "1.", "255", "%", "é"}
	in := append([]string(nil), urlCases...)
	for range 2000 {
		s := ""
		for range 1 + r.IntN(10) {
			s += atoms[r.IntN(len(atoms))]
		}
		in = append(in, s)
	}
	resp := askNPM(t, baseEnv(t), oracleRequest{ParseURLs: in})
	refused, throws := 0, 0
	for i, s := range in {
		n := resp.ParseURLs[i]
		href, ok := legacyHref(s)
		switch {
		case n.LegacyThrows:
			throws++ // npm would crash validating it; nothing to match
		case !ok && n.LegacyHref != nil && strings.Contains(*n.LegacyHref, "xn--"):
			refused++ // non-ASCII host: refused rather than punycoded
		case ok != (n.LegacyHref != nil) || ok && href != *n.LegacyHref:
			t.Errorf("legacyHref(%q) = %q, %v; url.parse: %v", s, href, ok, deref(n.LegacyHref))
		}
		host, path, ok := hostPath(s)
		switch {
		case ok && n.Invalid:
			t.Errorf("hostPath(%q) accepted what new URL refuses", s)
		case ok && (host != n.Host || path != n.Pathname):
			t.Errorf("hostPath(%q) = %q %q, new URL: %q %q", s, host, path, n.Host, n.Pathname)
		case !ok && !n.Invalid:
			refused++
		}
		if whatwgValid(s) == n.Invalid {
			t.Errorf("whatwgValid(%q) = %v, new URL invalid: %v", s, whatwgValid(s), n.Invalid)
		}
	}
	t.Logf("%d URLs: %d that Node accepts refused, %d that url.parse throws on", len(in), refused, throws)
}
