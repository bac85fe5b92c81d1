// Package oidcauth decides how a publish job authenticates to the
// registry, trusted publishing (an OIDC ID token exchanged for a
// short-lived publish token) or a token from the npm configuration, and
// explains what goes wrong with either.
//
// npm answers every failure of trusted publishing with the same ENEEDAUTH;
// this package names the cause instead: a job without the id-token
// permission, a failing token endpoint, a package without a trusted
// publisher, claims that do not match it, and a long-lived token set up
// next to the ID token.
package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
)

// Mode is the user's authentication policy.
type Mode string

const (
	// Auto uses trusted publishing when the CI offers an ID token, and the
	// configured token only when it offers none.
	Auto Mode = "auto"
	// OIDC uses trusted publishing or fails.
	OIDC Mode = "oidc"
	// Token uses the configured token and ignores any ID token.
	Token Mode = "token"
)

// ParseMode reads a --auth value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Auto, OIDC, Token:
		return m, nil
	case "":
		return Auto, nil
	}
	return "", fmt.Errorf("unknown authentication mode %q: want auto, oidc or token", s)
}

// Options says where credentials may come from.
type Options struct {
	Mode   Mode
	Env    *idtoken.Env
	Config *npmrc.Config
	// Client makes the token exchange.
	Client *registry.Client
	// HTTP reaches the CI's ID-token endpoint; nil for the default.
	HTTP   *http.Client
	Logger *slog.Logger
}

// Choice is how a publish will authenticate, decided before anything is
// sent.
type Choice struct {
	// Path is "oidc" (trusted publishing) or "token" (the npm
	// configuration's credentials).
	Path string
	// Why says, for the user, why this path was taken.
	Why string
	// Auth authenticates each upload.
	Auth npmrc.Authenticator
}

// Choose applies the policy. It fails when the policy cannot be met: OIDC
// without an ID token on offer.
func Choose(o Options) (*Choice, error) {
	src := o.Env.Source()
	switch {
	case o.Mode == Token:
		why := "using the npm configuration's credentials, as --auth token asks"
		if src != idtoken.None {
			why += fmt.Sprintf("; the ID token %s offers is not used", o.Env.Provider())
		}
		return &Choice{Path: "token", Why: why, Auth: npmrc.ConfigAuth{Config: o.Config}}, nil
	case src == idtoken.None && o.Mode == OIDC:
		return nil, fmt.Errorf("--auth oidc: %w", o.Env.Unavailable())
	case src == idtoken.None:
		why := "using the npm configuration's credentials, since there is no OIDC ID token on offer: " + strings.TrimPrefix(o.Env.Unavailable().Error(), "no OIDC ID token: ")
		return &Choice{Path: "token", Why: why, Auth: npmrc.ConfigAuth{Config: o.Config}}, nil
	}
	x := &exchanger{
		fetch:  idtoken.Fetcher{Env: o.Env, HTTP: o.HTTP},
		client: o.Client,
		config: o.Config,
		env:    o.Env,
		tokens: map[[2]string]npmrc.Secret{},
	}
	if x.client == nil {
		x.client = &registry.Client{}
	}
	why := fmt.Sprintf("using trusted publishing: %s offers an ID token (%s), exchanged for a short-lived publish token for each package", o.Env.Provider(), offer(src))
	if o.Mode == Auto {
		why += "; a configured token is not used as a fallback"
	}
	return &Choice{Path: "oidc", Why: why, Auth: x}, nil
}

// offer says how the CI offers its ID token, in the words of its setup.
func offer(src idtoken.Source) string {
	if src == idtoken.GitHubRequest {
		return "id-token: write"
	}
	return src.String()
}

// exchanger is an npmrc.Authenticator that trades the CI's ID token for a
// publish token, once per registry and package. The publish tokens stay in
// memory, in this value only.
type exchanger struct {
	fetch  idtoken.Fetcher
	client *registry.Client
	config *npmrc.Config
	env    *idtoken.Env

	mu     sync.Mutex
	tokens map[[2]string]npmrc.Secret
}

