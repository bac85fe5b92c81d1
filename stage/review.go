package stage

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/internal/tardiff"
)

// Reviewing a staged version before approving it: what it changes from
// the last release, whether its provenance holds, and an approval bound
// to the bytes reviewed.

// ErrNotReviewed: the staged tarball is not the one the approver
// reviewed.
var ErrNotReviewed = errors.New("the staged tarball is not the one reviewed")

// Fetch fetches the tarball of the staged version id as Download does:
// its sha1 must be the staged record's shasum, it must pass inspection,
// and its package.json must name the record's package and version.
// Nothing is written.
func Fetch(ctx context.Context, id string, opts ReviewOptions, max int64, lim inspect.Limits) (*registry.StagedVersion, []byte, error) {
	if err := ValidateID(id); err != nil {
		return nil, nil, err
	}
	st, err := fetchStaged(ctx, id, &opts, max, lim)
	if err != nil {
		return nil, nil, fmt.Errorf("fetching staged package %s: %w", id, err)
	}
	return st.rec, st.data, nil
}

// stagedTarball is a staged version's tarball, fetched and checked.
type stagedTarball struct {
	rec      *registry.StagedVersion
	data     []byte
	sum      digests
	contents *inspect.Contents
}

// fetchStaged fetches the record of the staged version id, then its
// tarball, which must have the record's shasum, pass inspection, and
// name the record's package and version.
func fetchStaged(ctx context.Context, id string, opts *ReviewOptions, max int64, lim inspect.Limits) (*stagedTarball, error) {
	reg, auth, _, err := opts.prepare(ctx)
	if err != nil {
		return nil, err
	}
	// The record says what the tarball must be; it comes first.
	rec, err := opts.Client.StageView(ctx, reg, id, auth)
	if err != nil {
		return nil, err
	}
	if err := checkRecord(rec, id); err != nil {
		return nil, err
	}
	if max <= 0 {
		max = DefaultMaxTarball
	}
	data, err := opts.Client.StageTarball(ctx, reg, id, max, auth)
	if errors.Is(err, registry.ErrTooLarge) {
		return nil, hint.With(err, "if the package really is this large, raise the limit with --max-size")
	}
	if err != nil {
		return nil, err
	}
	sum, _ := digest(bytes.NewReader(data))
	if sum.shasum != strings.ToLower(rec.Shasum) {
		return nil, hint.With(fmt.Errorf("%w:\n  staged record: %s\n  tarball:       %s", ErrShasumMismatch, strings.ToLower(rec.Shasum), sum.shasum),
			"the registry served other data than it staged: do not approve this version, and report it to the registry")
	}
	contents, err := inspect.Tarball(ctx, bytes.NewReader(data), int64(len(data)), lim)
	if err != nil {
		return nil, fmt.Errorf("inspecting the staged tarball: %w", err)
	}
	if m := contents.Manifest; m.Name != rec.PackageName || m.Version != rec.Version {
		return nil, hint.With(fmt.Errorf("%w: the record is %s@%s, the tarball's package.json says %s",
			ErrWrongPackage, registry.Sanitize(rec.PackageName, nil), registry.Sanitize(rec.Version, nil), m.ID()),
			"do not approve this version: what would be published is not what the record shows")
	}
	return &stagedTarball{rec: rec, data: data, sum: sum, contents: contents}, nil
}

// ParseDigest reads the digest an approver reviewed: an SRI string
// ("sha512-<base64>", as stage review prints it) or 128 hex digits.
func ParseDigest(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b64, ok := strings.CutPrefix(s, "sha512-"); ok {
		if sum, err := base64.StdEncoding.DecodeString(b64); err == nil && len(sum) == sha512.Size {
			return sum, nil
		}
	} else if sum, err := hex.DecodeString(s); err == nil && len(sum) == sha512.Size {
		return sum, nil
	}
	return nil, hint.With(fmt.Errorf("%s is not a sha512 digest", quoteArg(s)),
		"pass the sha512 'airlock stage review' printed: sha512-<base64> or 128 hexadecimal digits")
}

// ApproveReviewed approves the staged version id only if its tarball's
// sha512 is reviewed: a review of one tarball must not approve another
// (staged again under the same name and version, or served differently).
// The tarball is fetched and checked as Fetch does first.
func ApproveReviewed(ctx context.Context, id string, reviewed []byte, opts ReviewOptions, max int64, lim inspect.Limits) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	st, err := fetchStaged(ctx, id, &opts, max, lim)
	if err != nil {
		return fmt.Errorf("approving staged package %s: checking it is the one reviewed: %w", id, err)
	}
	if got := sha512.Sum512(st.data); !bytes.Equal(got[:], reviewed) {
		return hint.With(fmt.Errorf("approving staged package %s: %w:\n  reviewed: sha512-%s\n  staged:   sha512-%s", id, ErrNotReviewed,
			base64.StdEncoding.EncodeToString(reviewed), base64.StdEncoding.EncodeToString(got[:])),
			"review it again with 'airlock stage review "+id+"' and approve the digest that review prints")
	}
	return Approve(ctx, id, opts)
}

