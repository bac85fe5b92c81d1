// Package stage publishes verified tarballs to an npm registry: the half
// of a release that runs next to the publish credential. It runs no
// package code and starts no process: it checks the tarball's digest
// against a pin, reads the tarball as hostile input, applies npm's
// publishing rules, and uploads the document npm would upload.
package stage

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/manifest"
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
	// Name and Version, when set, are what the tarball must hold: a
	// release manifest names the package of each tarball it pins.
	Name, Version string
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
	// ProvenanceDir, if set, is a folder each attached bundle is also
	// written to, as ProvenanceFile names it, before the upload: the
	// registry serves a staged version's provenance only once approved.
	ProvenanceDir string
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
	// Outcome is "published", "staged", "already published", "tagged"
	// (already published; the dist-tag was pointed at it) or "dry run".
	Outcome string `json:"outcome"`
	// Provenance says what was attached: "signed (transparency log index
	// N)", "attached from a file", "would be signed" on a dry run, or ""
	// for none.
	Provenance string `json:"provenance,omitempty"`
	// ProvenanceFile is where the bundle was written, with ProvenanceDir.
	ProvenanceFile string `json:"provenanceFile,omitempty"`
	// StageID is the registry's id for a staged version.
	StageID string `json:"stageId,omitempty"`
	// AuthSource says which credential was used, never its value.
	AuthSource string `json:"auth,omitempty"`
	// Document is the publish body, indented, with the tarball data
	// summarised; set on a dry run.
	Document string `json:"document,omitempty"`
	// Notes are what the user should know of how the release was decided:
	// settings taken from the tarball's publishConfig, a tag left alone.
	Notes []string `json:"notes,omitempty"`
}

// Errors callers can test for.
var (
	ErrDigestMismatch = errors.New("tarball digest does not match the pin")
	ErrNoPin          = errors.New("no integrity pin")
	ErrPrivate        = errors.New("package is private")
	ErrVersionExists  = errors.New("version already published with different contents")
)

