package npmrc

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
)

// Credentials are what npm would authenticate a request with.
type Credentials struct {
	Token Secret // from :_authToken, sent as "Bearer <token>"
	Basic Secret // base64 of "user:password", from :_auth or :username and :_password, sent as "Basic <basic>"
	// CertFile and KeyFile are npm's client certificate settings for the
	// registry (npm reads them; airlock does not use them).
	CertFile, KeyFile string
	// Source says which setting supplied them and where it was set:
	// "//registry.npmjs.org/:_authToken (/home/u/.npmrc:3)".
	Source string
	// Unset lists the variables the credential refers to as ${NAME} that
	// were not set, so npm would send the reference literally. Treat the
	// names with care: a token mistakenly written as ${npm_...} is one.
	Unset []string
}

// Header returns the Authorization header value npm would send, if any.
func (cr Credentials) Header() (Secret, bool) {
	switch {
	case !cr.Token.IsZero():
		return Secret{"Bearer " + cr.Token.v}, true
	case !cr.Basic.IsZero():
		return Secret{"Basic " + cr.Basic.v}, true
	}
	return Secret{}, false
}

// Credentials returns the credentials npm would send with a request to
// url, as npm-registry-fetch picks them: the longest nerf-dart prefix of
// //host[:port]/path that has an _authToken, _auth, username and
// _password, or certfile and keyfile, with the scheme ignored and default
// ports dropped. Failing that, a URL on the same host as the registry gets
// the registry's credentials. ok is false if no Authorization would be sent.
func (c *Config) Credentials(url string) (Credentials, bool) {
	r, _ := c.get("registry")
	return c.credentials(url, jsString(r.val))
}

func (c *Config) credentials(uri, registry string) (Credentials, bool) {
	regKey := c.regFromURI(uri)
	if regKey == "" {
		if registry != "" && uri != registry && sameHost(uri, registry) {
			return c.credentials(registry, registry)
		}
		return Credentials{}, false
	}
	var cr Credentials
	token, hasToken := c.flat(regKey + ":_authToken")
	auth, hasAuth := c.flat(regKey + ":_auth")
	user, hasUser := c.flat(regKey + ":username")
	pass, hasPass := c.flat(regKey + ":_password")
	switch {
	case hasToken:
		cr.Token = Secret{jsString(token.val)}
		cr.Source = fmt.Sprintf("%s:_authToken (%s)", regKey, token.source)
		cr.Unset = token.unset
	case hasAuth:
		cr.Basic = Secret{jsString(auth.val)}
		cr.Source = fmt.Sprintf("%s:_auth (%s)", regKey, auth.source)
		cr.Unset = auth.unset
	case hasUser && hasPass:
		p := decodeUTF8(decodeBase64(jsString(pass.val)))
		cr.Basic = Secret{base64.StdEncoding.EncodeToString([]byte(jsString(user.val) + ":" + p))}
		cr.Source = fmt.Sprintf("%s:username (%s) and :_password (%s)", regKey, user.source, pass.source)
		cr.Unset = append(append([]string(nil), user.unset...), pass.unset...)
	}
	cf, hasCert := c.flat(regKey + ":certfile")
	kf, hasKey := c.flat(regKey + ":keyfile")
	if hasCert && hasKey {
		cr.CertFile, cr.KeyFile = jsString(cf.val), jsString(kf.val)
		if cr.Source == "" {
			cr.Source = fmt.Sprintf("%s:certfile (%s)", regKey, cf.source)
		}
	}
	_, ok := cr.Header()
	return cr, ok
}

// CredentialsByURI is @npmcli/config's getCredentialsByURI: the
// credentials stored exactly under the nerf-dart of registry, without
// walking up. npm publish refuses to start (ENEEDAUTH) when this finds no
// token, username or client certificate for the registry it picked, even
// where Credentials would find some for the request; ok reports whether
// npm would go on.
func (c *Config) CredentialsByURI(registry string) (cr Credentials, ok bool) {
	nerfed, valid := nerfDart(registry)
	if !valid {
		return Credentials{}, false
	}
	cf, hasCert := c.flat(nerfed + ":certfile")
	kf, hasKey := c.flat(nerfed + ":keyfile")
	if hasCert && hasKey {
		cr.CertFile, cr.KeyFile = jsString(cf.val), jsString(kf.val)
		cr.Source = fmt.Sprintf("%s:certfile (%s)", nerfed, cf.source)
	}
	certOK := hasCert && hasKey
	if e, ok := c.flat(nerfed + ":_authToken"); ok {
		cr.Token, cr.Unset = Secret{jsString(e.val)}, e.unset
		cr.Source = fmt.Sprintf("%s:_authToken (%s)", nerfed, e.source)
		return cr, true
	}
	user, hasUser := c.flat(nerfed + ":username")
	pass, hasPass := c.flat(nerfed + ":_password")
	if hasUser && hasPass {
		p := decodeUTF8(decodeBase64(jsString(pass.val)))
		cr.Basic = Secret{base64.StdEncoding.EncodeToString([]byte(jsString(user.val) + ":" + p))}
		cr.Source = fmt.Sprintf("%s:username (%s) and :_password (%s)", nerfed, user.source, pass.source)
		cr.Unset = append(append([]string(nil), user.unset...), pass.unset...)
		return cr, true
	}
	if e, ok := c.flat(nerfed + ":_auth"); ok {
		cr.Basic, cr.Unset = Secret{jsString(e.val)}, e.unset
		cr.Source = fmt.Sprintf("%s:_auth (%s)", nerfed, e.source)
		username, _, _ := strings.Cut(decodeUTF8(decodeBase64(jsString(e.val))), ":")
		return cr, username != "" || certOK
	}
	return cr, certOK
}

