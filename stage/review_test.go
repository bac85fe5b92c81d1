package stage

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/tardiff"
)

func TestParseDigest(t *testing.T) {
	sum := sha512.Sum512([]byte("x"))
	for _, s := range []string{"sha512-" + base64.StdEncoding.EncodeToString(sum[:]), hex.EncodeToString(sum[:]), " " + hex.EncodeToString(sum[:]) + "\n"} {
		got, err := ParseDigest(s)
		if err != nil || string(got) != string(sum[:]) {
			t.Errorf("ParseDigest(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "sha512-", "sha1-" + base64.StdEncoding.EncodeToString(sum[:20]), hex.EncodeToString(sum[:32]), "sha512-!!!"} {
		if _, err := ParseDigest(s); err == nil {
			t.Errorf("ParseDigest(%q) accepted", s)
		}
	}
}

func TestApproveReviewedRefusesAnotherTarball(t *testing.T) {
	tarball := pkgTarball(t, "@acme/widget", "2.1.0")
	s := newStagedRegistry(t, record("@acme/widget", "2.1.0", sha1hex(tarball)), tarball)
	opts := reviewOptions(t, s.URL, map[string]string{"otp": "123456"})
	other := sha512.Sum512([]byte("another tarball"))
	err := ApproveReviewed(t.Context(), testID, other[:], opts, 0, inspect.DefaultLimits())
	if !errors.Is(err, ErrNotReviewed) {
		t.Fatalf("err = %v, want ErrNotReviewed", err)
	}
	for _, p := range s.paths {
		if strings.HasPrefix(p, "POST ") {
			t.Fatalf("asked the registry to approve: %v", s.paths)
		}
	}
	// The digest of the staged tarball goes on to the approval.
	sum := sha512.Sum512(tarball)
	err = ApproveReviewed(t.Context(), testID, sum[:], opts, 0, inspect.DefaultLimits())
	if !slices.Contains(s.paths, "POST /-/stage/"+testID+"/approve") {
		t.Fatalf("no approval asked (%v): %v", err, s.paths)
	}
}

func TestApproveReviewedChecksTheRecord(t *testing.T) {
	tarball := pkgTarball(t, "@acme/widget", "2.1.0")
	s := newStagedRegistry(t, record("@acme/widget", "2.1.0", sha1hex([]byte("other"))), tarball)
	sum := sha512.Sum512(tarball)
	err := ApproveReviewed(t.Context(), testID, sum[:], reviewOptions(t, s.URL, nil), 0, inspect.DefaultLimits())
	if !errors.Is(err, ErrShasumMismatch) {
		t.Fatalf("err = %v, want ErrShasumMismatch", err)
	}
}

func TestVerdict(t *testing.T) {
	high := tardiff.Signal{ID: "a", Severity: tardiff.High}
	low := tardiff.Signal{ID: "b", Severity: tardiff.Low}
	info := tardiff.Signal{ID: "c", Severity: tardiff.Info}
	for _, tc := range []struct {
		sigs []tardiff.Signal
		rep  *Reproduction
		want string
	}{
		{nil, nil, "review: nothing unusual"},
		{[]tardiff.Signal{info}, &Reproduction{Reproduced: true, Commit: "abc"}, "review: nothing unusual; reproduces from abc"},
		{[]tardiff.Signal{low, info}, nil, "review: no high signals; 1 low signal"},
		{[]tardiff.Signal{high, low}, &Reproduction{Reproduced: true, Commit: "abc"}, "review: 1 high, 1 low signals"},
	} {
		if got := verdict(&ReviewReport{Signals: tc.sigs, Reproduce: tc.rep}); got != tc.want {
			t.Errorf("verdict = %q, want %q", got, tc.want)
		}
	}
	sorted := sortSignals([]tardiff.Signal{info, low, high, high})
	if len(sorted) != 3 || sorted[0].ID != "a" || sorted[2].ID != "c" {
		t.Errorf("sortSignals: %+v", sorted)
	}
}