func (x *exchanger) Authorization(ctx context.Context, registryURL, pkg string) (npmrc.Secret, string, error) {
	source := "OIDC trusted publishing (token exchanged for " + pkg + ")"
	key := [2]string{registryURL, pkg}
	x.mu.Lock()
	defer x.mu.Unlock()
	if t, ok := x.tokens[key]; ok {
		return npmrc.NewSecret("Bearer " + t.Reveal()), source, nil
	}
	aud, err := idtoken.Audience(registryURL)
	if err != nil {
		return npmrc.Secret{}, "", err
	}
	id, err := x.fetch.Fetch(ctx, aud)
	if err != nil {
		return npmrc.Secret{}, "", x.noFallback(err, registryURL)
	}
	if err := x.checkAudience(id, registryURL, pkg, aud); err != nil {
		return npmrc.Secret{}, "", err
	}
	bearer := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+id.Value.Reveal())
		return nil
	}
	tok, err := x.client.ExchangeIDToken(ctx, registryURL, pkg, bearer)
	if err != nil {
		return npmrc.Secret{}, "", x.noFallback(explainExchange(err, pkg, aud, id, x.env.Provider()), registryURL)
	}
	secret := npmrc.NewSecret(tok)
	x.tokens[key] = secret
	return npmrc.NewSecret("Bearer " + tok), source, nil
}

// checkAudience refuses to send an ID token to a registry its audience
// does not name. GitLab and CircleCI mint NPM_ID_TOKEN before the job
// starts, for the registry the pipeline declares; a variable set by an
// earlier job (npm_config_registry, or NPM_CONFIG_USERCONFIG pointing at
// another npmrc) can move the registry, and the token must not follow.
func (x *exchanger) checkAudience(id idtoken.Token, registryURL, pkg, aud string) error {
	if id.HasAudience(aud) {
		return nil
	}
	host := strings.TrimPrefix(aud, "npm:")
	where := registrySetting(x.config, registryURL, pkg)
	advice := wrongAudienceAdvice(x.env, aud)
	if len(id.Audiences()) == 0 {
		return x.noFallback(hint.With(fmt.Errorf("the ID token from %s has no audience airlock can read, so it was not sent to %s, the registry (from %s): an ID token goes only to the registry its audience names",
			id.Source, host, where), advice), registryURL)
	}
	return x.noFallback(hint.With(fmt.Errorf("the ID token from %s is for %s, not for %s, the registry (from %s): an ID token goes only to the registry its audience names, so it was not sent",
		id.Source, audienceHosts(id.Audiences()), host, where), advice), registryURL)
}

// audienceHosts shows audiences as the hosts they name: "registry.npmjs.org
// (aud npm:registry.npmjs.org)".
func audienceHosts(auds []string) string {
	var parts []string
	for _, a := range auds {
		a = registry.Sanitize(a, nil)
		if h, ok := strings.CutPrefix(a, "npm:"); ok {
			parts = append(parts, fmt.Sprintf("%s (aud %s)", h, a))
		} else {
			parts = append(parts, "aud "+a)
		}
	}
	return strings.Join(parts, ", ")
}

// registrySetting says where the registry for pkg was set: "registry in
// env npm_config_registry", "npm's default".
func registrySetting(cfg *npmrc.Config, registryURL, pkg string) string {
	if cfg == nil {
		return "the caller"
	}
	if strings.TrimSuffix(cfg.RegistryFor(pkg), "/") != strings.TrimSuffix(registryURL, "/") {
		return "the package's publishConfig"
	}
	key, src := cfg.RegistrySource(pkg)
	if src == "default" {
		return "npm's default"
	}
	return fmt.Sprintf("%s in %s", key, src)
}

// wrongAudienceAdvice is what to do about an ID token for another
// registry.
func wrongAudienceAdvice(env *idtoken.Env, aud string) string {
	return "if that registry is wrong, remove the setting (variables set by an earlier job, such as a GitLab dotenv report, can move the registry); if it is right, " + audienceAdvice(env, aud)
}

// audienceAdvice says how to get an ID token for aud from the CI.
func audienceAdvice(env *idtoken.Env, aud string) string {
	switch {
	case env.Source() == idtoken.GitHubRequest:
		return "check that nothing overrides ACTIONS_ID_TOKEN_REQUEST_URL: airlock asks GitHub for a token for " + aud + " itself"
	case env.Provider() == idtoken.GitLabCI:
		return fmt.Sprintf("declare the token for it: 'id_tokens: { NPM_ID_TOKEN: { aud: %q } }'", aud)
	case env.Provider() == idtoken.CircleCI:
		return fmt.Sprintf("set NPM_ID_TOKEN from 'circleci run oidc get --claims '{\"aud\":%q}''", aud)
	}
	return "set NPM_ID_TOKEN to a token for " + aud
}

