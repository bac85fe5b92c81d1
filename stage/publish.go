// Package stage publishes verified tarballs to an npm registry: the half
// of a release that runs next to the publish credential. It runs no
// package code and starts no process: it checks the tarball's digest
// against a pin, reads the tarball as hostile input, applies npm's
// publishing rules, and uploads the document npm would upload.
package stage

import (
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/publishdoc"
	"github.com/airlockdev/airlock/internal/registry"
)

// Tarball is one tarball to publish and the digest it must have.
type Tarball struct {
	Path string
	// Integrity is the pinned sha512 SRI ("sha512-…"); empty only with
	// Options.AllowUnpinned.
	Integrity string
}

// Options controls Publish.
type Options struct {
	// Config is npm's configuration with the command-line flags as its
	// top layer (registry, tag, access, otp).
	Config *npmrc.Config
	// Auth decides how each upload is authenticated; nil means the
	// credentials configured for the registry (npmrc.ConfigAuth). An OIDC
	// exchange goes in front of it in an npmrc.Chain.
	Auth npmrc.Authenticator
	// DryRun does every check and builds the document, but uploads
	// nothing.
	DryRun bool
	// Stage sends each version to the registry's staged-publish endpoint,
	// where it waits for a maintainer's approval, instead of publishing it.
	Stage bool
	// Provenance, when set, decides whether to attach a Sigstore bundle
	// and makes or checks it (attest.Keyless, attest.Given). It is asked
	// after every other check has passed, so a release that fails leaves
	// no transparency-log entry behind.
	Provenance attest.Source
	// AllowUnpinned publishes tarballs without an integrity pin.
	AllowUnpinned bool
	// Limits bound what the tarball inspection accepts.
	Limits inspect.Limits
	// Client talks to the registry.
	Client *registry.Client
	// ToolVersion is airlock's version, written where npm writes its own.
	ToolVersion string
	// Cwd is the folder tarball paths are relative to, as npm records them
	// in _resolved and _from.
	Cwd    string
	Logger *slog.Logger
}

// Result reports one tarball.
type Result struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Tarball   string `json:"tarball"`
	Size      int64  `json:"size"`
	Integrity string `json:"integrity"`
	Shasum    string `json:"shasum"`
	Registry  string `json:"registry"`
	Tag       string `json:"tag"`
	Access    string `json:"access,omitempty"`
	// Outcome is "published", "staged", "already published" or "dry run".
	Outcome string `json:"outcome"`
	// Provenance says what was attached: "signed (transparency log index
	// N)", "attached from a file", "would be signed" on a dry run, or ""
	// for none.
	Provenance string `json:"provenance,omitempty"`
	// StageID is the registry's id for a staged version.
	StageID string `json:"stageId,omitempty"`
	// AuthSource says which credential was used, never its value.
	AuthSource string `json:"auth,omitempty"`
	// Document is the publish body with the tarball data summarised;
	// set on a dry run.
	Document string `json:"document,omitempty"`
}

// Errors callers can test for.
var (
	ErrDigestMismatch = errors.New("tarball digest does not match the pin")
	ErrNoPin          = errors.New("no integrity pin")
	ErrPrivate        = errors.New("package is private")
	ErrVersionExists  = errors.New("version already published with different contents")
)

// Publish publishes tarballs in order and stops at the first failure. The
// results of the tarballs handled before it are returned with the error.
func Publish(ctx context.Context, tarballs []Tarball, opts Options) ([]Result, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Client == nil {
		opts.Client = &registry.Client{}
	}
	if opts.Auth == nil {
		opts.Auth = npmrc.ConfigAuth{Config: opts.Config}
	}
	var results []Result
	for _, tb := range tarballs {
		r, err := publishOne(ctx, tb, opts)
		if err != nil {
			return results, fmt.Errorf("publishing %s: %w", tb.Path, err)
		}
		results = append(results, *r)
	}
	return results, nil
}

