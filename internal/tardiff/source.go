package tardiff

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/manifest"
	"github.com/airlockdev/airlock/internal/registry"
)

// SourceKind is what kind of tarball an argument names.
type SourceKind int

const (
	// SourceFile is a tarball on disk.
	SourceFile SourceKind = iota
	// SourcePublished is name@version (or name@tag) on the registry.
	SourcePublished
	// SourceStaged is stage:ID, a version staged on the registry.
	SourceStaged
)

// Source is a tarball named on the command line.
type Source struct {
	Kind SourceKind
	// Path is the file, for SourceFile.
	Path string
	// Name and Version (or a dist-tag), for SourcePublished.
	Name, Version string
	// StageID, for SourceStaged.
	StageID string
}

func (s Source) String() string {
	switch s.Kind {
	case SourcePublished:
		return s.Name + "@" + s.Version
	case SourceStaged:
		return "stage:" + s.StageID
	}
	return s.Path
}

// ErrSource: an argument names no tarball airlock can read.
var ErrSource = errors.New("not a tarball, name@version or stage:ID")

// ParseSource reads an argument: "stage:ID"; a path (it exists, holds a
// path separator, or ends in .tgz or .tar.gz); or name@version, where the
// version may be a dist-tag.
func ParseSource(arg string) (Source, error) {
	if id, ok := strings.CutPrefix(arg, "stage:"); ok {
		if !registry.IsStageID(id) {
			return Source{}, hint.With(fmt.Errorf("%w: %q: a stage ID is a UUID", ErrSource, arg), "copy the ID from 'airlock stage list'")
		}
		return Source{Kind: SourceStaged, StageID: strings.ToLower(id)}, nil
	}
	if st, err := os.Stat(arg); err == nil && !st.IsDir() {
		return Source{Kind: SourceFile, Path: arg}, nil
	}
	if strings.ContainsAny(arg, `/\`) && !strings.HasPrefix(arg, "@") || strings.HasSuffix(arg, ".tgz") || strings.HasSuffix(arg, ".tar.gz") || filepath.IsAbs(arg) {
		return Source{Kind: SourceFile, Path: arg}, nil
	}
	at := strings.LastIndexByte(arg, '@')
	if at <= 0 || at == len(arg)-1 {
		return Source{}, hint.With(fmt.Errorf("%w: %q", ErrSource, arg), "name a .tgz file, a published version as name@version, or a staged one as stage:ID")
	}
	name, version := arg[:at], arg[at+1:]
	if err := manifest.ValidateName(name); err != nil {
		return Source{}, fmt.Errorf("%w: %q: %w", ErrSource, arg, err)
	}
	if strings.ContainsAny(version, " <>=^~|*") {
		return Source{}, hint.With(fmt.Errorf("%w: %q: a range names no single version", ErrSource, arg), "give an exact version or a dist-tag, e.g. "+name+"@latest")
	}
	return Source{Kind: SourcePublished, Name: name, Version: version}, nil
}

// Loader reads the tarball a Source names.
type Loader struct {
	Client *registry.Client
	// Registry is where published versions are fetched, with Auth
	// (nil for anonymous requests).
	Registry string
	Auth     registry.Auth
	// MaxSize bounds a downloaded tarball; 0 means 256 MiB.
	MaxSize int64
	Limits  Limits
	// Staged fetches a staged version's tarball, checked against the
	// staged record; nil refuses stage:ID.
	Staged func(ctx context.Context, id string) ([]byte, error)
	// Provenance looks up and verifies the provenance of versions from
	// the registry (published or staged), with Verify's trusted root.
	// The identity is not checked: Compare reports who built each.
	Provenance bool
	Verify     attest.VerifyOptions
	HTTP       *http.Client
	UserAgent  string
}

const defaultMaxSize = 256 << 20

// Load fetches and reads src.
func (l *Loader) Load(ctx context.Context, src Source) (*Package, error) {
	data, src, err := l.Fetch(ctx, src)
	if err != nil {
		return nil, err
	}
	p, err := Read(ctx, src.String(), data, l.Limits)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", src, err)
	}
	if src.Kind == SourcePublished && (p.Manifest.Name != src.Name || p.Manifest.Version != src.Version) {
		return nil, fmt.Errorf("%s: the tarball's package.json says %s", src, p.Manifest.ID())
	}
	if l.Provenance && src.Kind != SourceFile {
		if p.Provenance, err = l.provenance(ctx, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Fetch returns the bytes of the tarball src names, and src with a
// dist-tag resolved to its version. A published tarball is checked
// against the registry's integrity, a staged one by Staged; neither is
// inspected yet.
func (l *Loader) Fetch(ctx context.Context, src Source) ([]byte, Source, error) {
	var data []byte
	var err error
	switch src.Kind {
	case SourceFile:
		data, err = readFile(src.Path, l.maxSize())
	case SourcePublished:
		var version string
		data, version, err = l.published(ctx, src.Name, src.Version)
		if err == nil {
			src.Version = version
		}
	case SourceStaged:
		if l.Staged == nil {
			return nil, src, fmt.Errorf("%s: staged versions cannot be read here", src)
		}
		data, err = l.Staged(ctx, src.StageID)
	}
	return data, src, err
}

func (l *Loader) maxSize() int64 {
	if l.MaxSize > 0 {
		return l.MaxSize
	}
	return defaultMaxSize
}

func readFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the tarball: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("opening the tarball: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > max {
		return nil, hint.With(fmt.Errorf("%s: %d bytes, more than the %d allowed", path, st.Size(), max), "raise the limit with --max-size if the package really is this large")
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return b.Bytes(), nil
}

// ErrIntegrity: the registry served a tarball its packument does not
// vouch for.
var ErrIntegrity = errors.New("the tarball does not match the registry's integrity")

// published downloads name@version (or a dist-tag), checked against the
// packument's dist.integrity.
func (l *Loader) published(ctx context.Context, name, version string) ([]byte, string, error) {
	id := name + "@" + version
	c := l.Client
	if c == nil {
		c = &registry.Client{}
	}
	doc, err := c.Packument(ctx, l.Registry, name, l.Auth)
	if err != nil {
		return nil, "", fmt.Errorf("fetching %s: %w", id, err)
	}
	if v, ok := doc.DistTags[version]; ok {
		if _, exact := doc.Versions[version]; !exact {
			version = v
			id = name + "@" + version
		}
	}
	v, ok := doc.Versions[version]
	if !ok {
		return nil, "", fmt.Errorf("fetching %s: %w: the registry has no version or dist-tag %q", id, registry.ErrNotFound, registry.Sanitize(version, nil))
	}
	want, err := sha512Of(v.Dist.Integrity)
	if err != nil {
		return nil, "", fmt.Errorf("fetching %s: %w", id, err)
	}
	data, err := c.Tarball(ctx, l.Registry, v.Dist.Tarball, l.maxSize(), l.Auth)
	if err != nil {
		return nil, "", fmt.Errorf("fetching %s: %w", id, err)
	}
	if got := sha512.Sum512(data); !bytes.Equal(got[:], want) {
		return nil, "", hint.With(fmt.Errorf("fetching %s: %w: dist.integrity is %s, the tarball served is sha512-%s", id, ErrIntegrity,
			registry.Sanitize(v.Dist.Integrity, nil), base64.StdEncoding.EncodeToString(got[:])),
			"the registry or something between it and you served other bytes than it lists: do not trust this tarball")
	}
	return data, version, nil
}

// sha512Of reads the sha512 of an SRI string.
func sha512Of(sri string) ([]byte, error) {
	for _, h := range strings.Fields(sri) {
		algo, digest, _ := strings.Cut(h, "-")
		if algo != "sha512" {
			continue
		}
		if i := strings.IndexByte(digest, '?'); i >= 0 {
			digest = digest[:i]
		}
		sum, err := base64.StdEncoding.DecodeString(digest)
		if err == nil && len(sum) == sha512.Size {
			return sum, nil
		}
	}
	return nil, hint.With(fmt.Errorf("%w: dist.integrity %q holds no sha512", ErrIntegrity, registry.Sanitize(sri, nil)),
		"versions published before npm 5 have only a sha1 shasum, which airlock does not trust to identify a tarball")
}

// provenance fetches and verifies the provenance of a registry version.
// No provenance is a result; a registry that cannot be asked is an error.
func (l *Loader) provenance(ctx context.Context, p *Package) (*Provenance, error) {
	name, version := p.Manifest.Name, p.Manifest.Version
	bundle, err := attest.FetchBundle(ctx, name, version, attest.FetchOptions{Registry: l.Registry, HTTP: l.HTTP, UserAgent: l.UserAgent})
	if errors.Is(err, attest.ErrNoProvenance) {
		return &Provenance{}, nil
	}
	if errors.Is(err, attest.ErrBundle) {
		return &Provenance{Found: true, Error: err.Error()}, nil
	}
	if err != nil {
		return nil, err
	}
	return VerifyProvenance(bundle, p, l.Verify), nil
}

// VerifyProvenance verifies bundle as the provenance of p with o, and
// says what it found; a bundle that does not verify is a result too.
func VerifyProvenance(bundle []byte, p *Package, o attest.VerifyOptions) *Provenance {
	if o.Policy.Repository == "" {
		o.AnyIdentity = true
	}
	v, err := attest.VerifyBundle(bundle, attest.Subject{Name: p.Manifest.Name, Version: p.Manifest.Version, SHA512: p.SHA512}, o)
	if err != nil {
		return &Provenance{Found: true, Error: err.Error()}
	}
	return &Provenance{Found: true, Verified: true, Issuer: v.Issuer, Repository: v.Repository, Workflow: v.Workflow,
		Ref: v.Ref, Commit: v.Commit, Runner: v.RunnerEnvironment, LogIndex: v.LogIndex}
}