// noFallback adds, to a failure of trusted publishing, that a configured
// token was there and deliberately not used.
func (x *exchanger) noFallback(err error, registryURL string) error {
	if t := configuredToken(x.env, x.config, registryURL); t != "" {
		return fmt.Errorf("%w\n(%s was not used instead: with an ID token on offer airlock does not fall back; --auth token publishes with it)", err, t)
	}
	return err
}

// explainExchange turns a refused exchange into what the user must fix.
func explainExchange(err error, pkg, aud string, id idtoken.Token, provider idtoken.Provider) error {
	var xe *registry.ExchangeError
	if !errors.As(err, &xe) {
		return fmt.Errorf("exchanging the ID token for a publish token for %s: %w", pkg, err)
	}
	said := ""
	if xe.RegistryMessage != "" {
		said = "; the registry says: " + xe.RegistryMessage
	}
	claims := formatClaims(id.Described())
	switch xe.StatusCode {
	case http.StatusNotFound:
		return hint.With(fmt.Errorf("the registry has no trusted publisher for %s, or %s does not exist yet (exchange answered 404%s)", pkg, pkg, said),
			fmt.Sprintf("configure a trusted publisher for %s in the package's settings on the registry; a new package's first version cannot be published by trusted publishing: publish it once with a token (--auth token), then configure the trusted publisher", pkg))
	case http.StatusUnauthorized, http.StatusForbidden:
		return hint.With(fmt.Errorf("the registry refused the ID token for %s (exchange answered %d%s): its claims do not match the package's trusted publisher.\nThe token says:\n%s", pkg, xe.StatusCode, said, claims),
			"compare these with the trusted publisher's settings: "+publisherFields(provider))
	case http.StatusUnprocessableEntity:
		return hint.With(fmt.Errorf("the registry could not use the ID token for %s (exchange answered 422%s).\nThe token says:\n%s", pkg, said, claims),
			fmt.Sprintf("the token lacks a claim trusted publishing needs or comes from an unsupported setup: check its audience is %s and that the job runs on a cloud-hosted runner", aud))
	}
	return fmt.Errorf("exchanging the ID token for a publish token for %s: %w", pkg, err)
}

// publisherFields are the settings of a trusted publisher on the
// registry, for each CI.
func publisherFields(p idtoken.Provider) string {
	switch p {
	case idtoken.GitLabCI:
		return "project (group/project, the token's project_path), pipeline file name (the top-level CI file, as in ci_config_ref_uri, case-sensitive), and environment if one is set"
	case idtoken.CircleCI:
		return "organization, project and pipeline definition IDs, the VCS origin (provider/owner/repo), and the context IDs if any are set"
	}
	return "repository (owner/name), workflow file name (the calling workflow's file, case-sensitive), and environment if one is set"
}

func formatClaims(cs []idtoken.Claim) string {
	if len(cs) == 0 {
		return "  (the ID token is not a JWT airlock can read)"
	}
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "  %s: %s", c.Name, c.Value)
	}
	return b.String()
}

// setupNodePlaceholder is the value actions/setup-node gives
// NODE_AUTH_TOKEN when a registry-url is set and no token is passed.
const setupNodePlaceholder = "XXXXX-XXXXX-XXXXX-XXXXX"

// configuredToken describes (never shows) the long-lived token the npm
// configuration holds for registryURL, or NODE_AUTH_TOKEN, or "".
func configuredToken(env *idtoken.Env, cfg *npmrc.Config, registryURL string) string {
	var parts []string
	if cfg != nil {
		if cr, ok := cfg.CredentialsByURI(registryURL); ok && cr.Source != "" {
			parts = append(parts, "the configured token "+cr.Source)
		}
	}
	if v, ok := env.Lookup("NODE_AUTH_TOKEN"); ok && v != "" {
		if v == setupNodePlaceholder {
			parts = append(parts, "NODE_AUTH_TOKEN (setup-node's placeholder)")
		} else {
			parts = append(parts, "NODE_AUTH_TOKEN")
		}
	}
	return strings.Join(parts, " and ")
}
