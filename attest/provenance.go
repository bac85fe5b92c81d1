package attest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/idtoken"
)

// Source makes or checks the provenance bundle of a version: Keyless
// signs one in the CI, Given attaches one made elsewhere.
type Source interface {
	// Check says whether to attach provenance, or why it cannot be; it
	// signs nothing.
	Check(ctx context.Context, r Request) (bool, error)
	// Bundle returns the bundle to attach, after Check said yes.
	Bundle(ctx context.Context, r Request) ([]byte, error)
}

// Choice is the user's provenance flags.
type Choice struct {
	On, Off bool   // --provenance, --no-provenance
	File    []byte // the contents of --provenance-file
	// TrustedOIDC says the publish authenticates with trusted
	// publishing, where npm turns provenance on by itself.
	TrustedOIDC bool
	Env         *idtoken.Env
	Sign        SignOptions
	Verify      VerifyOptions
	HTTP        *http.Client
}

// Choose applies npm's rules: a file is attached as given; --provenance
// signs; without either, provenance is on where npm turns it on by itself
// (trusted publishing, outside CircleCI, from a public repository, for a
// package the registry lists as public), unless --no-provenance. It
// returns nil for no provenance.
func Choose(c Choice) (Source, error) {
	switch {
	case c.File != nil && (c.On || c.Off):
		return nil, errors.New("--provenance-file cannot be combined with --provenance or --no-provenance")
	case c.On && c.Off:
		return nil, errors.New("--provenance and --no-provenance are exclusive")
	case c.File != nil:
		v := c.Verify
		v.AnyIdentity = v.Policy.Repository == ""
		return &Given{Data: c.File, Verify: v}, nil
	case c.On:
		return &Keyless{Env: c.Env, Sign: c.Sign, HTTP: c.HTTP}, nil
	case c.Off, !c.TrustedOIDC, c.Env.Provider() == idtoken.CircleCI:
		return nil, nil
	}
	return &Keyless{Env: c.Env, Auto: true, Sign: c.Sign, HTTP: c.HTTP}, nil
}

// Request is what a provenance source is asked about one version, once
// every other check of the publish has passed.
type Request struct {
	Subject Subject
	// RepositoryURL is repository.url of the manifest as published ("" if
	// none): the registry refuses provenance that names another
	// repository.
	RepositoryURL string
	// Public is whether the version will be public: --access public, or a
	// package the registry says is public.
	Public bool
	// Listed is whether the registry says the package is public (npm asks
	// before it turns provenance on by itself; a new package is not).
	Listed bool
}

// Keyless makes provenance in the CI job, as npm publish --provenance
// does: the statement npm builds, signed with a Fulcio certificate for the
// job's OIDC identity and logged in Rekor.
type Keyless struct {
	Env *idtoken.Env
	// Auto marks provenance npm would turn on by itself (trusted
	// publishing from a public repository): where npm would not, Check
	// says no instead of failing.
	Auto bool
	Sign SignOptions
	HTTP *http.Client

	token idtoken.Token
	// statements are those Check built, by name@version: a release of
	// several packages checks them all before it signs the first.
	statements map[string][]byte
}

// Check decides whether to sign and finds, before anything is signed or
// logged, what would make the registry refuse the provenance: an
// unsupported CI, no ID-token permission, a version that is not public, a
// self-hosted runner, a private source repository, a repository.url that
// names another repository.
func (k *Keyless) Check(ctx context.Context, r Request) (bool, error) {
	lookup := k.Env.Lookup
	stmt, err := Statement(r.Subject, lookup)
	if err != nil {
		if k.Auto && errors.Is(err, ErrUnsupportedCI) {
			return false, nil
		}
		return false, err
	}
	if k.Auto && !r.Listed {
		return false, nil
	}
	if !r.Public {
		return false, hint.With(errors.New("can't generate provenance for new or private package, you must set `access` to public"),
			"pass --access public (provenance is public: it names the repository and workflow)")
	}
	tok, err := idtoken.Fetcher{Env: k.Env, HTTP: k.HTTP}.Sigstore(ctx)
	if err != nil {
		if k.Auto {
			return false, nil
		}
		return false, err
	}
	k.token = tok
	if k.statements == nil {
		k.statements = map[string][]byte{}
	}
	k.statements[r.Subject.Name+"@"+r.Subject.Version] = stmt
	gitlab := k.Env.Provider() == idtoken.GitLabCI
	visibility, _ := tok.Claims.String("repository_visibility")
	if gitlab {
		visibility, _ = tok.Claims.String("project_visibility")
	}
	if tok.Claims != nil && visibility != "public" {
		if k.Auto {
			return false, nil
		}
		return false, hint.With(fmt.Errorf("the source repository is %s, not public: the registry refuses provenance from non-public repositories", orUnknown(visibility)),
			"publish without provenance (--no-provenance), or from a public repository")
	}
	if v, _ := lookup("RUNNER_ENVIRONMENT"); !gitlab && v == "self-hosted" {
		return false, hint.With(errors.New("the job runs on a self-hosted runner: the registry refuses provenance from self-hosted runners"),
			"publish from a GitHub-hosted runner, or without provenance (--no-provenance)")
	}
	want := sourceRepository(lookup, gitlab)
	if !sameRepository(r.RepositoryURL, want) {
		return false, hint.With(fmt.Errorf(`package.json's "repository.url" is %q, but the provenance names %q: the registry refuses provenance whose repository does not match`, r.RepositoryURL, want),
			`set "repository": {"type": "git", "url": "git+`+want+`.git"} in package.json and pack again`)
	}
	return true, nil
}

