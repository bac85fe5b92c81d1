// Package registry talks to an npm registry: the packument, the publish PUT,
// typed errors.
//
// The client streams the publish body, retries only what is safe to
// retry, and when a publish's fate is unclear (a 5xx, a connection lost
// after the body was sent) reads the packument back to learn whether the
// version landed instead of sending it again. Credentials reach requests
// only through an Auth function and never appear in errors or logs.
package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/airlockdev/airlock/internal/hint"
)

// Auth adds credentials to a request (usually an Authorization header).
// It is called for every attempt. The client never logs headers, and cuts
// whatever Auth adds out of any registry message it reports.
type Auth func(ctx context.Context, req *http.Request) error

// Opener opens an attachment's data and says how long it is. It is called
// once per attempt, so the body can be sent again.
type Opener func() (io.ReadCloser, int64, error)

// Client talks to npm registries. The zero value works: every field has a
// default.
type Client struct {
	// HTTP sends the requests; nil means a client with
	// http.DefaultTransport. Redirects are never followed, whatever its
	// CheckRedirect says: a redirected publish could carry the body, and
	// a redirected packument may come from somewhere else.
	HTTP *http.Client
	// UserAgent is sent with every request; "" means "airlock".
	UserAgent string
	Retry     RetryPolicy
	// RequestTimeout bounds each packument request; 0 means 30 seconds.
	RequestTimeout time.Duration
	// PublishTimeout bounds the publish PUT, upload included; 0 means 15
	// minutes. The caller's context bounds everything.
	PublishTimeout time.Duration
	// Clock tells the time, for Retry-After dates and durations in logs;
	// nil means time.Now.
	Clock func() time.Time
	// Sleep waits between attempts; nil means a timer that ctx cancels.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives debug and warning records; nil means silence.
	Logger *slog.Logger
}

const (
	defaultRequestTimeout = 30 * time.Second
	defaultPublishTimeout = 15 * time.Minute
	// readBackTimeout bounds reading the packument back after a publish
	// whose outcome is unclear, even if the caller's context has expired.
	readBackTimeout = time.Minute
	// readBackTries is how often a version that is not (yet) visible is
	// looked for again: a registry behind a cache can lag behind a write.
	readBackTries = 3
	// MaxPackumentSize bounds a packument read from a registry.
	MaxPackumentSize = 256 << 20
	maxErrorBody     = 64 << 10
)