func publishOne(ctx context.Context, tb Tarball, opts Options) (*Result, error) {
	log := opts.Logger
	f, err := os.Open(tb.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}

	// The pin comes first: nothing in the tarball is parsed before its
	// digest is known to be the one the pack job reported.
	sum, err := digest(f)
	if err != nil {
		return nil, fmt.Errorf("hashing: %w", err)
	}
	if err := checkPin(tb.Integrity, sum.integrity, opts.AllowUnpinned); err != nil {
		return nil, err
	}
	if tb.Integrity == "" {
		log.Warn("publishing without an integrity pin", "tarball", tb.Path)
	}

	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	contents, kept, err := inspect.TarballKeeping(ctx, f, st.Size(), opts.Limits, publishdoc.Wants)
	if err != nil {
		return nil, fmt.Errorf("inspecting tarball: %w", err)
	}
	m := contents.Manifest
	res := &Result{ID: m.ID(), Name: m.Name, Version: m.Version, Tarball: tb.Path, Size: st.Size(), Integrity: sum.integrity, Shasum: sum.shasum}

	pkg, err := readPublishFields(contents.PackageJSON)
	if err != nil {
		return nil, err
	}
	if pkg.private {
		return nil, hint.With(fmt.Errorf("%s: %w", m.ID(), ErrPrivate), `remove "private": true from package.json to publish it`)
	}
	cfg := opts.Config.WithPublishConfig(pkg.publishConfig)
	plan, err := planRelease(m, cfg, pkg)
	if err != nil {
		return nil, err
	}
	res.Registry, res.Tag, res.Access = plan.registry, plan.tag, plan.access

	// Authentication is the config's, already resolved: a tarball's
	// publishConfig cannot choose credentials.
	header, source, err := opts.Auth.Authorization(ctx, plan.registry, m.Name)
	auth := bearer(header)
	if err != nil {
		if !opts.DryRun {
			return nil, fmt.Errorf("authenticating to %s: %w", plan.registry, err)
		}
		log.Warn("no credentials; a real publish would fail", "err", err)
		auth = func(context.Context, *http.Request) error { return nil }
	}
	res.AuthSource = source
	if otp, _ := cfg.Get("otp"); otp != "" {
		auth = withOTP(auth, otp)
	}

	// What the registry already has decides whether this is a re-run of
	// a release that landed, a conflict, or a move of "latest" backwards.
	packument, err := opts.Client.Packument(ctx, plan.registry, m.Name, auth)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		packument = nil
	case err != nil:
		return nil, fmt.Errorf("reading what the registry has of %s: %w", m.Name, err)
	}
	if packument != nil {
		if v, ok := packument.Versions[m.Version]; ok {
			if v.Dist.Integrity == sum.integrity {
				res.Outcome = registry.AlreadyPublished.String()
				return res, nil
			}
			return nil, hint.With(fmt.Errorf("%s: %w (registry has %s, tarball is %s)", m.ID(), ErrVersionExists, orNone(v.Dist.Integrity), sum.integrity),
				"versions are immutable on npm: bump the version in package.json and pack again")
		}
		if err := checkLatest(plan, m.Version, packument); err != nil {
			return nil, err
		}
	}

	doc, tag, err := buildDocument(contents, kept, sum, plan, opts.ToolVersion, opts.Cwd, tb.Path)
	if err != nil {
		return nil, fmt.Errorf("building the publish document: %w", err)
	}
	res.Tag = tag // a "tag" field in package.json wins, as in npm
	if opts.Provenance != nil {
		if err := attachProvenance(ctx, doc, res, m.Name, m.Version, sum, plan, auth, opts); err != nil {
			return nil, err
		}
	}
	if opts.DryRun {
		var b strings.Builder
		if err := doc.Encode(&b, nil); err != nil {
			return nil, err
		}
		res.Document = b.String()
		res.Outcome = "dry run"
		return res, nil
	}
	// The upload reads the file already open, the one hashed: the client
	// checks size and digest again as it streams.
	open := func() (io.ReadCloser, int64, error) {
		return io.NopCloser(io.NewSectionReader(f, 0, sum.size)), sum.size, nil
	}
	if opts.Stage {
		sr, err := opts.Client.Stage(ctx, plan.registry, m.Name, *doc, open, auth)
		if err != nil {
			return nil, err
		}
		res.Outcome, res.StageID = "staged", sr.StageID
		return res, nil
	}
	pr, err := opts.Client.Publish(ctx, plan.registry, m.Name, *doc, open, auth)
	if pr != nil && pr.Outcome == registry.AlreadyPublished {
		// Another run won the race with the same tarball: nothing to do.
		res.Outcome = pr.Outcome.String()
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	res.Outcome = pr.Outcome.String()
	return res, nil
}

type digests struct {
	integrity, shasum string
	sha512            []byte
	size              int64
}

func digest(r io.Reader) (digests, error) {
	h512, h1 := sha512.New(), sha1.New()
	n, err := io.Copy(io.MultiWriter(h512, h1), r)
	if err != nil {
		return digests{}, err
	}
	sum := h512.Sum(nil)
	return digests{
		size:      n,
		sha512:    sum,
		integrity: "sha512-" + base64.StdEncoding.EncodeToString(sum),
		shasum:    hex.EncodeToString(h1.Sum(nil)),
	}, nil
}

// checkPin compares the tarball's digest with the pin. Only sha512 pins
// are accepted: a weaker digest would let a colliding artifact through.
func checkPin(pin, got string, allowUnpinned bool) error {
	if pin == "" {
		if allowUnpinned {
			return nil
		}
		return hint.With(ErrNoPin, "pass --integrity with the digest airlock pack reported (passed through job outputs), or --receipt FILE; --allow-unpinned publishes without one")
	}
	pin = strings.TrimSpace(pin)
	var want string
	for _, tok := range strings.Fields(pin) {
		if strings.HasPrefix(tok, "sha512-") {
			want = tok
			if i := strings.IndexByte(want, '?'); i >= 0 {
				want = want[:i]
			}
			break
		}
	}
	if want == "" {
		return hint.With(fmt.Errorf("integrity pin %q has no sha512 digest", pin), "airlock pack prints the sha512 integrity; pass it as --integrity sha512-…")
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return hint.With(fmt.Errorf("%w:\n  pinned:  %s\n  tarball: %s", ErrDigestMismatch, want, got),
			"the artifact changed between the pack job and this job: do not publish it; rebuild from a trusted source")
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no integrity"
	}
	return s
}

func withOTP(auth registry.Auth, otp string) registry.Auth {
	return func(ctx context.Context, req *http.Request) error {
		if err := auth(ctx, req); err != nil {
			return err
		}
		req.Header.Set("npm-otp", otp)
		return nil
	}
}

// bearer turns an Authorization header into a registry.Auth. The header
// stays inside the closure: never logged, never returned.
func bearer(header npmrc.Secret) registry.Auth {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", header.Reveal())
		return nil
	}
}