// ReviewConfig controls Review.
type ReviewConfig struct {
	ReviewOptions
	// Against is the published version to compare with; "" means the
	// version the dist-tag latest names.
	Against string
	// Bundle is the staged version's provenance bundle; nil means the
	// registry's attestations for the version, if it serves them.
	Bundle []byte
	// Policy is who must have built the staged version, from the
	// command line; fields left empty are not checked here (the diff
	// compares the identity with the earlier version's provenance).
	Policy attest.Policy
	// Verify holds the trusted root (and clock) provenance is checked
	// against.
	Verify    attest.VerifyOptions
	MaxSize   int64
	Limits    tardiff.Limits
	HTTP      *http.Client
	UserAgent string
	// Reproduce, when set, rebuilds the staged version from source and
	// says what it found; nil, nil when it has no source to rebuild from.
	Reproduce func(ctx context.Context, staged *tardiff.Package) (*Reproduction, error)
}

// Reproduction is what rebuilding a staged version from its source found.
type Reproduction struct {
	// Reproduced: the rebuild holds the same files with the same
	// contents.
	Reproduced bool `json:"reproduced"`
	// Source is the folder or repository rebuilt, at Commit.
	Source string `json:"source"`
	Commit string `json:"commit,omitempty"`
	// Summary is one line saying what differs, when something does.
	Summary string `json:"summary,omitempty"`
	// Details is the full report, for reading.
	Details string `json:"-"`
	// Report is the structured report, for JSON.
	Report any `json:"report,omitempty"`
}

