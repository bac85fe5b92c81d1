package jwt

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The differential tests check tokens against node:crypto, an
// independent JWS implementation. They fail, not skip, without node: CI
// has it.

// runNode runs script with input as JSON on stdin and decodes its JSON
// output into out.
func runNode(t *testing.T, script string, input, out any) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed to compare with node:crypto: %v", err)
	}
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "-e", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	data, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("decoding node's answer %q: %v", data, err)
	}
}

// nodeSign makes fresh RSA and P-256 keys, publishes them as JWKs (as
// node exports them: no alg, no use), and signs the claims on stdin with
// each. It signs with ES256 until it has one signature with s in the
// lower half of the group order and one in the upper half: node, like
// OpenSSL, does not normalise s, and Verify must take both.
const nodeSign = `
const crypto = require('node:crypto');
const claims = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const b64 = (b) => Buffer.from(b).toString('base64url');
const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const out = {
  keys: [
    { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'node-rsa' },
    { ...ec.publicKey.export({ format: 'jwk' }), kid: 'node-ec' },
  ],
  tokens: {},
};
const input = (alg, kid) => b64(JSON.stringify({ alg, kid, typ: 'JWT' })) + '.' + b64(JSON.stringify(claims));

let data = input('RS256', 'node-rsa');
const signer = crypto.createSign('SHA256');
signer.update(data);
out.tokens.rs256 = data + '.' + signer.sign(rsa.privateKey, 'base64url');

data = input('ES256', 'node-ec');
for (let i = 0; i < 128 && !(out.tokens.es256_low && out.tokens.es256_high); i++) {
  const sig = crypto.sign('sha256', Buffer.from(data), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
  const s = BigInt('0x' + sig.subarray(32).toString('hex'));
  out.tokens[s > n / 2n ? 'es256_high' : 'es256_low'] = data + '.' + b64(sig);
}
process.stdout.write(JSON.stringify(out));
`

func TestNodeSignsGoVerifies(t *testing.T) {
	now := time.Now()
	claims := validClaims(now)
	var got struct {
		Keys   []JWK             `json:"keys"`
		Tokens map[string]string `json:"tokens"`
	}
	runNode(t, nodeSign, claims, &got)
	set := JWKS{Keys: got.Keys}

	for _, name := range []string{"rs256", "es256_low", "es256_high"} {
		compact := got.Tokens[name]
		if compact == "" {
			t.Fatalf("node made no %s token", name)
		}
		tok, err := Parse(compact)
		if err != nil {
			t.Fatalf("%s: Parse: %v", name, err)
		}
		if err := tok.Verify(set); err != nil {
			t.Errorf("%s: Verify: %v", name, err)
		}
		if err := tok.Validate(validExpect(now)); err != nil {
			t.Errorf("%s: Validate: %v", name, err)
		}
		if sub, _ := tok.Claims.String("sub"); sub != claims["sub"] {
			t.Errorf("%s: sub %q", name, sub)
		}
		// The same token with one payload character changed must fail, so
		// the successes above are not vacuous.
		parts := strings.Split(compact, ".")
		parts[1] = b64([]byte(strings.Replace(string(mustDecode(t, parts[1])), "acme", "acmf", 1)))
		bad, err := Parse(strings.Join(parts, "."))
		if err != nil {
			t.Fatal(err)
		}
		if err := bad.Verify(set); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: Verify of a tampered token = %v", name, err)
		}
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nodeVerify checks each token on stdin with node:crypto against the JWK
// its kid names, and answers with the verdicts and the decoded subjects.
const nodeVerify = `
const crypto = require('node:crypto');
const { jwks, tokens } = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const out = tokens.map((token) => {
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const opts = header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key;
  const ok = crypto.verify('sha256', Buffer.from(h + '.' + p), opts, Buffer.from(s, 'base64url'));
  return { ok, alg: header.alg, typ: header.typ, sub: JSON.parse(Buffer.from(p, 'base64url')).sub };
});
process.stdout.write(JSON.stringify(out));
`

func TestGoSignsNodeVerifies(t *testing.T) {
	rsaKey, rsaOther, ecKey, ecOther := keys(t)
	claims := validClaims(time.Now())
	claims["sub"] = "repo:acme/widget:ref:refs/tags/v1.0.0 \u2014 \u00fcn\u00efcode <&>"
	sign := func(key crypto.Signer, kid string) string {
		t.Helper()
		s, err := Sign(key, kid, claims)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Tokens signed by other keys under the same kids must fail in node
	// too, so its successes are not vacuous.
	tokens := []string{sign(rsaKey, "rsa"), sign(ecKey, "ec"), sign(rsaOther, "rsa"), sign(ecOther, "ec")}
	want := []bool{true, true, false, false}

	var got []struct {
		OK  bool   `json:"ok"`
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Sub string `json:"sub"`
	}
	runNode(t, nodeVerify, map[string]any{"jwks": testSet(t), "tokens": tokens}, &got)
	if len(got) != len(tokens) {
		t.Fatalf("node answered %d verdicts for %d tokens", len(got), len(tokens))
	}
	for i, g := range got {
		if g.OK != want[i] {
			t.Errorf("token %d (%s): node says valid=%v, want %v", i, g.Alg, g.OK, want[i])
		}
		if g.Typ != "JWT" || g.Sub != claims["sub"] {
			t.Errorf("token %d: node read typ %q, sub %q", i, g.Typ, g.Sub)
		}
	}
}
