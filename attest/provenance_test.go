package attest

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/idtoken"
)

func TestChoose(t *testing.T) {
	gh := idtoken.Detect(lookupIn(githubFull))
	circle := idtoken.Detect(lookupIn([]string{"CIRCLECI=true"}))
	cases := []struct {
		c    Choice
		want string // type of source, "" for none, "error"
	}{
		{Choice{Env: gh}, ""},
		{Choice{Env: gh, TrustedOIDC: true}, "auto"},
		{Choice{Env: gh, TrustedOIDC: true, Off: true}, ""},
		{Choice{Env: circle, TrustedOIDC: true}, ""},
		{Choice{Env: gh, On: true}, "keyless"},
		{Choice{Env: gh, File: []byte("{}")}, "given"},
		{Choice{Env: gh, File: []byte("{}"), On: true}, "error"},
		{Choice{Env: gh, On: true, Off: true}, "error"},
	}
	for i, c := range cases {
		src, err := Choose(c.c)
		got := ""
		switch s := src.(type) {
		case *Keyless:
			got = "keyless"
			if s.Auto {
				got = "auto"
			}
		case *Given:
			got = "given"
		}
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("case %d: got %s, want %s", i, got, c.want)
		}
	}
}

func TestGivenBundleIsCheckedNotReplaced(t *testing.T) {
	token := fakeToken()
	fake := newFakeSigstore(t, token)
	sum := sha512.Sum512([]byte("the tarball"))
	subject := Subject{Name: "@octo-org/demo", Version: "1.2.3", SHA512: sum[:]}
	stmt, err := Statement(subject, lookupIn(githubFull))
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := Sign(t.Context(), stmt, SignOptions{FulcioURL: fake.fulcio.URL, RekorURL: fake.rekor.URL,
		IDToken: func(context.Context) (string, error) { return token, nil }})
	if err != nil {
		t.Fatal(err)
	}
	src, err := Choose(Choice{File: bundle, Verify: VerifyOptions{TrustedRoot: fake.trustedRoot()}, Env: idtoken.Detect(lookupIn(nil))})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := src.Check(t.Context(), Request{Subject: subject})
	if err != nil || !ok {
		t.Fatalf("the right bundle: %v", err)
	}
	got, err := src.Bundle(t.Context(), Request{Subject: subject})
	if err != nil || string(got) != string(bundle) {
		t.Fatalf("the given bundle was not attached as given: %v", err)
	}
	// A pretty-printed file is attached compacted, as npm attaches it.
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, bundle, "", "  "); err != nil {
		t.Fatal(err)
	}
	if got, err := (&Given{Data: pretty.Bytes()}).Bundle(t.Context(), Request{}); err != nil || string(got) != string(bundle) {
		t.Fatalf("a pretty bundle was attached as %d bytes (%v), want the compact %d", len(got), err, len(bundle))
	}
	other := sha512.Sum512([]byte("another tarball"))
	for _, s := range []Subject{
		{Name: subject.Name, Version: subject.Version, SHA512: other[:]},
		{Name: "@octo-org/other", Version: subject.Version, SHA512: sum[:]},
		{Name: subject.Name, Version: "1.2.4", SHA512: sum[:]},
	} {
		if _, err := src.Check(t.Context(), Request{Subject: s}); err == nil || !(errors.Is(err, ErrDigest) || errors.Is(err, ErrSubject)) {
			t.Errorf("%s@%s: %v, want a subject or digest refusal", s.Name, s.Version, err)
		}
	}
	// Against the public-good root the test Sigstore is not trusted.
	pg, _ := Choose(Choice{File: bundle, Env: idtoken.Detect(lookupIn(nil))})
	if _, err := pg.Check(t.Context(), Request{Subject: subject}); err == nil {
		t.Error("a bundle from an untrusted Sigstore was accepted")
	}
}

func TestKeylessRefusesBeforeSigning(t *testing.T) {
	sum := sha512.Sum512([]byte("x"))
	subject := Subject{Name: "demo", Version: "1.0.0", SHA512: sum[:]}
	cases := []struct {
		env  []string
		auto bool
		req  Request
		want string // "" means Check says no without an error
	}{
		{[]string{"CIRCLECI=true"}, false, Request{Subject: subject, Public: true}, "GitHub Actions or GitLab CI"},
		{[]string{"CIRCLECI=true"}, true, Request{Subject: subject, Public: true, Listed: true}, ""},
		{githubFull, false, Request{Subject: subject}, "must set `access` to public"},
		{githubFull, true, Request{Subject: subject, Public: true}, ""}, // a new package: npm does not turn it on
		{[]string{"GITHUB_ACTIONS=true"}, false, Request{Subject: subject, Public: true}, `"id-token" permission`},
	}
	for i, c := range cases {
		k := &Keyless{Env: idtoken.Detect(lookupIn(c.env)), Auto: c.auto}
		ok, err := k.Check(t.Context(), c.req)
		switch {
		case c.want == "" && (ok || err != nil):
			t.Errorf("case %d: %v, %v; want no provenance and no error", i, ok, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("case %d: %v, want an error saying %q", i, err, c.want)
		}
	}
}

func TestSameRepository(t *testing.T) {
	for _, u := range []string{
		"git+https://github.com/acme/widget.git", "https://github.com/acme/widget", "git://github.com/acme/widget.git",
		"git+ssh://git@github.com/acme/widget.git", "git@github.com:acme/widget.git", "https://GitHub.com/Acme/Widget/",
	} {
		if !sameRepository(u, "https://github.com/acme/widget") {
			t.Errorf("%s does not match", u)
		}
	}
	for _, u := range []string{"", "https://github.com/acme/widget2", "https://gitlab.com/acme/widget", "acme/widget"} {
		if sameRepository(u, "https://github.com/acme/widget") {
			t.Errorf("%q matches", u)
		}
	}
}

func TestLogIndex(t *testing.T) {
	for in, want := range map[string]int64{
		`{"verificationMaterial":{"tlogEntries":[{"logIndex":"42"}]}}`: 42,
		`{"verificationMaterial":{"tlogEntries":[{}]}}`:                0,
		`{"verificationMaterial":{"tlogEntries":[]}}`:                  -1,
		`not json`: -1,
	} {
		if got := LogIndex([]byte(in)); got != want {
			t.Errorf("LogIndex(%s) = %d, want %d", in, got, want)
		}
	}
}