// ReviewReport is everything Review found about a staged version.
type ReviewReport struct {
	// Verdict is the first line: "review: 2 high signals", or
	// "review: nothing unusual; reproduces from <commit>".
	Verdict string `json:"verdict"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Tag     string `json:"tag,omitempty"`
	Actor   string `json:"stagedBy,omitempty"`
	// Integrity is the staged tarball's sha512, as SRI: what
	// 'airlock stage approve --reviewed' takes.
	Integrity string `json:"integrity"`
	Shasum    string `json:"shasum"`
	// Against is the version compared with, "" for a first release.
	Against    string                 `json:"against,omitempty"`
	Provenance *tardiff.Provenance    `json:"provenance"`
	Diff       *tardiff.Result        `json:"diff,omitempty"`
	Reproduce  *Reproduction          `json:"reproduce,omitempty"`
	Signals    []tardiff.Signal       `json:"signals"`
	Counts     map[string]int         `json:"counts"`
	Record     registry.StagedVersion `json:"-"`
}

// High counts the high signals: any one means do not approve blind.
func (r *ReviewReport) High() int {
	return tardiff.Counts(r.Signals)[tardiff.High]
}

// Review gathers what an approver needs to judge the staged version id:
// the tarball, fetched and checked as Fetch does; its provenance,
// verified when there is any; a diff against the version tagged latest
// (or c.Against); and, with c.Reproduce, a rebuild from source.
func Review(ctx context.Context, id string, c ReviewConfig) (*ReviewReport, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	r, err := review(ctx, id, &c)
	if err != nil {
		return nil, fmt.Errorf("reviewing staged package %s: %w", id, err)
	}
	return r, nil
}

func review(ctx context.Context, id string, c *ReviewConfig) (*ReviewReport, error) {
	st, err := fetchStaged(ctx, id, &c.ReviewOptions, c.MaxSize, c.Limits.Inspect)
	if err != nil {
		return nil, err
	}
	rec := st.rec
	staged, err := tardiff.ReadInspected(ctx, "stage:"+id, st.data, st.contents, c.Limits)
	if err != nil {
		return nil, fmt.Errorf("reading the staged tarball: %w", err)
	}
	name := staged.Manifest.Name
	r := &ReviewReport{ID: id, Name: name, Version: staged.Manifest.Version, Tag: registry.Sanitize(rec.Tag, nil), Actor: actorOf(rec),
		Integrity: staged.Integrity, Shasum: staged.Shasum, Record: *rec, Signals: []tardiff.Signal{}}

	_, auth, _, err := c.prepare(ctx)
	if err != nil {
		return nil, err
	}
	reg := c.Config.RegistryFor(name)
	loader := &tardiff.Loader{Client: c.Client, Registry: reg, Auth: auth, MaxSize: c.MaxSize, Limits: c.Limits,
		Provenance: true, Verify: c.Verify, HTTP: c.HTTP, UserAgent: c.UserAgent}

	// The staged version's provenance, from the user or the registry.
	bundle := c.Bundle
	if bundle == nil {
		bundle, err = attest.FetchBundle(ctx, name, staged.Manifest.Version, attest.FetchOptions{Registry: reg, HTTP: c.HTTP, UserAgent: c.UserAgent})
		switch {
		case errors.Is(err, attest.ErrNoProvenance):
			bundle = nil
		case errors.Is(err, attest.ErrBundle):
			staged.Provenance = &tardiff.Provenance{Found: true, Error: err.Error()}
		case err != nil:
			return nil, err
		}
	}
	if bundle != nil {
		staged.Provenance = tardiff.VerifyProvenance(bundle, staged, attest.VerifyOptions{TrustedRoot: c.Verify.TrustedRoot, Now: c.Verify.Now})
	} else if staged.Provenance == nil {
		staged.Provenance = &tardiff.Provenance{}
	}
	r.Provenance = staged.Provenance
	r.Signals = append(r.Signals, policySignals(bundle, staged, c)...)

	// The version to compare with.
	against := c.Against
	doc, err := c.Client.Packument(ctx, reg, name, auth)
	switch {
	case errors.Is(err, registry.ErrNotFound) && against == "":
		doc = nil
	case err != nil:
		return nil, fmt.Errorf("fetching the packument of %s: %w", name, err)
	}
	if against == "" && doc != nil {
		against = doc.DistTags["latest"]
	}
	if against != "" {
		old, err := loader.Load(ctx, tardiff.Source{Kind: tardiff.SourcePublished, Name: name, Version: against})
		if err != nil {
			return nil, err
		}
		r.Against = old.Manifest.Version
		r.Diff = tardiff.Compare(old, staged, tardiff.Options{})
		r.Signals = append(r.Signals, r.Diff.Signals...)
	} else if c.Policy.Repository == "" && staged.Provenance.Found {
		// A first release has no earlier provenance to hold this one to.
		r.Signals = append(r.Signals, tardiff.Signal{ID: "provenance-identity", Kind: "provenance-identity", Severity: tardiff.Medium, Field: "provenance",
			Message: "no earlier version to compare the provenance with: check that " + registry.Sanitize(staged.Provenance.Repository, nil) + " is the repository you expect, or pass --repository"})
	}

	if c.Reproduce != nil {
		rep, err := c.Reproduce(ctx, staged)
		if err != nil {
			r.Signals = append(r.Signals, tardiff.Signal{ID: "not-reproduced", Kind: "not-reproduced", Severity: tardiff.High,
				Message: "the rebuild from source could not be done: " + registry.Sanitize(err.Error(), nil)})
		} else if rep != nil {
			r.Reproduce = rep
			if !rep.Reproduced {
				r.Signals = append(r.Signals, tardiff.Signal{ID: "not-reproduced", Kind: "not-reproduced", Severity: tardiff.High,
					Message: "the tarball does not reproduce from " + rep.Source + ": " + rep.Summary})
			}
		}
	}
	r.Signals = sortSignals(r.Signals)
	r.Counts = map[string]int{}
	for sev, n := range tardiff.Counts(r.Signals) {
		r.Counts[sev.String()] = n
	}
	r.Verdict = verdict(r)
	return r, nil
}

// policySignals checks the staged provenance against the identity the
// command line demands.
func policySignals(bundle []byte, staged *tardiff.Package, c *ReviewConfig) []tardiff.Signal {
	p := c.Policy
	if p.Repository == "" && p.Workflow == "" && p.Ref == "" && p.Issuer == "" {
		return nil
	}
	sig := func(msg string) []tardiff.Signal {
		return []tardiff.Signal{{ID: "provenance-identity", Kind: "provenance-identity", Severity: tardiff.High, Field: "provenance", Message: msg}}
	}
	if !staged.Provenance.Found {
		return sig("the staged version has no provenance, and --repository, --workflow, --ref or --issuer asked for it")
	}
	if !staged.Provenance.Verified {
		return nil // provenance-invalid says it
	}
	if p.Repository == "" {
		p.Repository = staged.Provenance.Repository
	}
	o := c.Verify
	o.Policy = p
	if _, err := attest.VerifyBundle(bundle, attest.Subject{Name: staged.Manifest.Name, Version: staged.Manifest.Version, SHA512: staged.SHA512}, o); err != nil {
		return sig(registry.Sanitize(err.Error(), nil))
	}
	return nil
}

func sortSignals(sigs []tardiff.Signal) []tardiff.Signal {
	seen := map[string]bool{}
	var out []tardiff.Signal
	for sev := tardiff.High; sev >= tardiff.Info; sev-- {
		for _, s := range sigs {
			if s.Severity == sev && !seen[s.ID] {
				seen[s.ID] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func verdict(r *ReviewReport) string {
	n := tardiff.Counts(r.Signals)
	if n[tardiff.High] > 0 {
		return "review: " + tardiff.Summary(r.Signals)
	}
	v := "review: nothing unusual"
	if n[tardiff.Medium]+n[tardiff.Low] > 0 {
		v = "review: no high signals; " + tardiff.Summary(r.Signals)
	}
	if r.Reproduce != nil && r.Reproduce.Reproduced {
		from := r.Reproduce.Commit
		if from == "" {
			from = r.Reproduce.Source
		}
		v += "; reproduces from " + from
	}
	return v
}

func actorOf(rec *registry.StagedVersion) string {
	a := registry.Sanitize(rec.Actor, nil)
	if t := registry.Sanitize(rec.ActorType, nil); t != "" && a != "" {
		a += " (" + t + ")"
	}
	return a
}