// flat is a setting as npm's flatOptions has it, if it is truthy.
func (c *Config) flat(key string) (entry, bool) {
	e, ok := c.get(key)
	return e, ok && truthy(e.val)
}

// regFromURI walks up //host/path of uri, removing a segment or a slash
// at a time, to the first key that has credentials.
func (c *Config) regFromURI(uri string) string {
	host, path, ok := hostPath(uri)
	if !ok {
		return ""
	}
	regKey := "//" + host + path
	for len(regKey) > 2 {
		if c.hasAuth(regKey) {
			return regKey
		}
		if strings.HasSuffix(regKey, "/") {
			regKey = regKey[:len(regKey)-1]
		} else {
			regKey = regKey[:strings.LastIndexByte(regKey, '/')+1]
		}
	}
	return ""
}

func (c *Config) hasAuth(regKey string) bool {
	has := func(k string) bool { _, ok := c.flat(regKey + ":" + k); return ok }
	return has("_authToken") || has("_auth") || has("username") && has("_password") || has("certfile") && has("keyfile")
}

func sameHost(a, b string) bool {
	ha, _, okA := hostPath(a)
	hb, _, okB := hostPath(b)
	return okA && okB && ha == hb
}

// Authenticator gives the Authorization header for a request to url made
// on behalf of pkgName. Implementations return an error matching
// ErrNoCredentials when they have nothing for url, so that they can be
// chained: an OIDC exchange first, the configured token second.
type Authenticator interface {
	Authorization(ctx context.Context, url, pkgName string) (header Secret, source string, err error)
}

// ErrNoCredentials is matched by an Authenticator's error when it has no
// credentials for the URL.
var ErrNoCredentials = errors.New("no credentials")

// Chain is an Authenticator that asks each in turn and answers with the
// first that has credentials.
type Chain []Authenticator

func (ch Chain) Authorization(ctx context.Context, url, pkgName string) (Secret, string, error) {
	var last error = fmt.Errorf("%w for %s", ErrNoCredentials, redactURL(url))
	for _, a := range ch {
		h, src, err := a.Authorization(ctx, url, pkgName)
		if err == nil {
			return h, src, nil
		}
		if !errors.Is(err, ErrNoCredentials) {
			return Secret{}, "", err
		}
		last = err
	}
	return Secret{}, "", last
}

// ConfigAuth authenticates with the credentials in npm's configuration,
// picked as npm-registry-fetch picks them for a request made for pkgName:
// Credentials for url, falling back to those of pkgName's registry when
// url is on the same host. It refuses a credential that refers to an
// unset ${VAR}, which npm would send as written. (npm publish also stops
// early when CredentialsByURI finds nothing for the registry.)
//
// npm's OIDC step stores the exchanged token under the registry's own
// key; putting an OIDC Authenticator before ConfigAuth in a Chain gives
// the same result for every request to that registry.
type ConfigAuth struct{ Config *Config }

func (a ConfigAuth) Authorization(_ context.Context, url, pkgName string) (Secret, string, error) {
	cr, ok := a.Config.credentials(url, a.Config.pickRegistry(pkgName))
	if !ok {
		return Secret{}, "", hint.With(fmt.Errorf("%w for %s in the npm configuration", ErrNoCredentials, redactURL(url)),
			fmt.Sprintf("set //HOST/:_authToken for that registry in an npmrc, or use trusted publishing (%s)", describeNerf(url)))
	}
	if len(cr.Unset) > 0 {
		// npm would send the reference literally and fail with a 401.
		return Secret{}, "", hint.With(fmt.Errorf("credentials for %s from %s refer to %s, which is not set",
			redactURL(url), cr.Source, varNames(cr.Unset)),
			"set the variable in the publish job's environment")
	}
	h, _ := cr.Header()
	return h, cr.Source, nil
}

// varNames shows unset variable names, but only conventional ones
// (NPM_TOKEN): a token pasted between ${ and } by mistake is a name too.
func varNames(names []string) string {
	var shown []string
	for _, n := range names {
		if envName.MatchString(n) {
			shown = append(shown, "${"+n+"}")
		} else {
			shown = append(shown, "a variable with an unusual name")
		}
	}
	return strings.Join(shown, ", ")
}

var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,63}$`)

func describeNerf(url string) string {
	if n, ok := nerfDart(url); ok {
		return "the key prefix for it is " + n
	}
	return "the URL is not one airlock can match credentials against"
}
