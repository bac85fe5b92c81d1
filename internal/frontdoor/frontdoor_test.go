package frontdoor

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/oidcissuer"
	"github.com/airlockdev/airlock/internal/registrytest"
)

// world is what every front door test shares: one Verdaccio, a GitHub and
// a GitLab issuer, and registry users. Each test uses its own packages.
type world struct {
	reg    *registrytest.Server
	gh, gl *oidcissuer.Issuer
	admin  string // token of the front door's own registry account
	alice  string // token of alice, who has 2FA
	bob    string // token of bob, who has none
	secret []byte // alice's TOTP secret
	seq    atomic.Int64
}

func newWorld(t *testing.T) *world {
	w := &world{reg: registrytest.Start(t), secret: []byte("alice-totp-secret-0123")}
	w.admin = w.reg.AddUser(t, "frontdoor", "frontdoor-password-1")
	w.alice = w.reg.AddUser(t, "alice", "alice-password-1")
	w.bob = w.reg.AddUser(t, "bob", "bob-password-1")
	for _, iss := range []**oidcissuer.Issuer{&w.gh, &w.gl} {
		i, err := oidcissuer.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(i.Close)
		*iss = i
	}
	return w
}

// pkg returns a package name no other test uses.
func (w *world) pkg(base string) string {
	return fmt.Sprintf("%s-%d", base, w.seq.Add(1))
}

// door is a running front door with a clock tests can move.
type door struct {
	*Server
	url    string
	offset atomic.Int64 // added to the real time
	logs   *bytes.Buffer
}

func (d *door) advance(by time.Duration) { d.offset.Add(int64(by)) }

