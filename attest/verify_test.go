package attest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/inspect"
)

// The fixtures are real: sigstore@1.3.0 as npm serves it
// (https://registry.npmjs.org/sigstore/-/sigstore-1.3.0.tgz) and the
// provenance bundle npm published with it from sigstore-js's release
// workflow in April 2023, as shipped in
// github.com/sigstore/sigstore-go@v1.3.0/examples/bundle-provenance.json
// (a v0.1 bundle with an "intoto" Rekor entry, the shape npm 9 made).
const (
	realTarball = "testdata/sigstore-1.3.0.tgz"
	realBundle  = "testdata/sigstore-1.3.0.sigstore.json"
)

var realPolicy = Policy{
	Repository: "sigstore/sigstore-js",
	Workflow:   ".github/workflows/release.yml",
	Ref:        "refs/heads/main",
}

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func realSubject(t testing.TB) Subject {
	t.Helper()
	data := readFixture(t, realTarball)
	s, err := ReadSubject(t.Context(), bytes.NewReader(data), int64(len(data)), inspect.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "sigstore" || s.Version != "1.3.0" {
		t.Fatalf("fixture tarball is %s@%s, want sigstore@1.3.0", s.Name, s.Version)
	}
	return s
}

func TestVerifyBundleReal(t *testing.T) {
	p, err := VerifyBundle(readFixture(t, realBundle), realSubject(t), VerifyOptions{Policy: realPolicy})
	if err != nil {
		t.Fatal(err)
	}
	want := Provenance{
		Issuer:            GitHubIssuer,
		Repository:        "https://github.com/sigstore/sigstore-js",
		Workflow:          ".github/workflows/release.yml",
		Ref:               "refs/heads/main",
		Commit:            "dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1",
		RunURL:            "https://github.com/sigstore/sigstore-js/actions/runs/4735384265/attempts/1",
		RunnerEnvironment: "github-hosted",
		LogIndex:          18300934,
		IntegratedTime:    time.Unix(1681839912, 0).UTC(),
		SubjectName:       "pkg:npm/sigstore@1.3.0",
		PredicateType:     "https://slsa.dev/provenance/v0.2",
	}
	if *p != want {
		t.Errorf("provenance:\n got %+v\nwant %+v", *p, want)
	}

	// The same with the trusted root passed explicitly, the file name of
	// the workflow, and a repository URL.
	pol := Policy{Repository: "https://github.com/sigstore/sigstore-js", Workflow: "release.yml", Issuer: GitHubIssuer}
	if _, err := VerifyBundle(readFixture(t, realBundle), realSubject(t), VerifyOptions{Policy: pol, TrustedRoot: PublicGoodTrustedRoot()}); err != nil {
		t.Errorf("with a repository URL and workflow file name: %v", err)
	}
}

// mutateBundle decodes the real bundle, lets f change it and encodes it.
func mutateBundle(t *testing.T, f func(b map[string]any)) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(readFixture(t, realBundle), &b); err != nil {
		t.Fatal(err)
	}
	f(b)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func envelope(b map[string]any) map[string]any { return b["dsseEnvelope"].(map[string]any) }

// flipBase64 flips one bit in the middle of the decoded bytes.
func flipBase64(t *testing.T, s string) string {
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	return base64.StdEncoding.EncodeToString(data)
}

func TestVerifyBundleRefuses(t *testing.T) {
	subject := realSubject(t)
	bundle := readFixture(t, realBundle)
	tampered := subject
	tampered.SHA512 = bytes.Clone(subject.SHA512)
	tampered.SHA512[0] ^= 0xff
	other := subject
	other.Name = "sigstore-fork"
	otherVersion := subject
	otherVersion.Version = "1.3.1"

	for _, tc := range []struct {
		name    string
		bundle  []byte
		subject Subject
		opts    VerifyOptions
		want    error
		msg     string
	}{
		{name: "wrong repository", bundle: bundle, subject: subject,
			opts: VerifyOptions{Policy: Policy{Repository: "sigstore/sigstore-go"}},
			want: ErrIdentity, msg: "built in https://github.com/sigstore/sigstore-js, not in sigstore/sigstore-go"},
		{name: "repository prefix", bundle: bundle, subject: subject,
			opts: VerifyOptions{Policy: Policy{Repository: "sigstore/sigstore"}},
			want: ErrIdentity, msg: "not in sigstore/sigstore"},
		{name: "no repository", bundle: bundle, subject: subject,
			opts: VerifyOptions{Policy: Policy{}},
			want: ErrIdentity, msg: "no repository to expect"},
		{name: "wrong workflow", bundle: bundle, subject: subject,
			opts: VerifyOptions{Policy: Policy{Repository: "sigstore/sigstore-js", Workflow: ".github/workflows/ci.yml"}},
			want: ErrIdentity, msg: "built by workflow .github/workflows/release.yml, not .github/workflows/ci.yml"},
		{name: "wrong workflow name", bundle: bundle, subject: subject,
			opts: VerifyOptions{Policy: Policy{Repository: "sigstore/sigstore-js", Workflow: "ci.yml"}},
			want: ErrIdentity, msg: "not ci.yml"},
		{name: "wrong ref", bundle: bundle, subject: subject,
			opts: VerifyOptions{Policy: Policy{Repository: "sigstore/sigstore-js", Ref: "refs/tags/v1.3.0"}},
			want: ErrIdentity, msg: "built from ref refs/heads/main, not refs/tags/v1.3.0"},
		{name: "wrong issuer", bundle: bundle, subject: subject,
			opts: VerifyOptions{Policy: Policy{Repository: "sigstore/sigstore-js", Issuer: "https://gitlab.com"}},
			want: ErrIdentity, msg: "issued for https://token.actions.githubusercontent.com, not https://gitlab.com"},
		{name: "tampered tarball", bundle: bundle, subject: tampered,
			opts: VerifyOptions{Policy: realPolicy}, want: ErrDigest, msg: "this tarball has 89"},
		{name: "another package", bundle: bundle, subject: other,
			opts: VerifyOptions{Policy: realPolicy}, want: ErrSubject, msg: "about pkg:npm/sigstore@1.3.0, not pkg:npm/sigstore-fork@1.3.0"},
		{name: "another version", bundle: bundle, subject: otherVersion,
			opts: VerifyOptions{Policy: realPolicy}, want: ErrSubject, msg: "not pkg:npm/sigstore@1.3.1"},
		{name: "flipped signature byte", subject: subject, opts: VerifyOptions{Policy: realPolicy},
			bundle: mutateBundle(t, func(b map[string]any) {
				sig := envelope(b)["signatures"].([]any)[0].(map[string]any)
				sig["sig"] = flipBase64(t, sig["sig"].(string))
			}),
			want: ErrSignature},
		{name: "changed payload", subject: subject, opts: VerifyOptions{Policy: realPolicy},
			bundle: mutateBundle(t, func(b map[string]any) {
				p, _ := base64.StdEncoding.DecodeString(envelope(b)["payload"].(string))
				p = bytes.Replace(p, []byte("sigstore/sigstore-js"), []byte("sigstore/sigstore-jz"), 1)
				envelope(b)["payload"] = base64.StdEncoding.EncodeToString(p)
			}),
			want: ErrSignature},
		{name: "no tlog entry", subject: subject, opts: VerifyOptions{Policy: realPolicy},
			bundle: mutateBundle(t, func(b map[string]any) {
				b["verificationMaterial"].(map[string]any)["tlogEntries"] = []any{}
			}),
			want: ErrTransparencyLog, msg: "not enough verified log entries"},
		{name: "tampered inclusion promise", subject: subject, opts: VerifyOptions{Policy: realPolicy},
			bundle: mutateBundle(t, func(b map[string]any) {
				e := b["verificationMaterial"].(map[string]any)["tlogEntries"].([]any)[0].(map[string]any)
				e["integratedTime"] = "1681839913"
			}),
			want: ErrTransparencyLog},
		{name: "empty trusted root", bundle: bundle, subject: subject,
			opts: VerifyOptions{Policy: realPolicy, TrustedRoot: []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`)},
			want: ErrTransparencyLog},
		{name: "trusted root without Fulcio", bundle: bundle, subject: subject,
			opts: VerifyOptions{Policy: realPolicy, TrustedRoot: withoutCAs(t)}, want: ErrCertificate},
		{name: "trusted root that is not JSON", bundle: bundle, subject: subject,
			opts: VerifyOptions{Policy: realPolicy, TrustedRoot: []byte(`not json`)}, msg: "reading the trusted root"},
		{name: "logged in the future", bundle: bundle, subject: subject,
			opts: VerifyOptions{Policy: realPolicy, Now: func() time.Time { return time.Unix(1681839912, 0).Add(-time.Hour) }},
			want: ErrTransparencyLog, msg: "in the future"},
		{name: "not a bundle", bundle: []byte(`{"mediaType":"text/plain"}`), subject: subject,
			opts: VerifyOptions{Policy: realPolicy}, want: ErrBundle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := VerifyBundle(tc.bundle, tc.subject, tc.opts)
			if err == nil {
				t.Fatalf("verified: %+v", p)
			}
			if p != nil {
				t.Errorf("returned provenance with the error %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %q is not %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "verifying the provenance of ") {
				t.Errorf("error %q does not say what was being done", err)
			}
		})
	}
}

// withoutCAs is the public-good root with its Fulcio CAs removed: the
// log still vouches for the entry, but the certificate chains to nothing.
func withoutCAs(t *testing.T) []byte {
	var r map[string]any
	if err := json.Unmarshal(PublicGoodTrustedRoot(), &r); err != nil {
		t.Fatal(err)
	}
	r["certificateAuthorities"] = []any{}
	out, _ := json.Marshal(r)
	return out
}

func TestAttachmentName(t *testing.T) {
	for name, want := range map[string]string{
		"demo":        "demo-1.2.3.sigstore",
		"@scope/demo": "@scope/demo-1.2.3.sigstore",
	} {
		if got := AttachmentName(name, "1.2.3"); got != want {
			t.Errorf("AttachmentName(%q) = %q, want %q", name, got, want)
		}
	}
}

// FuzzVerifyBundle feeds mutated bundles: whatever is accepted must be
// about this package and from the policy's repository, and nothing may
// panic.
func FuzzVerifyBundle(f *testing.F) {
	data, err := os.ReadFile(realBundle)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	tarball, err := os.ReadFile(realTarball)
	if err != nil {
		f.Fatal(err)
	}
	subject, err := ReadSubject(f.Context(), bytes.NewReader(tarball), int64(len(tarball)), inspect.DefaultLimits())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := VerifyBundle(b, subject, VerifyOptions{Policy: realPolicy})
		if err != nil {
			if p != nil {
				t.Fatal("provenance returned with an error")
			}
			return
		}
		if p.SubjectName != PackageURL(subject.Name, subject.Version) || p.Repository != "https://github.com/sigstore/sigstore-js" {
			t.Fatalf("accepted %+v", p)
		}
	})
}