// Publish publishes tarballs in order. Every check of every tarball runs
// before anything irreversible: all pins, then for each tarball the
// inspection, npm's rules, the credentials and what the registry already
// has; then provenance is signed for each (a transparency-log entry);
// only then is the first one sent. When an upload fails, the results of
// those sent before it are returned with the error.
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
	opened, err := openAll(tarballs)
	defer func() {
		for _, o := range opened {
			o.f.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	if err := checkPins(tarballs, opened, opts.AllowUnpinned); err != nil {
		return nil, err
	}
	ready := make([]*release, len(opened))
	seen := map[string]string{}
	for i, o := range opened {
		if tarballs[i].Integrity == "" {
			opts.Logger.Warn(fmt.Sprintf("%s has no integrity pin; publishing it anyway, as --allow-unpinned asks", tarballs[i].Path))
		}
		r, err := prepare(ctx, tarballs[i], o, opts)
		if err != nil {
			return nil, fmt.Errorf("publishing %s: %w", tarballs[i].Path, err)
		}
		if other, dup := seen[r.res.ID]; dup {
			return nil, hint.With(fmt.Errorf("%s and %s are both %s", other, tarballs[i].Path, r.res.ID), "give each version once")
		}
		seen[r.res.ID] = tarballs[i].Path
		ready[i] = r
	}
	if opts.DryRun {
		results := make([]Result, len(ready))
		for i, r := range ready {
			results[i] = *r.res
		}
		return results, nil
	}
	// Signing writes to the transparency log: it waits until every
	// tarball has passed every check.
	for _, r := range ready {
		if err := r.sign(ctx, opts); err != nil {
			return nil, fmt.Errorf("publishing %s: %w", r.tb.Path, err)
		}
	}
	var results []Result
	for _, r := range ready {
		if err := r.send(ctx, opts); err != nil {
			return results, fmt.Errorf("publishing %s: %w", r.tb.Path, err)
		}
		results = append(results, *r.res)
	}
	return results, nil
}

// opened is a tarball open for reading and its digests: the upload reads
// the very file that was hashed.
type opened struct {
	f   *os.File
	sum digests
}

// openAll opens and hashes every tarball; nothing in them is parsed yet.
func openAll(tarballs []Tarball) ([]opened, error) {
	var out []opened
	for _, tb := range tarballs {
		f, err := os.Open(tb.Path)
		if err != nil {
			return out, fmt.Errorf("publishing %s: %w", tb.Path, err)
		}
		out = append(out, opened{f: f})
		st, err := f.Stat()
		if err != nil {
			return out, fmt.Errorf("publishing %s: %w", tb.Path, err)
		}
		if st.IsDir() {
			return out, hint.With(fmt.Errorf("publishing %s: this is a folder, not a tarball", tb.Path),
				"airlock publish takes the tarball 'airlock pack' wrote: run airlock pack in the pack job and pass its output here")
		}
		if !st.Mode().IsRegular() {
			return out, fmt.Errorf("publishing %s: not a regular file", tb.Path)
		}
		sum, err := digest(f)
		if err != nil {
			return out, fmt.Errorf("publishing %s: hashing: %w", tb.Path, err)
		}
		out[len(out)-1].sum = sum
	}
	return out, nil
}

// checkPins compares every tarball's digest with its pin before any
// tarball is read further. When the pins are those of the tarballs in
// another order, it says so.
func checkPins(tarballs []Tarball, got []opened, allowUnpinned bool) error {
	var bad []int
	for i, tb := range tarballs {
		err := checkPin(tb.Integrity, got[i].sum.integrity, allowUnpinned)
		switch {
		case errors.Is(err, ErrDigestMismatch):
			bad = append(bad, i)
		case err != nil:
			return fmt.Errorf("publishing %s: %w", tb.Path, err)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	if order := pinOrder(tarballs, got); order != nil {
		var b strings.Builder
		for i, j := range order {
			if i != j {
				fmt.Fprintf(&b, "\n  --integrity %d is the digest of %s (tarball %d)", i+1, tarballs[j].Path, j+1)
			}
		}
		return hint.With(fmt.Errorf("%w: the pins are those of the tarballs, but in another order:%s", ErrDigestMismatch, b.String()),
			"give --integrity once per tarball, in the order of the tarballs on the command line")
	}
	if len(bad) == 1 {
		i := bad[0]
		return fmt.Errorf("publishing %s: %w", tarballs[i].Path, checkPin(tarballs[i].Integrity, got[i].sum.integrity, false))
	}
	var b strings.Builder
	for _, i := range bad {
		fmt.Fprintf(&b, "\n  %s:\n    pinned:  %s\n    tarball: %s", tarballs[i].Path, pinDigest(tarballs[i].Integrity), got[i].sum.integrity)
	}
	return hint.With(fmt.Errorf("%w for %d of %d tarballs:%s", ErrDigestMismatch, len(bad), len(tarballs), b.String()),
		"the artifacts changed between the pack job and this job: do not publish them; rebuild from a trusted source")
}

// pinOrder returns, when every pin is the digest of exactly one tarball,
// which tarball each pin belongs to; nil otherwise.
func pinOrder(tarballs []Tarball, got []opened) []int {
	order := make([]int, len(tarballs))
	used := make([]bool, len(got))
	for i, tb := range tarballs {
		want := pinDigest(tb.Integrity)
		order[i] = -1
		for j, o := range got {
			if !used[j] && want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(o.sum.integrity)) == 1 {
				order[i], used[j] = j, true
				break
			}
		}
		if order[i] < 0 {
			return nil
		}
	}
	return order
}

// release is a tarball that passed every check, with what sending it
// takes.
type release struct {
	tb   Tarball
	f    *os.File
	sum  digests
	res  *Result
	doc  *registry.PublishDoc
	plan plan
	auth registry.Auth
	// action is what sending does: upload the version, or only point the
	// dist-tag at a version the registry already has, or nothing.
	action action
	// prov is the provenance request, when a bundle is to be attached.
	prov *attest.Request
}

type action int

const (
	upload action = iota
	tagOnly
	nothing
)

// prepare runs every check of one tarball that can run without changing
// anything: inspection, npm's rules, credentials, what the registry has,
// and the provenance refusals.
func prepare(ctx context.Context, tb Tarball, o opened, opts Options) (*release, error) {
	f, sum := o.f, o.sum
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	contents, kept, err := inspect.TarballKeeping(ctx, f, sum.size, opts.Limits, publishdoc.Wants)
	if err != nil {
		return nil, fmt.Errorf("inspecting tarball: %w", err)
	}
	m := contents.Manifest
	if tb.Name != "" && (m.Name != tb.Name || m.Version != tb.Version) {
		return nil, fmt.Errorf("the tarball holds %s, but the release manifest lists %s@%s for it", m.ID(), tb.Name, tb.Version)
	}
	res := &Result{ID: m.ID(), Name: m.Name, Version: m.Version, Tarball: tb.Path, Size: sum.size, Integrity: sum.integrity, Shasum: sum.shasum}
	r := &release{tb: tb, f: f, sum: sum, res: res}

	pkg, err := readPublishFields(contents.PackageJSON)
	if err != nil {
		return nil, err
	}
	if pkg.private {
		return nil, hint.With(fmt.Errorf("%s: %w", m.ID(), ErrPrivate), `remove "private": true from package.json to publish it`)
	}
	if err := refuseLocalSpecs(m.ID(), contents.PackageJSON, opts.Logger); err != nil {
		return nil, err
	}
	cfg := opts.Config.WithPublishConfig(pkg.publishConfig)
	p, err := planRelease(m, cfg, pkg)
	if err != nil {
		return nil, err
	}
	r.plan = p
	res.Registry, res.Tag, res.Access = p.registry, p.tag, p.access
	res.Notes = append(res.Notes, p.notes...)

	// Authentication is the config's, already resolved: a tarball's
	// publishConfig cannot choose credentials. A dry run fails here as
	// the real run would.
	header, source, err := opts.Auth.Authorization(ctx, p.registry, m.Name)
	if err != nil {
		return nil, fmt.Errorf("authenticating to %s: %w", p.registry, err)
	}
	r.auth = bearer(header)
	res.AuthSource = source
	if otp, _ := cfg.Get("otp"); otp != "" {
		r.auth = withOTP(r.auth, otp)
	}

	doc, tag, err := buildDocument(contents, kept, sum, p, opts.ToolVersion, opts.Cwd, tb.Path)
	if err != nil {
		return nil, fmt.Errorf("building the publish document: %w", err)
	}
	r.doc = doc
	res.Tag = tag // a "tag" field in package.json wins, as in npm
	tagChosen := p.tagChosen || tag != p.tag

	// What the registry already has decides whether this is a re-run of
	// a release that landed, a conflict, or a move of "latest" backwards.
	packument, err := opts.Client.Packument(ctx, p.registry, m.Name, r.auth)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		packument = nil
	case err != nil:
		return nil, fmt.Errorf("reading what the registry has of %s: %w", m.Name, err)
	}
	if packument != nil {
		if v, ok := packument.Versions[m.Version]; ok {
			if v.Dist.Integrity != sum.integrity {
				same, why, err := r.sameContents(ctx, v.Dist, opts)
				if err != nil {
					return nil, fmt.Errorf("%s is on the registry with another integrity; comparing its contents: %w", m.ID(), err)
				}
				if !same {
					return nil, hint.With(fmt.Errorf("%s: %w (registry has %s, tarball is %s): %s", m.ID(), ErrVersionExists, orNone(v.Dist.Integrity), sum.integrity, why),
						"versions are immutable on npm: bump the version in package.json and pack again")
				}
				res.Notes = append(res.Notes, fmt.Sprintf("the registry's tarball of %s has another integrity (%s) but the same files, bytes and modes: another gzip of the same package", m.ID(), v.Dist.Integrity))
			}
			if err := r.rerun(packument.DistTags[tag], tagChosen, opts); err != nil {
				return nil, err
			}
			if v.Dist.Integrity != sum.integrity && res.Outcome == registry.AlreadyPublished.String() {
				res.Outcome = sameContentsOutcome
			}
			return r, nil
		}
		if err := checkLatest(plan{tag: tag, tagChosen: tagChosen}, m.Version, packument); err != nil {
			return nil, err
		}
	}
	if opts.Provenance != nil {
		if err := r.checkProvenance(ctx, opts); err != nil {
			return nil, err
		}
	}
	if opts.DryRun {
		var b bytes.Buffer
		if err := doc.Encode(&b, nil); err != nil {
			return nil, err
		}
		var indented bytes.Buffer
		if err := json.Indent(&indented, b.Bytes(), "", "  "); err != nil {
			return nil, err
		}
		res.Document = indented.String()
		res.Outcome = "dry run"
	}
	return r, nil
}

// sameContentsOutcome is the outcome of a version the registry has with
// another integrity but the same contents.
const sameContentsOutcome = "already published (same contents)"

// sameContents downloads the registry's tarball of the version and
// compares what it holds with this tarball: the same files, with the same
// bytes and modes, are the same package whatever the gzip around them (a
// re-run of a build whose compression differs, or a version packed by
// another tool). why says what differs.
func (r *release) sameContents(ctx context.Context, dist registry.Dist, opts Options) (same bool, why string, err error) {
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		return false, "", err
	}
	ours, ourSums, err := inspect.TarballDigests(ctx, r.f, r.sum.size, opts.Limits)
	if err != nil {
		return false, "", err
	}
	max := max(4*r.sum.size, r.sum.size+16<<20)
	data, err := opts.Client.Tarball(ctx, r.plan.registry, dist.Tarball, max, r.auth)
	if err != nil {
		return false, "", err
	}
	if got := integrityOf(data); got != dist.Integrity && !strings.Contains(dist.Integrity, got) {
		return false, "", fmt.Errorf("the registry's tarball does not match its own integrity %s", orNone(dist.Integrity))
	}
	theirs, theirSums, err := inspect.TarballDigests(ctx, bytes.NewReader(data), int64(len(data)), opts.Limits)
	if err != nil {
		return false, "", fmt.Errorf("the registry's tarball: %w", err)
	}
	return compareFiles(ours.Files, ourSums, theirs.Files, theirSums)
}