func (w *world) door(t *testing.T, publishers map[string][]TrustedPublisher) *door {
	t.Helper()
	d := &door{logs: &bytes.Buffer{}}
	var mu sync.Mutex
	srv, err := New(Config{
		Upstream:     w.reg.URL(),
		UpstreamAuth: "Bearer " + w.admin,
		Issuers:      map[string]string{w.gh.URL(): "github", w.gl.URL(): "gitlab"},
		Publishers:   publishers,
		OTPSecrets:   map[string][]byte{"alice": w.secret},
		Now:          func() time.Time { return time.Now().Add(time.Duration(d.offset.Load())) },
		Logger:       slog.New(slog.NewTextHandler(lockedWriter{&mu, d.logs}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Server = srv
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	d.url = ts.URL
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, secret := range []string{w.admin, w.alice, w.bob} {
			if strings.Contains(d.logs.String(), secret) {
				t.Errorf("the front door logged a token:\n%s", d.logs)
			}
		}
		if strings.Contains(d.logs.String(), tokenPrefix) || strings.Contains(d.logs.String(), "eyJ") {
			t.Errorf("the front door logged a token:\n%s", d.logs)
		}
	})
	return d
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var release = oidcissuer.GitHubRun{Repository: "acme/widget", Workflow: "release.yml", Ref: "refs/tags/v1.0.0", Actor: "octocat"}

func githubPublisher(actions ...string) TrustedPublisher {
	return TrustedPublisher{Provider: "github", Repository: "acme/widget", Workflow: "release.yml", Actions: actions}
}

// idToken mints a GitHub ID token for run, for the front door at d.
func (w *world) idToken(t testing.TB, run oidcissuer.GitHubRun, o oidcissuer.Options) string {
	t.Helper()
	if o.Audience == "" {
		o.Audience = "npm:127.0.0.1"
	}
	tok, err := w.gh.Mint(oidcissuer.GitHubClaims(run), o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (d *door) exchange(t testing.TB, pkg, idToken string) answer {
	t.Helper()
	return do(t, http.MethodPost, d.url+"/-/npm/v1/oidc/token/exchange/package/"+escapeName(pkg), nil, bearerHeader(idToken)...)
}

// token exchanges idToken for a token for pkg, failing unless it works.
func (d *door) token(t testing.TB, pkg, idToken string) string {
	t.Helper()
	a := d.exchange(t, pkg, idToken)
	wantStatus(t, "exchanging an ID token", a, http.StatusCreated)
	tok, _ := a.json(t)["token"].(string)
	if len(tok) != len(tokenPrefix)+36 || !strings.HasPrefix(tok, tokenPrefix) {
		t.Fatalf("exchange answered token %q, want npm_ and 36 base62 characters", tok)
	}
	return tok
}

func (d *door) put(t testing.TB, pkg string, b []byte, hdr ...string) answer {
	t.Helper()
	return do(t, http.MethodPut, d.url+"/"+escapeName(pkg), b, hdr...)
}

// publishFirst publishes pkg@1.0.0 as alice: npm needs a package to exist
// before it can have a trusted publisher.
func (w *world) publishFirst(t testing.TB, d *door, pkg string) {
	t.Helper()
	a := d.put(t, pkg, publishBody(pkg, "1.0.0", tarball(t, pkg, "1.0.0"), nil).encode(t), bearerHeader(w.alice)...)
	wantStatus(t, "publishing the first version as a user", a, http.StatusCreated)
}

func versionsOf(t testing.TB, reg *registrytest.Server, pkg string) map[string]any {
	t.Helper()
	v, _ := reg.Packument(t, pkg)["versions"].(map[string]any)
	return v
}

func TestFrontDoor(t *testing.T) {
	w := newWorld(t)

	t.Run("ExchangeRefusals", func(t *testing.T) {
		pkg := w.pkg("refused")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {{Provider: "github", Repository: "acme/widget", Workflow: "release.yml", Environment: "production"}}})
		w.publishFirst(t, d, pkg)
		prod := release
		prod.Environment = "production"
		foreignRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
		mint := func(run oidcissuer.GitHubRun, o oidcissuer.Options) func(t *testing.T) string {
			return func(t *testing.T) string { return w.idToken(t, run, o) }
		}
		withRun := func(f func(*oidcissuer.GitHubRun)) oidcissuer.GitHubRun {
			r := prod
			f(&r)
			return r
		}
		noWorkflowRef := func(t *testing.T) string {
			c := oidcissuer.GitHubClaims(prod)
			delete(c, "workflow_ref")
			tok, err := w.gh.Mint(c, oidcissuer.Options{Audience: "npm:127.0.0.1"})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		hs256 := func(*testing.T) string {
			enc := base64.RawURLEncoding.EncodeToString
			return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(`{"iss":"`+w.gh.URL()+`"}`)) + "." + enc([]byte("mac"))
		}
		for _, tc := range []struct {
			name   string
			pkg    string
			token  func(*testing.T) string
			status int
			parts  []string
		}{
			{"NoBearer", pkg, func(*testing.T) string { return "" }, 401, []string{"no ID token"}},
			{"Garbage", pkg, func(*testing.T) string { return "not-a-jwt" }, 401, []string{"malformed"}},
			{"UnsupportedAlg", pkg, hs256, 401, []string{"HS256"}},
			{"WrongAudience", pkg, mint(prod, oidcissuer.Options{Audience: "npm:example.org"}), 401, []string{`"npm:example.org"`, `"npm:127.0.0.1"`, "aud"}},
			{"Expired", pkg, mint(prod, oidcissuer.Options{TTL: -time.Hour}), 401, []string{"expired at"}},
			{"NotYetValid", pkg, mint(prod, oidcissuer.Options{NotBefore: time.Now().Add(time.Hour)}), 401, []string{"not yet valid", "nbf"}},
			{"UnknownIssuer", pkg, mint(prod, oidcissuer.Options{Issuer: "https://token.actions.example"}), 401, []string{`issuer "https://token.actions.example" is not trusted`}},
			{"UnknownKid", pkg, mint(prod, oidcissuer.Options{Kid: "rotated-away"}), 401, []string{"rotated-away"}},
			{"BadSignature", pkg, mint(prod, oidcissuer.Options{SignWith: foreignRSA, Kid: oidcissuer.RSAKid}), 401, []string{"signature"}},
			{"MissingClaims", pkg, noWorkflowRef, 422, []string{"workflow_ref"}},
			{"NoPublisher", w.pkg("unconfigured"), mint(prod, oidcissuer.Options{}), 404, []string{"no trusted publisher configured"}},
			{"WrongRepository", pkg, mint(withRun(func(r *oidcissuer.GitHubRun) { r.Repository = "acme/other" }), oidcissuer.Options{}), 403, []string{`repository "acme/other" does not match the trusted publisher's "acme/widget"`}},
			{"WrongWorkflow", pkg, mint(withRun(func(r *oidcissuer.GitHubRun) { r.Workflow = "ci.yml" }), oidcissuer.Options{}), 403, []string{`workflow "ci.yml" does not match the trusted publisher's "release.yml"`}},
			{"WrongEnvironment", pkg, mint(withRun(func(r *oidcissuer.GitHubRun) { r.Environment = "staging" }), oidcissuer.Options{}), 403, []string{`environment "staging" does not match the trusted publisher's "production"`}},
			{"NoEnvironment", pkg, mint(release, oidcissuer.Options{}), 403, []string{`environment "" does not match`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tok := tc.token(t)
				a := d.exchange(t, tc.pkg, tok)
				wantMessage(t, "exchanging", a, tc.status, tc.parts...)
				if tok != "" && strings.Contains(string(a.body), tok) {
					t.Errorf("the answer holds the ID token: %s", a.body)
				}
			})
		}
	})

	t.Run("ExchangeRefusesPackageMissingUpstream", func(t *testing.T) {
		pkg := w.pkg("never-published")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}})
		a := d.exchange(t, pkg, w.idToken(t, release, oidcissuer.Options{}))
		wantMessage(t, "exchanging for a package the registry lacks", a, 404, "does not exist on the registry")
	})

	t.Run("ExchangeThenPublish", func(t *testing.T) {
		pkg := "@acme/" + w.pkg("widget")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}})
		w.publishFirst(t, d, pkg)
		tok := d.token(t, pkg, w.idToken(t, release, oidcissuer.Options{}))

		// Reading the package's documents works, and reaches the registry
		// without the token.
		a := do(t, http.MethodGet, d.url+"/"+escapeName(pkg), nil, bearerHeader(tok)...)
		wantStatus(t, "reading the packument with an exchanged token", a, http.StatusOK)

		a = d.put(t, pkg, publishBody(pkg, "1.0.1", tarball(t, pkg, "1.0.1"), nil).encode(t), bearerHeader(tok)...)
		wantStatus(t, "publishing with an exchanged token", a, http.StatusCreated)
		if _, ok := versionsOf(t, w.reg, pkg)["1.0.1"]; !ok {
			t.Fatalf("the registry does not have %s@1.0.1 after the publish", pkg)
		}
		if !strings.Contains(d.logs.String(), "octocat") {
			t.Errorf("the exchange log does not name the actor:\n%s", d.logs)
		}
	})

	t.Run("ExchangeES256", func(t *testing.T) {
		pkg := w.pkg("es256")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}})
		w.publishFirst(t, d, pkg)
		tok := d.token(t, pkg, w.idToken(t, release, oidcissuer.Options{Alg: "ES256"}))
		a := d.put(t, pkg, publishBody(pkg, "1.1.0", tarball(t, pkg, "1.1.0"), nil).encode(t), bearerHeader(tok)...)
		wantStatus(t, "publishing", a, http.StatusCreated)
	})

	t.Run("ExchangeForeignES256Key", func(t *testing.T) {
		pkg := w.pkg("es256-foreign")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}})
		w.publishFirst(t, d, pkg)
		foreign, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		a := d.exchange(t, pkg, w.idToken(t, release, oidcissuer.Options{Alg: "ES256", SignWith: foreign, Kid: oidcissuer.ECKid}))
		wantMessage(t, "exchanging a token signed with a foreign key", a, 401, "signature")
	})

	t.Run("ExchangeGitLab", func(t *testing.T) {
		pkg := w.pkg("gitlab")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {
			githubPublisher(),
			{Provider: "gitlab", Repository: "group/sub/project", Workflow: "ci/release.yml", Environment: "npm"},
		}})
		w.publishFirst(t, d, pkg)
		run := oidcissuer.GitLabRun{Project: "group/sub/project", ConfigPath: "ci/release.yml", Ref: "refs/tags/v2.0.0", Environment: "npm", User: "gitlab-user"}
		idTok, err := w.gl.Mint(oidcissuer.GitLabClaims(run), oidcissuer.Options{Audience: "npm:127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		tok := d.token(t, pkg, idTok)
		a := d.put(t, pkg, publishBody(pkg, "2.0.0", tarball(t, pkg, "2.0.0"), nil).encode(t), bearerHeader(tok)...)
		wantStatus(t, "publishing", a, http.StatusCreated)
		if _, ok := versionsOf(t, w.reg, pkg)["2.0.0"]; !ok {
			t.Fatalf("the registry does not have %s@2.0.0", pkg)
		}

		run.ConfigPath = ".gitlab-ci.yml"
		idTok, err = w.gl.Mint(oidcissuer.GitLabClaims(run), oidcissuer.Options{Audience: "npm:127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		wantMessage(t, "exchanging from another CI config", d.exchange(t, pkg, idTok), 403, `workflow ".gitlab-ci.yml" does not match the trusted publisher's "ci/release.yml"`)
	})

	t.Run("ExchangeConfiguredAudience", func(t *testing.T) {
		pkg := w.pkg("audience")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}})
		d.audience = "npm:registry.npmjs.org"
		w.publishFirst(t, d, pkg)
		wantMessage(t, "exchanging with the request host's audience", d.exchange(t, pkg, w.idToken(t, release, oidcissuer.Options{})), 401, `"npm:registry.npmjs.org"`)
		d.token(t, pkg, w.idToken(t, release, oidcissuer.Options{Audience: "npm:registry.npmjs.org"}))
	})

	t.Run("TokenForAnotherPackage", func(t *testing.T) {
		pkg, other := w.pkg("mine"), w.pkg("theirs")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}, other: {githubPublisher()}})
		w.publishFirst(t, d, pkg)
		w.publishFirst(t, d, other)
		tok := d.token(t, pkg, w.idToken(t, release, oidcissuer.Options{}))
		a := d.put(t, other, publishBody(other, "1.0.1", tarball(t, other, "1.0.1"), nil).encode(t), bearerHeader(tok)...)
		wantMessage(t, "publishing another package", a, 403, "token was issued for package "+pkg)
		a = do(t, http.MethodGet, d.url+"/"+other, nil, bearerHeader(tok)...)
		wantMessage(t, "reading another package", a, 403, "token was issued for package "+pkg)
		if _, ok := versionsOf(t, w.reg, other)["1.0.1"]; ok {
			t.Fatalf("%s@1.0.1 was published with a token for %s", other, pkg)
		}
	})

	t.Run("TokenSpentAfterUpload", func(t *testing.T) {
		pkg := w.pkg("spent")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}})
		w.publishFirst(t, d, pkg)
		tok := d.token(t, pkg, w.idToken(t, release, oidcissuer.Options{}))
		// A refused upload does not spend the token.
		a := d.put(t, pkg, publishBody(pkg, "1.0.0", tarball(t, pkg, "1.0.0"), nil).encode(t), bearerHeader(tok)...)
		wantStatus(t, "publishing an existing version", a, http.StatusConflict)
		a = d.put(t, pkg, publishBody(pkg, "1.0.1", tarball(t, pkg, "1.0.1"), nil).encode(t), bearerHeader(tok)...)
		wantStatus(t, "publishing", a, http.StatusCreated)
		a = d.put(t, pkg, publishBody(pkg, "1.0.2", tarball(t, pkg, "1.0.2"), nil).encode(t), bearerHeader(tok)...)
		wantMessage(t, "publishing again with the same token", a, 401, "already used")
		a = do(t, http.MethodGet, d.url+"/"+pkg, nil, bearerHeader(tok)...)
		wantMessage(t, "reading with a spent token", a, 401, "already used")
		if _, ok := versionsOf(t, w.reg, pkg)["1.0.2"]; ok {
			t.Fatalf("%s@1.0.2 was published with a spent token", pkg)
		}
	})

	t.Run("TokenExpired", func(t *testing.T) {
		pkg := w.pkg("expiring")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}})
		w.publishFirst(t, d, pkg)
		tok := d.token(t, pkg, w.idToken(t, release, oidcissuer.Options{}))
		d.advance(15*time.Minute + time.Second)
		a := d.put(t, pkg, publishBody(pkg, "1.0.1", tarball(t, pkg, "1.0.1"), nil).encode(t), bearerHeader(tok)...)
		wantMessage(t, "publishing with an expired token", a, 401, "expired at")
	})

	t.Run("TokenStageOnlyCannotPublish", func(t *testing.T) {
		pkg := w.pkg("stage-only")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher("stage")}})
		w.publishFirst(t, d, pkg)
		tok := d.token(t, pkg, w.idToken(t, release, oidcissuer.Options{}))
		a := d.put(t, pkg, publishBody(pkg, "1.0.1", tarball(t, pkg, "1.0.1"), nil).encode(t), bearerHeader(tok)...)
		wantMessage(t, "publishing with a stage-only token", a, 403, "does not allow publish")
		a = do(t, http.MethodPost, d.url+"/-/stage/package/"+pkg, publishBody(pkg, "1.0.1", tarball(t, pkg, "1.0.1"), nil).encode(t), bearerHeader(tok)...)
		wantStatus(t, "staging with a stage-only token", a, http.StatusCreated)
	})

	t.Run("TokenPublishOnlyCannotStage", func(t *testing.T) {
		pkg := w.pkg("publish-only")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher("publish")}})
		w.publishFirst(t, d, pkg)
		tok := d.token(t, pkg, w.idToken(t, release, oidcissuer.Options{}))
		a := do(t, http.MethodPost, d.url+"/-/stage/package/"+pkg, publishBody(pkg, "1.0.1", tarball(t, pkg, "1.0.1"), nil).encode(t), bearerHeader(tok)...)
		wantMessage(t, "staging with a publish-only token", a, 403, "does not allow stage")
	})

	t.Run("TokenOnlyForPackageDocuments", func(t *testing.T) {
		pkg := w.pkg("narrow")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}})
		w.publishFirst(t, d, pkg)
		tok := d.token(t, pkg, w.idToken(t, release, oidcissuer.Options{}))
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, "/-/whoami"},
			{http.MethodGet, "/-/stage"},
			{http.MethodPut, "/-/package/" + pkg + "/dist-tags/next"},
			{http.MethodDelete, "/" + pkg + "/-rev/1-abc"},
		} {
			a := do(t, r.method, d.url+r.path, []byte(`"1.0.0"`), bearerHeader(tok)...)
			wantMessage(t, r.method+" "+r.path, a, 403, "may only read, publish or stage")
		}
	})

	t.Run("UserTokensPassThrough", func(t *testing.T) {
		d := w.door(t, nil)
		a := do(t, http.MethodGet, d.url+"/-/whoami", nil, bearerHeader(w.bob)...)
		wantStatus(t, "whoami", a, http.StatusOK)
		if got := a.json(t)["username"]; got != "bob" {
			t.Fatalf("whoami through the front door answered %v, want bob", got)
		}
		// A token the front door did not issue is the registry's to judge:
		// the answer is the registry's own.
		foreign := bearerHeader("npm_notissuedbythefrontdoor0000000000000")
		a = do(t, http.MethodGet, d.url+"/-/whoami", nil, foreign...)
		direct := do(t, http.MethodGet, w.reg.URL()+"-/whoami", nil, foreign...)
		if a.status != direct.status || !bytes.Equal(a.body, direct.body) {
			t.Fatalf("whoami with a foreign npm_ token: front door answered %d %s, the registry %d %s", a.status, a.body, direct.status, direct.body)
		}
	})

	t.Run("PublishChecksBody", func(t *testing.T) {
		pkg := w.pkg("tampered")
		d := w.door(t, nil)
		b := publishBody(pkg, "1.0.0", tarball(t, pkg, "1.0.0"), nil)
		other := publishBody(pkg, "1.0.0", tarball(t, pkg+"-evil", "1.0.0"), nil)
		b.version("1.0.0")["dist"].(map[string]any)["integrity"] = other.version("1.0.0")["dist"].(map[string]any)["integrity"]
		a := d.put(t, pkg, b.encode(t), bearerHeader(w.alice)...)
		wantMessage(t, "publishing a tarball whose integrity does not match", a, 400, "dist.integrity", "does not match")
		a = do(t, http.MethodGet, w.reg.URL()+pkg, nil)
		wantStatus(t, "asking the registry for the refused package", a, http.StatusNotFound)
	})

	t.Run("ProvenanceBundle", func(t *testing.T) {
		pkg := "@acme/" + w.pkg("provenance")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}})
		w.publishFirst(t, d, pkg)
		tgz := tarball(t, pkg, "1.0.1")
		bundle := provenanceBundle(t, pkg, "1.0.1", tgz)
		tok := d.token(t, pkg, w.idToken(t, release, oidcissuer.Options{}))
		// Verdaccio refuses a body with two attachments: its 201 shows
		// the bundle was taken off.
		a := d.put(t, pkg, publishBody(pkg, "1.0.1", tgz, bundle).encode(t), bearerHeader(tok)...)
		wantStatus(t, "publishing with a provenance bundle", a, http.StatusCreated)

		got := d.Bundles(pkg, "1.0.1")
		if len(got) != 1 || !bytes.Equal(got[0], bundle) {
			t.Fatalf("Bundles(%s, 1.0.1) = %s, want the bundle sent", pkg, got)
		}
		if n := len(d.Bundles(pkg, "1.0.0")); n != 0 {
			t.Fatalf("Bundles(%s, 1.0.0) has %d bundles, want none", pkg, n)
		}

		a = do(t, http.MethodGet, d.url+"/-/npm/v1/attestations/"+escapeName(pkg)+"@1.0.1", nil)
		wantStatus(t, "fetching attestations", a, http.StatusOK)
		var att struct {
			Attestations []struct {
				PredicateType string          `json:"predicateType"`
				Bundle        json.RawMessage `json:"bundle"`
			} `json:"attestations"`
		}
		if err := json.Unmarshal(a.body, &att); err != nil || len(att.Attestations) != 1 {
			t.Fatalf("attestations answer %s: %v", a.body, err)
		}
		if att.Attestations[0].PredicateType != slsaV1 || !bytes.Equal(att.Attestations[0].Bundle, bundle) {
			t.Fatalf("attestation = %s, want predicateType %s and the bundle", a.body, slsaV1)
		}
		a = do(t, http.MethodGet, d.url+"/-/npm/v1/attestations/"+escapeName(pkg)+"@1.0.0", nil)
		wantMessage(t, "fetching attestations of a version without", a, 404, "no attestations")

		a = do(t, http.MethodGet, d.url+"/"+escapeName(pkg), nil, "Accept", "application/json", "Accept-Encoding", "gzip")
		wantStatus(t, "fetching the packument", a, http.StatusOK)
		var doc struct {
			Versions map[string]struct {
				Dist map[string]json.RawMessage `json:"dist"`
			} `json:"versions"`
		}
		if err := json.Unmarshal(a.body, &doc); err != nil {
			t.Fatalf("packument through the front door: %v\n%s", err, a.body)
		}
		var dist struct {
			URL        string `json:"url"`
			Provenance struct {
				PredicateType string `json:"predicateType"`
			} `json:"provenance"`
		}
		if err := json.Unmarshal(doc.Versions["1.0.1"].Dist["attestations"], &dist); err != nil {
			t.Fatalf("dist.attestations of 1.0.1: %v\n%s", err, a.body)
		}
		wantURL := d.url + "/-/npm/v1/attestations/" + escapeName(pkg) + "@1.0.1"
		if dist.URL != wantURL || dist.Provenance.PredicateType != slsaV1 {
			t.Fatalf("dist.attestations = %+v, want url %s and predicateType %s", dist, wantURL, slsaV1)
		}
		if _, ok := doc.Versions["1.0.0"].Dist["attestations"]; ok {
			t.Fatalf("1.0.0, published without provenance, has dist.attestations")
		}
		// Everything else is the registry's: its tarball URL points here.
		var tarURL string
		_ = json.Unmarshal(doc.Versions["1.0.1"].Dist["tarball"], &tarURL)
		if !strings.HasPrefix(tarURL, d.url+"/") {
			t.Fatalf("dist.tarball %q does not point at the front door %s", tarURL, d.url)
		}
		a = do(t, http.MethodGet, tarURL, nil)
		if a.status != http.StatusOK || !bytes.Equal(a.body, tgz) {
			t.Fatalf("fetching %s: %d, %d bytes, want the %d bytes published", tarURL, a.status, len(a.body), len(tgz))
		}
	})

	t.Run("ProvenanceBundleRefused", func(t *testing.T) {
		pkg := w.pkg("bad-provenance")
		d := w.door(t, nil)
		tgz := tarball(t, pkg, "1.0.0")
		bundle := provenanceBundle(t, pkg, "1.0.0", tarball(t, pkg, "9.9.9"))
		a := d.put(t, pkg, publishBody(pkg, "1.0.0", tgz, bundle).encode(t), bearerHeader(w.alice)...)
		wantMessage(t, "publishing with a bundle about another tarball", a, 400, "provenance bundle", "sha512")
		if n := len(d.Bundles(pkg, "1.0.0")); n != 0 {
			t.Fatalf("a refused bundle was kept")
		}
	})

	t.Run("ProvenanceBundleKeptOnlyIfPublished", func(t *testing.T) {
		pkg := w.pkg("provenance-conflict")
		d := w.door(t, nil)
		w.publishFirst(t, d, pkg)
		tgz := tarball(t, pkg, "1.0.0")
		a := d.put(t, pkg, publishBody(pkg, "1.0.0", tgz, provenanceBundle(t, pkg, "1.0.0", tgz)).encode(t), bearerHeader(w.alice)...)
		wantStatus(t, "publishing an existing version with provenance", a, http.StatusConflict)
		if n := len(d.Bundles(pkg, "1.0.0")); n != 0 {
			t.Fatalf("the bundle of a refused publish was kept")
		}
	})

	t.Run("Stage", func(t *testing.T) {
		pkg := "@acme/" + w.pkg("staged")
		d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}})
		w.publishFirst(t, d, pkg)
		stage := func(version string, tgz []byte, hdr ...string) string {
			t.Helper()
			b := publishBody(pkg, version, tgz, provenanceBundle(t, pkg, version, tgz))
			b["dist-tags"] = map[string]any{"next": version}
			a := do(t, http.MethodPost, d.url+"/-/stage/package/"+escapeName(pkg), b.encode(t), hdr...)
			wantStatus(t, "staging "+version, a, http.StatusCreated)
			id, _ := a.json(t)["stageId"].(string)
			if !uuidPattern.MatchString(id) || id[14] != '4' {
				t.Fatalf("stageId %q is not a UUID v4", id)
			}
			return id
		}
		tgz1 := tarball(t, pkg, "1.1.0")
		tok := d.token(t, pkg, w.idToken(t, release, oidcissuer.Options{}))
		id1 := stage("1.1.0", tgz1, bearerHeader(tok)...)
		id2 := stage("1.2.0", tarball(t, pkg, "1.2.0"), bearerHeader(w.bob)...)

		// Staged, not published.
		if _, ok := versionsOf(t, w.reg, pkg)["1.1.0"]; ok {
			t.Fatalf("staging published %s@1.1.0", pkg)
		}
		alice := bearerHeader(w.alice)
		list := func(query string) (items []map[string]any, total int) {
			t.Helper()
			a := do(t, http.MethodGet, d.url+"/-/stage?"+query, nil, alice...)
			wantStatus(t, "listing stages", a, http.StatusOK)
			var page struct {
				Items []map[string]any `json:"items"`
				Total int              `json:"total"`
			}
			if err := json.Unmarshal(a.body, &page); err != nil {
				t.Fatal(err)
			}
			return page.Items, page.Total
		}
		items, total := list("page=0&perPage=1&package=" + escapeName(pkg))
		if total != 2 || len(items) != 1 || items[0]["id"] != id1 {
			t.Fatalf("page 0: items %v total %d, want the first of 2", items, total)
		}
		items, total = list("page=1&perPage=1&package=" + escapeName(pkg))
		if total != 2 || len(items) != 1 || items[0]["id"] != id2 {
			t.Fatalf("page 1: items %v total %d, want the second of 2", items, total)
		}
		if items[0]["actor"] != "bob" || items[0]["actorType"] != "user" {
			t.Fatalf("stage by bob has actor %v (%v)", items[0]["actor"], items[0]["actorType"])
		}
		if items, total = list("package=someone-else"); total != 0 || len(items) != 0 {
			t.Fatalf("filtering by another package gave %v", items)
		}

		a := do(t, http.MethodGet, d.url+"/-/stage/"+id1, nil, alice...)
		wantStatus(t, "viewing a stage", a, http.StatusOK)
		item := a.json(t)
		created, err := time.Parse(time.RFC3339, fmt.Sprint(item["createdAt"]))
		if err != nil || created.Location() != time.UTC || time.Since(created) > time.Minute {
			t.Errorf("createdAt %v is not a recent RFC 3339 UTC time", item["createdAt"])
		}
		delete(item, "createdAt")
		want := map[string]any{
			"id": id1, "packageName": pkg, "version": "1.1.0", "tag": "next",
			"actor": "github:acme/widget:release.yml", "actorType": "oidc", "access": "public",
			"shasum": publishBody(pkg, "1.1.0", tgz1, nil).version("1.1.0")["dist"].(map[string]any)["shasum"],
		}
		if fmt.Sprint(item) != fmt.Sprint(want) {
			t.Fatalf("stage item = %v\nwant %v", item, want)
		}

		a = do(t, http.MethodGet, d.url+"/-/stage/"+id1+"/tarball", nil, alice...)
		if a.status != http.StatusOK || !bytes.Equal(a.body, tgz1) || a.header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("stage tarball: %d %q, %d bytes, want the %d bytes staged", a.status, a.header.Get("Content-Type"), len(a.body), len(tgz1))
		}

		a = do(t, http.MethodPost, d.url+"/-/stage/"+id1+"/approve", nil, append(alice, "npm-otp", TOTP(w.secret, time.Now()))...)
		wantStatus(t, "approving", a, http.StatusOK)
		if string(bytes.TrimSpace(a.body)) != "{}" {
			t.Errorf("approve answered %s, want {}", a.body)
		}
		vs := versionsOf(t, w.reg, pkg)
		if _, ok := vs["1.1.0"]; !ok {
			t.Fatalf("the registry does not have %s@1.1.0 after approval", pkg)
		}
		if tags, _ := w.reg.Packument(t, pkg)["dist-tags"].(map[string]any); tags["next"] != "1.1.0" {
			t.Errorf("dist-tags after approval = %v, want next: 1.1.0", tags)
		}
		if len(d.Bundles(pkg, "1.1.0")) != 1 {
			t.Errorf("the approved stage's bundle was not kept")
		}
		a = do(t, http.MethodGet, d.url+"/-/stage/"+id1, nil, alice...)
		wantMessage(t, "viewing an approved stage", a, 404, "no staged publish")
		if items, total = list(""); total != 1 || items[0]["id"] != id2 {
			t.Fatalf("after approval the list is %v", items)
		}

		a = do(t, http.MethodDelete, d.url+"/-/stage/"+id2, nil, append(alice, "npm-otp", TOTP(w.secret, time.Now()))...)
		wantStatus(t, "rejecting", a, http.StatusNoContent)
		if items, total = list(""); total != 0 {
			t.Fatalf("after rejection the list is %v", items)
		}
		if _, ok := versionsOf(t, w.reg, pkg)["1.2.0"]; ok {
			t.Fatalf("the rejected %s@1.2.0 was published", pkg)
		}
	})

	t.Run("StageRefusals", func(t *testing.T) {
		pkg := w.pkg("stage-refused")
		d := w.door(t, nil)
		w.publishFirst(t, d, pkg)
		post := func(version string, hdr ...string) answer {
			return do(t, http.MethodPost, d.url+"/-/stage/package/"+pkg, publishBody(pkg, version, tarball(t, pkg, version), nil).encode(t), hdr...)
		}
		wantMessage(t, "staging without credentials", post("2.0.0"), 401, "needs a registry user")
		wantMessage(t, "staging with an unknown token", post("2.0.0", bearerHeader("not-a-registry-token")...), 401, "does not know these credentials")
		wantMessage(t, "staging a published version", post("1.0.0", bearerHeader(w.bob)...), 409, "already published")
		a := post("2.0.0", bearerHeader(w.bob)...)
		wantStatus(t, "staging", a, http.StatusCreated)
		id := a.json(t)["stageId"].(string)
		wantMessage(t, "staging a staged version", post("2.0.0", bearerHeader(w.alice)...), 409, "already staged as "+id)

		wantMessage(t, "listing without credentials", do(t, http.MethodGet, d.url+"/-/stage", nil), 401, "needs a registry user")
		wantMessage(t, "viewing a malformed id", do(t, http.MethodGet, d.url+"/-/stage/not-a-uuid", nil, bearerHeader(w.alice)...), 400, "not a UUID")
		wantMessage(t, "viewing an unknown id", do(t, http.MethodGet, d.url+"/-/stage/00000000-0000-4000-8000-000000000000", nil, bearerHeader(w.alice)...), 404, "no staged publish")
		wantMessage(t, "listing with a bad perPage", do(t, http.MethodGet, d.url+"/-/stage?perPage=0", nil, bearerHeader(w.alice)...), 400, "perPage")

		approve := d.url + "/-/stage/" + id + "/approve"
		for _, tc := range []struct {
			name  string
			hdr   []string
			parts []string
		}{
			{"NoOTP", bearerHeader(w.alice), []string{"requires a one-time password"}},
			{"WrongOTP", append(bearerHeader(w.alice), "npm-otp", wrongCode(TOTP(w.secret, time.Now()))), []string{"one-time password is wrong"}},
			{"OldOTP", append(bearerHeader(w.alice), "npm-otp", TOTP(w.secret, time.Now().Add(-2*time.Minute))), []string{"one-time password is wrong"}},
		} {
			for _, method := range []string{http.MethodPost, http.MethodDelete} {
				u := approve
				if method == http.MethodDelete {
					u = strings.TrimSuffix(approve, "/approve")
				}
				a := do(t, method, u, nil, tc.hdr...)
				wantMessage(t, tc.name+" "+method, a, 401, tc.parts...)
				if got := a.header.Get("WWW-Authenticate"); got != "OTP" {
					t.Errorf("%s %s: WWW-Authenticate is %q, want OTP", tc.name, method, got)
				}
			}
		}
		a = do(t, http.MethodPost, approve, nil, append(bearerHeader(w.bob), "npm-otp", "123456")...)
		wantMessage(t, "approving as a user without 2FA", a, 403, "two-factor")
		if _, ok := versionsOf(t, w.reg, pkg)["2.0.0"]; ok {
			t.Fatalf("%s@2.0.0 was published without a valid approval", pkg)
		}
		a = do(t, http.MethodGet, d.url+"/-/stage/"+id, nil, bearerHeader(w.alice)...)
		wantStatus(t, "viewing the stage after refused approvals", a, http.StatusOK)
	})

	t.Run("NPM", func(t *testing.T) { testNPM(t, w) })

	t.Run("StageApproveFailureKeepsStage", func(t *testing.T) {
		pkg := w.pkg("approve-conflict")
		d := w.door(t, nil)
		w.publishFirst(t, d, pkg)
		a := do(t, http.MethodPost, d.url+"/-/stage/package/"+pkg, publishBody(pkg, "1.5.0", tarball(t, pkg, "1.5.0"), nil).encode(t), bearerHeader(w.bob)...)
		wantStatus(t, "staging", a, http.StatusCreated)
		id := a.json(t)["stageId"].(string)
		// Someone publishes the version by hand before the approval.
		wantStatus(t, "publishing", d.put(t, pkg, publishBody(pkg, "1.5.0", tarball(t, pkg, "1.5.0"), nil).encode(t), bearerHeader(w.alice)...), http.StatusCreated)
		a = do(t, http.MethodPost, d.url+"/-/stage/"+id+"/approve", nil, append(bearerHeader(w.alice), "npm-otp", TOTP(w.secret, time.Now()))...)
		wantStatus(t, "approving a version published meanwhile", a, http.StatusConflict)
		wantStatus(t, "viewing the stage", do(t, http.MethodGet, d.url+"/-/stage/"+id, nil, bearerHeader(w.alice)...), http.StatusOK)
	})
}

// wrongCode returns a six-digit code other than code.
func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}
