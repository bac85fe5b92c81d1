package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airlockdev/airlock/internal/frontdoor"
	"github.com/airlockdev/airlock/internal/oidcissuer"
	"github.com/airlockdev/airlock/internal/registrytest"
)

// maintainerName is the Verdaccio user who approves the stage.
const maintainerName = "alice"

// The GitHub repository and workflow the release runs in, and that the
// registry trusts.
const (
	repository = "acme/widget"
	workflow   = "release.yml"
)

// servers are the outside world of the jobs.
type servers struct {
	verdaccio *registrytest.Server
	issuer    *oidcissuer.Issuer
	front     *frontdoor.Server
	frontURL  string // with a trailing slash

	// maintainerToken is alice's Verdaccio token; frontToken is the front
	// door's own account, with which it publishes approved stages.
	maintainerToken, frontToken string
	passwords                   []string
	otpSecret                   []byte

	mu sync.Mutex
	// requestTokens are the ACTIONS_ID_TOKEN_REQUEST_TOKEN values given to
	// publish jobs; exchanged are the publish tokens the front door handed
	// out, seen on their way to the client.
	requestTokens, exchanged []string
}

// startServers starts Verdaccio, the OIDC issuer and the front door, and
// makes the maintainer's account.
func (d *demo) startServers(ctx context.Context) error {
	s := &d.servers
	dir := filepath.Join(d.work, "verdaccio")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	v, err := registrytest.Launch(ctx, registrytest.Options{Dir: dir})
	if err != nil {
		return fmt.Errorf("starting Verdaccio: %w", err)
	}
	d.onCleanup(func() { _ = v.Close() })
	s.verdaccio = v

	if s.frontToken, err = s.addUser(ctx, "frontdoor"); err != nil {
		return err
	}
	if s.maintainerToken, err = s.addUser(ctx, maintainerName); err != nil {
		return err
	}
	s.otpSecret = make([]byte, 20)
	if _, err := rand.Read(s.otpSecret); err != nil {
		return err
	}

	iss, err := oidcissuer.Start()
	if err != nil {
		return err
	}
	d.onCleanup(iss.Close)
	s.issuer = iss

	s.front, err = frontdoor.New(frontdoor.Config{
		Upstream:     v.URL(),
		UpstreamAuth: "Bearer " + s.frontToken,
		Issuers:      map[string]string{iss.URL(): "github"},
		OTPSecrets:   map[string][]byte{maintainerName: s.otpSecret},
	})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the front door: %w", err)
	}
	srv := &http.Server{Handler: s.recordExchanges(s.front), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	d.onCleanup(func() { _ = srv.Close() })
	s.frontURL = "http://" + l.Addr().String() + "/"
	d.res.URLs = []string{v.URL(), iss.URL(), s.frontURL}

	d.say("Servers, on 127.0.0.1 only, stopped at the end:")
	d.say("  registry     Verdaccio %s at %s, empty, no uplinks (up in %.1fs)", registrytest.Version, v.URL(), v.Startup.Seconds())
	d.say("  OIDC issuer  %s, playing GitHub Actions' ID-token endpoint", iss.URL())
	d.say("  front door   %s in front of Verdaccio: npm's trusted publishing (the OIDC token", s.frontURL)
	d.say("               exchange) and staged publishing with 2FA approval")
	d.say("  maintainer   %s, a registry user with a TOTP second factor", maintainerName)
	return nil
}

func (s *servers) addUser(ctx context.Context, name string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	password := hex.EncodeToString(b[:])
	s.passwords = append(s.passwords, password)
	return s.verdaccio.CreateUser(ctx, name, password)
}

// trust makes the workflow the only trusted publisher of pkg, allowed to
// stage and not to publish.
func (s *servers) trust(pkg string) {
	s.front.SetPublishers(pkg, []frontdoor.TrustedPublisher{{
		Provider: "github", Repository: repository, Workflow: workflow, Actions: []string{"stage"},
	}})
}

// githubJob returns the variables GitHub Actions gives a job with
// id-token: write in a run of the trusted workflow for tag ref: the
// ID-token endpoint and the run's own variables, which agree with the
// token's claims. The repository is private, so provenance is off.
func (s *servers) githubJob(ref string) []string {
	run := oidcissuer.GitHubRun{
		Repository: repository, Workflow: workflow, Ref: ref, SHA: "0123456789abcdef0123456789abcdef01234567",
		Actor: "octocat", Visibility: "private",
	}
	claims := oidcissuer.GitHubClaims(run)
	u, tok := s.issuer.NewRequestToken(claims, oidcissuer.Options{})
	s.mu.Lock()
	s.requestTokens = append(s.requestTokens, tok)
	s.mu.Unlock()
	return []string{
		"GITHUB_ACTIONS=true",
		"ACTIONS_ID_TOKEN_REQUEST_URL=" + u,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + tok,
		"GITHUB_SERVER_URL=https://github.com",
		"GITHUB_REPOSITORY=" + run.Repository,
		"GITHUB_WORKFLOW_REF=" + run.Repository + "/.github/workflows/" + run.Workflow + "@" + run.Ref,
		"GITHUB_REF=" + run.Ref,
		"GITHUB_SHA=" + run.SHA,
		"GITHUB_EVENT_NAME=push",
		"GITHUB_RUN_ID=4242",
		"GITHUB_RUN_ATTEMPT=1",
		"RUNNER_ENVIRONMENT=github-hosted",
		"GITHUB_REPOSITORY_ID=" + fmt.Sprint(claims["repository_id"]),
		"GITHUB_REPOSITORY_OWNER_ID=" + fmt.Sprint(claims["repository_owner_id"]),
	}
}

// audiences lists the audiences of the ID tokens the issuer handed to
// jobs, in order.
func (s *servers) audiences() string {
	var out []string
	for _, r := range s.issuer.Requests() {
		if r.ValidBearer && !slices.Contains(out, r.Audience) {
			out = append(out, r.Audience)
		}
	}
	switch len(out) {
	case 0:
		return "no audience"
	case 1:
		return "audience " + out[0]
	}
	return "audiences " + strings.Join(out, " and ")
}

// recordExchanges notes the tokens in the front door's exchange answers.
func (s *servers) recordExchanges(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/-/npm/v1/oidc/token/exchange/") {
			next.ServeHTTP(rw, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var answer struct{ Token string }
		if json.Unmarshal(rec.Body.Bytes(), &answer) == nil && answer.Token != "" {
			s.mu.Lock()
			s.exchanged = append(s.exchanged, answer.Token)
			s.mu.Unlock()
		}
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.WriteHeader(rec.Code)
		_, _ = rw.Write(rec.Body.Bytes())
	})
}

// secrets are every credential handed out so far.
func (d *demo) secrets() []string {
	s := &d.servers
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, v := range append([]string{s.maintainerToken, s.frontToken}, s.passwords...) {
		if v != "" {
			out = append(out, v)
		}
	}
	out = append(out, s.requestTokens...)
	out = append(out, s.exchanged...)
	if s.issuer != nil {
		out = append(out, s.issuer.Minted()...)
	}
	return out
}

// Leaked returns a description of the first secret found in text, or ""
// when none is. A JWT's signature alone counts: with the claims, which are
// no secret, it is the token.
func Leaked(text string, secrets []string) string {
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(text, s) {
			return "a credential"
		}
		if i := strings.LastIndexByte(s, '.'); i > 0 && len(s)-i > 16 && strings.Contains(text, s[i+1:]) {
			return "a token's signature"
		}
	}
	return ""
}