// Bundle signs the statement for r. Check must have said yes.
func (k *Keyless) Bundle(ctx context.Context, r Request) ([]byte, error) {
	stmt := k.statements[r.Subject.Name+"@"+r.Subject.Version]
	if k.token.Value.IsZero() || stmt == nil {
		return nil, errors.New("provenance: Bundle called before Check")
	}
	o := k.Sign
	o.IDToken = func(context.Context) (string, error) { return k.token.Value.Reveal(), nil }
	return Sign(ctx, stmt, o)
}

// Given attaches a bundle made elsewhere (--provenance-file), after
// checking its signature and transparency-log entry, and that it is about
// this version of this tarball. It is never replaced by another.
type Given struct {
	Data   []byte
	Verify VerifyOptions
}

func (g *Given) Check(_ context.Context, r Request) (bool, error) {
	if _, err := VerifyBundle(g.Data, r.Subject, g.Verify); err != nil {
		return false, fmt.Errorf("the provenance file: %w", err)
	}
	return true, nil
}

// Bundle returns the given bundle, compacted as npm compacts it
// (JSON.stringify of the parsed file): the same bundle, without the
// file's white space.
func (g *Given) Bundle(context.Context, Request) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, g.Data); err != nil {
		return nil, fmt.Errorf("the provenance file is not JSON: %w", err)
	}
	return b.Bytes(), nil
}

// MediaType reads a bundle's mediaType, the attachment's content type.
func MediaType(bundle []byte) (string, error) {
	var b struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil || !strings.HasPrefix(b.MediaType, "application/vnd.dev.sigstore.bundle") {
		return "", errors.New("not a Sigstore bundle: no application/vnd.dev.sigstore.bundle mediaType")
	}
	return b.MediaType, nil
}

// sourceRepository is the repository the provenance names.
func sourceRepository(lookup func(string) (string, bool), gitlab bool) string {
	if gitlab {
		v, _ := lookup("CI_PROJECT_URL")
		return v
	}
	server, _ := lookup("GITHUB_SERVER_URL")
	repo, _ := lookup("GITHUB_REPOSITORY")
	return server + "/" + repo
}

// sameRepository compares a package.json repository URL with the
// provenance's source repository, ignoring the forms npm and git accept
// for the same place: git+, .git, ssh or git schemes, case, a trailing /.
func sameRepository(pkgURL, source string) bool {
	a, b := repoKey(pkgURL), repoKey(source)
	return a != "" && a == b
}

func repoKey(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "git+")
	if strings.HasPrefix(s, "git@") { // scp-like: git@host:owner/repo
		s = "ssh://" + strings.Replace(strings.TrimPrefix(s, "git@"), ":", "/", 1)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")
	return strings.ToLower(u.Hostname() + p)
}

func orUnknown(s string) string {
	if s == "" {
		return "of unknown visibility"
	}
	return s
}

// LogIndex is the index of a bundle's first transparency-log entry, or -1.
func LogIndex(bundle []byte) int64 {
	var b struct {
		VerificationMaterial struct {
			TlogEntries []struct {
				LogIndex json.Number `json:"logIndex"`
			} `json:"tlogEntries"`
		} `json:"verificationMaterial"`
	}
	if json.Unmarshal(bundle, &b) != nil || len(b.VerificationMaterial.TlogEntries) == 0 {
		return -1
	}
	if b.VerificationMaterial.TlogEntries[0].LogIndex == "" {
		return 0 // protobuf JSON leaves out a zero
	}
	n, err := b.VerificationMaterial.TlogEntries[0].LogIndex.Int64()
	if err != nil {
		return -1
	}
	return n
}