func (c *Client) httpClient() *http.Client {
	var hc http.Client
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

func (c *Client) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (c *Client) userAgent() string {
	if c.UserAgent != "" {
		return c.UserAgent
	}
	return "airlock"
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// registryBase parses a registry URL and returns it with a trailing slash.
// Credentials in the URL are refused rather than sent or dropped: they
// belong in Auth, where they are kept out of logs.
func registryBase(registryURL string) (*url.URL, error) {
	u, err := url.Parse(registryURL)
	if err != nil {
		return nil, fmt.Errorf("invalid registry URL: %w", errors.Unwrap(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("invalid registry URL %q: want http or https", RedactURL(u))
	case u.Host == "":
		return nil, fmt.Errorf("invalid registry URL %q: no host", RedactURL(u))
	case u.User != nil:
		return nil, fmt.Errorf("invalid registry URL %q: credentials in the URL are not supported", RedactURL(u))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("invalid registry URL %q: a registry URL has no query or fragment", RedactURL(u))
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// packageURL is the registry's address for the package name.
func packageURL(base *url.URL, name string) (*url.URL, error) {
	return url.Parse(base.String() + EscapeName(name))
}

// exchange is what one attempt of a request came to.
type exchange struct {
	status      int
	contentType string
	retryAfter  string
	// challenge is the WWW-Authenticate header, several joined as
	// fetch's Headers.get joins them.
	challenge string
	body      []byte
	// err is a failure to get an answer; bodyErr is set when it came from
	// reading our own request body (the tarball), not from the network.
	err, bodyErr error
	// wrote is true once any part of the request was written out: until
	// then a failure cannot have reached the registry.
	wrote bool
	// final marks a failure that trying again cannot mend (Auth failed).
	final   bool
	secrets []string
	elapsed time.Duration
}

// request is one request to send, possibly several times.
type request struct {
	method  string
	url     *url.URL
	accept  string
	body    *plan // nil for none
	auth    Auth
	timeout time.Duration
	maxBody int64 // the most of a success's body to read
}

// roundTrip makes one attempt of r.
func (c *Client) roundTrip(ctx context.Context, r request) (ex exchange) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	start := c.now()
	defer func() { ex.elapsed = c.now().Sub(start) }()

	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteHeaderField: func(string, []string) { wrote.Store(true) },
		WroteHeaders:     func() { wrote.Store(true) },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), r.method, r.url.String(), nil)
	if err != nil {
		ex.err = err
		return ex
	}
	var state bodyState
	if r.body != nil {
		req.ContentLength = r.body.size
		req.GetBody = func() (io.ReadCloser, error) { return r.body.reader(&state), nil }
		req.Body, _ = req.GetBody()
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", r.accept)
	req.Header.Set("User-Agent", c.userAgent())
	if r.method == http.MethodGet {
		// A packument is read to decide what to do: a cached one could be stale.
		req.Header.Set("Cache-Control", "no-cache")
	}
	if r.auth != nil {
		before := req.Header.Clone()
		if err := r.auth(ctx, req); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			ex.err = fmt.Errorf("authenticating the request: %w", err)
			ex.final = true
			return ex
		}
		ex.secrets = addedSecrets(before, req.Header)
	}
	c.log().Debug("registry request", "method", r.method, "url", RedactURL(r.url))
	resp, err := c.httpClient().Do(req)
	ex.wrote = wrote.Load()
	if err != nil {
		ex.err = transportError(r.method, r.url, err)
		ex.bodyErr = state.get()
		// A certificate that is not trusted now will not be in a second.
		ex.final = IsCertificateError(err)
		return ex
	}
	defer resp.Body.Close()
	ex.status = resp.StatusCode
	ex.contentType = resp.Header.Get("Content-Type")
	ex.retryAfter = resp.Header.Get("Retry-After")
	ex.challenge = strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")
	limit := int64(maxErrorBody)
	if ex.status/100 == 2 {
		limit = r.maxBody
	}
	ex.body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	switch {
	case err != nil && ex.status/100 == 2:
		ex.err = transportError(r.method, r.url, fmt.Errorf("reading the answer: %w", err))
	case int64(len(ex.body)) > limit && ex.status/100 == 2:
		ex.err = fmt.Errorf("%s %s: the answer is larger than %d bytes", r.method, RedactURL(r.url), limit)
	case int64(len(ex.body)) > limit:
		ex.body = ex.body[:limit]
	}
	c.log().Debug("registry answer", "method", r.method, "url", RedactURL(r.url), "status", ex.status, "elapsed", c.now().Sub(start))
	return ex
}

func (ex *exchange) httpError(r request) error {
	e := newHTTPError(r.method, r.url, ex.status, ex.contentType, ex.body, ex.secrets)
	if e.Hint == "" {
		return e
	}
	return hint.With(e, e.Hint)
}

// transportError restates a failure of http.Client.Do with the redacted
// URL (url.Error would repeat the URL as given), and says what to check.
func transportError(method string, u *url.URL, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	e := fmt.Errorf("%s %s: %w", method, RedactURL(u), err)
	if h := connectionHint(u, err); h != "" {
		return hint.With(e, h)
	}
	return e
}

// addedSecrets returns the header values Auth set or changed, and for
// "Scheme credentials" values the credentials alone, so they can be cut
// out of anything the registry echoes back.
func addedSecrets(before, after http.Header) []string {
	var out []string
	for k, vs := range after {
		old := before[k]
		for i, v := range vs {
			if i < len(old) && old[i] == v {
				continue
			}
			out = append(out, v)
			if _, cred, ok := strings.Cut(v, " "); ok && len(strings.TrimSpace(cred)) >= 4 {
				out = append(out, strings.TrimSpace(cred))
			}
		}
	}
	return out
}

// get fetches u, retrying as the policy allows, and returns the body of a
// 200 answer.
func (c *Client) get(ctx context.Context, u *url.URL, auth Auth) ([]byte, error) {
	return c.getRequest(ctx, request{
		method:  http.MethodGet,
		url:     u,
		accept:  "application/json",
		auth:    auth,
		timeout: orDefault(c.RequestTimeout, defaultRequestTimeout),
		maxBody: MaxPackumentSize,
	})
}

// getRequest sends the GET r, retrying as the policy allows, and returns
// the body of a 200 answer.
func (c *Client) getRequest(ctx context.Context, r request) ([]byte, error) {
	u := r.url
	for attempt := 1; ; attempt++ {
		ex := c.roundTrip(ctx, r)
		var err error
		switch {
		case ex.err != nil && ex.status/100 == 2 && int64(len(ex.body)) > r.maxBody:
			// Trying again would download the same too much.
			return nil, fmt.Errorf("%s %s: %w (more than %d bytes)", r.method, RedactURL(u), ErrTooLarge, r.maxBody)
		case ex.err != nil:
			err = ex.err
		case ex.status == http.StatusOK:
			return ex.body, nil
		default:
			err = ex.httpError(r)
		}
		delay, ok := c.Retry.decide(http.MethodGet, ex, attempt, c.now())
		if !ok || ctx.Err() != nil {
			return nil, err
		}
		c.warnRetry("reading "+RedactURL(u), ex, attempt, delay)
		if serr := c.sleep(ctx, delay); serr != nil {
			return nil, errors.Join(err, serr)
		}
	}
}

// reason is why an attempt failed, for logs: the status or the transport
// error (which names no credentials).
func reason(ex exchange) string {
	if ex.err != nil {
		return ex.err.Error()
	}
	return fmt.Sprintf("status %d", ex.status)
}

// bodyState records a failure of our own body, which the transport would
// otherwise report as a network error.
type bodyState struct{ err atomic.Pointer[error] }

func (s *bodyState) set(err error) { s.err.CompareAndSwap(nil, &err) }
func (s *bodyState) get() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}