// compareFiles reports whether two packages hold the same files, and
// otherwise the first difference.
func compareFiles(a []inspect.File, aSums map[string]inspect.Digest, b []inspect.File, bSums map[string]inspect.Digest) (bool, string, error) {
	bByPath := make(map[string]inspect.File, len(b))
	for _, f := range b {
		bByPath[f.Path] = f
	}
	for _, f := range a {
		g, ok := bByPath[f.Path]
		switch {
		case !ok:
			return false, f.Path + " is only in this tarball", nil
		case aSums[f.Path] != bSums[f.Path]:
			return false, f.Path + " has other contents", nil
		case f.Mode != g.Mode:
			return false, fmt.Sprintf("%s has mode %o here, %o on the registry", f.Path, f.Mode, g.Mode), nil
		}
		delete(bByPath, f.Path)
	}
	if len(bByPath) > 0 {
		left := slices.Sorted(maps.Keys(bByPath))
		return false, left[0] + " is only in the registry's tarball", nil
	}
	return true, "", nil
}

func integrityOf(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// rerun decides what a release of a version the registry already has,
// with the same integrity, still has to do: nothing when the tag already
// points at it; point the tag at it when the tag was asked for; leave a
// default "latest" that has moved on where it is. It never reports as
// done what it did not do.
func (r *release) rerun(current string, tagChosen bool, opts Options) error {
	res := r.res
	switch {
	case current == res.Version:
		r.action, res.Outcome = nothing, registry.AlreadyPublished.String()
		return nil
	case !tagChosen:
		r.action, res.Outcome = nothing, registry.AlreadyPublished.String()
		res.Notes = append(res.Notes, fmt.Sprintf("the %q tag points at %s, not %s; it was left as it is (pass --tag %s to move it)", res.Tag, orNone(current), res.Version, res.Tag))
		return nil
	case opts.Stage:
		return hint.With(fmt.Errorf("%s is already published; the dist-tag %q was not applied: --stage does not move tags", res.ID, res.Tag),
			fmt.Sprintf("a maintainer can point it at the version: npm dist-tag add %s %s", res.ID, res.Tag))
	}
	r.action = tagOnly
	if opts.DryRun {
		res.Outcome = "dry run"
		res.Notes = append(res.Notes, fmt.Sprintf("%s is already published; the %q tag would be pointed at it (it points at %s)", res.ID, res.Tag, orNone(current)))
	}
	return nil
}

// send does what the release still has to do, on the registry.
func (r *release) send(ctx context.Context, opts Options) error {
	res := r.res
	switch r.action {
	case nothing:
		return nil
	case tagOnly:
		if err := opts.Client.SetDistTag(ctx, r.plan.registry, res.Name, res.Tag, res.Version, r.auth); err != nil {
			return hint.With(fmt.Errorf("%s is already published, but the dist-tag %q was not applied: %w", res.ID, res.Tag, err),
				fmt.Sprintf("point it at the version with a maintainer's credentials: npm dist-tag add %s %s", res.ID, res.Tag))
		}
		res.Outcome = "tagged"
		return nil
	}
	// The upload reads the file already open, the one hashed: the client
	// checks size and digest again as it streams.
	open := func() (io.ReadCloser, int64, error) {
		return io.NopCloser(io.NewSectionReader(r.f, 0, r.sum.size)), r.sum.size, nil
	}
	if opts.Stage {
		sr, err := opts.Client.Stage(ctx, r.plan.registry, res.Name, *r.doc, open, r.auth)
		if err != nil {
			return err
		}
		res.Outcome, res.StageID = "staged", sr.StageID
		return nil
	}
	pr, err := opts.Client.Publish(ctx, r.plan.registry, res.Name, *r.doc, open, r.auth)
	if pr != nil && pr.Outcome == registry.AlreadyPublished {
		// Another run won the race with the same tarball: nothing to do.
		res.Outcome = pr.Outcome.String()
		return nil
	}
	if err != nil {
		return err
	}
	res.Outcome = pr.Outcome.String()
	return nil
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
	want := pinDigest(pin)
	if want == "" {
		return hint.With(fmt.Errorf("integrity pin %q has no sha512 digest", pin), "airlock pack prints the sha512 integrity; pass it as --integrity sha512-…")
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return hint.With(fmt.Errorf("%w:\n  pinned:  %s\n  tarball: %s", ErrDigestMismatch, want, got),
			"the artifact changed between the pack job and this job: do not publish it; rebuild from a trusted source")
	}
	return nil
}

// pinDigest is the sha512 digest of an SRI pin, "" when it has none.
func pinDigest(pin string) string {
	for _, tok := range strings.Fields(pin) {
		if strings.HasPrefix(tok, "sha512-") {
			want, _, _ := strings.Cut(tok, "?")
			return want
		}
	}
	return ""
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

// refuseLocalSpecs refuses a package whose dependencies an install from
// the registry cannot resolve (workspace:, catalog:, link:, a file: path
// out of the package), and warns of such devDependencies, as pack does.
func refuseLocalSpecs(id string, pkgJSON []byte, log *slog.Logger) error {
	if err := manifest.CheckLocalSpecs(pkgJSON, func(w string) { log.Warn(id + ": " + w) }); err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	return nil
}
