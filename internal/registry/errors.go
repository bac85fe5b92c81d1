package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/airlockdev/airlock/internal/hint"
)

var (
	// ErrNotFound: the registry answered 404 (for a packument, the package
	// does not exist, or the credentials cannot see it).
	ErrNotFound = errors.New("not found")
	// ErrVersionExists: the registry refused to publish over a version it
	// already has (409, or 403 "cannot publish over ...").
	ErrVersionExists = errors.New("version already exists")
	// ErrUnauthorized: the registry answered 401.
	ErrUnauthorized = errors.New("unauthorized")
)

// HTTPError is a registry's answer that was not a success.
type HTTPError struct {
	Method string
	// URL is the request's address without credentials, query or fragment.
	URL        string
	StatusCode int
	// RegistryMessage is what the registry said (its JSON error, reason or
	// message fields), truncated, with control characters removed and any
	// credential the request carried cut out.
	RegistryMessage string
	// Hint says what the user can do about it; it may be "".
	Hint string
	// versionExists records a 403 whose message says the version exists.
	versionExists bool
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: registry answered %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.RegistryMessage != "" {
		msg += ": " + e.RegistryMessage
	}
	return msg
}

// Is reports whether the answer is one of the package's error kinds, so
// callers can test with errors.Is(err, ErrNotFound) and the like.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrVersionExists:
		return e.StatusCode == http.StatusConflict || e.versionExists
	}
	return false
}

// maxMessage bounds RegistryMessage, in runes.
const maxMessage = 300

// newHTTPError builds the error for resp, whose body (already read, at
// most maxErrorBody bytes) is body. secrets are cut out of the message.
func newHTTPError(method string, u *url.URL, status int, contentType string, body []byte, secrets []string) *HTTPError {
	e := &HTTPError{
		Method:          method,
		URL:             RedactURL(u),
		StatusCode:      status,
		RegistryMessage: registryMessage(contentType, body, secrets),
	}
	e.versionExists = status == http.StatusForbidden && existsMessage(e.RegistryMessage)
	e.Hint = hintFor(method, status, e.versionExists)
	return e
}

// existsMessage recognises the registries' ways of saying a version is
// already there: npm's "You cannot publish over the previously published
// versions", Verdaccio's "this package is already present", and others'.
func existsMessage(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"cannot publish over", "previously published", "already present", "already exists", "version exists"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

func hintFor(method string, status int, exists bool) string {
	switch {
	case status == http.StatusUnauthorized:
		return "the registry did not accept the credentials: check that the token is valid, has not expired, and is meant for this registry"
	case status == http.StatusForbidden && exists, status == http.StatusConflict:
		return "this version is already on the registry and a published version can never be replaced: bump the version"
	case status == http.StatusForbidden:
		return "the credentials may not publish this package: check the token's permissions and the package's access settings (and 2FA requirements)"
	case status == http.StatusNotFound && method == http.MethodGet:
		return "the package does not exist on this registry, or the credentials cannot see it"
	case status == http.StatusNotFound:
		return "the registry has no such scope, or the credentials cannot see it: npm answers 404 for packages you may not access"
	case status == http.StatusRequestEntityTooLarge:
		return "the publish body is larger than the registry accepts: the tarball is sent base64-encoded, a third larger than on disk"
	case status == http.StatusUnprocessableEntity:
		return "the registry rejected the package's metadata: check the manifest (and the provenance bundle, if any)"
	case status == http.StatusTooManyRequests:
		return "the registry is rate-limiting these requests: wait a while and try again"
	case status >= 500:
		return "the registry failed to answer: check its status page and try again later"
	}
	return ""
}

// connectionHint says what to check when no answer came from u: the
// URL, the registry, DNS, the certificate, the proxy. Advice the
// transport attached (the proxy or trust variables it ignored) follows.
func connectionHint(u *url.URL, err error) string {
	host := u.Host
	var (
		dns *net.DNSError
		op  *net.OpError
		h   string
	)
	switch {
	case errors.Is(err, context.Canceled):
		return hint.Of(err)
	case IsCertificateError(err):
		h = "the registry's TLS certificate is not trusted (signed by an authority airlock does not trust, expired, or for another host): if the registry uses a private CA, pass it with --cafile or set cafile in the user's npmrc"
	case errors.As(err, &op) && op.Op == "proxyconnect":
		h = "the proxy could not be reached: check the proxy's address (--proxy, or proxy and https-proxy in the npmrc)"
	case errors.As(err, &dns):
		h = fmt.Sprintf("the host name %s does not resolve: check the registry URL (--registry, or registry in the npmrc) and the job's DNS", u.Hostname())
	case errors.Is(err, syscall.ECONNREFUSED):
		h = fmt.Sprintf("nothing accepts connections at %s: check the registry URL (--registry, or registry in the npmrc) and that the registry is up", host)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		h = fmt.Sprintf("%s did not answer in time: check that the registry is reachable from this job (a firewall, or a proxy the job must use: --proxy)", host)
	default:
		h = fmt.Sprintf("the connection to %s failed: check the registry URL and that the registry is reachable from this job", host)
	}
	if inner := hint.Of(err); inner != "" {
		h += "; " + inner
	}
	return h
}

// IsCertificateError reports whether err is a server's TLS certificate
// the client did not accept.
func IsCertificateError(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// registryMessage extracts what a registry said from an error body: the
// JSON fields error, reason and message (npm, Verdaccio, and others use
// one or more of them), or a plain-text body.
func registryMessage(contentType string, body []byte, secrets []string) string {
	var parts []string
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		for _, k := range []string{"error", "reason", "message"} {
			if s, ok := doc[k].(string); ok && strings.TrimSpace(s) != "" && !contains(parts, s) {
				parts = append(parts, s)
			}
		}
	} else if strings.HasPrefix(contentType, "text/plain") {
		parts = append(parts, string(body))
	}
	return Sanitize(strings.Join(parts, ": "), secrets)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Sanitize makes outside text safe to show: secrets are replaced,
// terminal escape sequences and other control characters removed, runs of
// white space collapsed, invalid UTF-8 replaced, and the result cut to a
// few hundred characters.
func Sanitize(s string, secrets []string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = redactSecrets(s, secrets)
	var b strings.Builder
	space := false
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == 0x1b { // skip an ANSI escape: ESC [ params final
			if i < len(s) && s[i] == '[' {
				i++
				for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
					i++
				}
				i++
			}
			continue
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if n >= maxMessage {
			b.WriteString("…")
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
			n++
		}
		b.WriteRune(r)
		n++
	}
	// Removing control characters may have joined a secret split by them.
	return redactSecrets(b.String(), secrets)
}

const redacted = "[REDACTED]"

func redactSecrets(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}

// RedactURL returns u without user information, query or fragment, which
// may carry credentials.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.RawQuery, c.ForceQuery = "", false
	c.Fragment, c.RawFragment = "", ""
	return c.String()
}
