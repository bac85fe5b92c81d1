package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
)

// The staged-publish review endpoints, as npm 11's "npm stage" commands
// call them. Like npm-registry-fetch, paths are appended to the registry
// URL as configured, path prefix included.

// StagedVersion is a version waiting on the registry for a maintainer to
// approve or reject it: the fields airlock uses, and the record as the
// registry sent it.
type StagedVersion struct {
	ID          string `json:"id"`
	PackageName string `json:"packageName"`
	Version     string `json:"version"`
	Tag         string `json:"tag"`
	CreatedAt   string `json:"createdAt"`
	Actor       string `json:"actor"`
	ActorType   string `json:"actorType"`
	Access      string `json:"access"`
	// Shasum is the hex sha1 of the staged tarball.
	Shasum string `json:"shasum"`
	// Raw is the record as received, a JSON object.
	Raw json.RawMessage `json:"-"`
}

// StageQuery selects one page of staged versions.
type StageQuery struct {
	// Package limits the list to one package; "" lists every staged
	// version the credentials can see.
	Package string
	// Page counts from 0.
	Page int
	// PerPage is the page size; 0 means 100, as npm asks for.
	PerPage int
}

// StagePage is one page of a staged-version listing.
type StagePage struct {
	Items []StagedVersion
	// Total is how many staged versions match the query, or -1 when the
	// registry did not say.
	Total int
}

var (
	// ErrOTPRequired: the registry answered 401 asking for a one-time
	// password, recognised as npm recognises it (a WWW-Authenticate
	// challenge "otp", or a body mentioning a "one-time pass"word).
	ErrOTPRequired = errors.New("the registry requires a one-time password")
	// ErrTooLarge: an answer was larger than the caller allowed.
	ErrTooLarge = errors.New("the answer is too large")
)

// StagePerPage is the page size npm asks for.
const StagePerPage = 100

// IsStageID reports whether id has the form npm's stage commands accept:
// a UUID, 8-4-4-4-12 hexadecimal digits in either case. Only such ids
// are put in a URL.
func IsStageID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// StageList fetches one page of the staged versions the credentials can
// see (GET <registry>/-/stage?page=P&perPage=N[&package=NAME]).
func (c *Client) StageList(ctx context.Context, registryURL string, q StageQuery, auth Auth) (*StagePage, error) {
	if q.Package != "" {
		if err := checkName(q.Package); err != nil {
			return nil, err
		}
	}
	if q.Page < 0 || q.PerPage < 0 {
		return nil, fmt.Errorf("invalid page %d of %d", q.Page, q.PerPage)
	}
	if q.PerPage == 0 {
		q.PerPage = StagePerPage
	}
	u, err := stageURL(registryURL, "-/stage")
	if err != nil {
		return nil, err
	}
	// In npm's order and with its (WHATWG form) encoding, so the request
	// is byte for byte the one npm sends.
	u.RawQuery = "page=" + strconv.Itoa(q.Page) + "&perPage=" + strconv.Itoa(q.PerPage)
	if q.Package != "" {
		u.RawQuery += "&package=" + formEscape(q.Package)
	}
	body, err := c.stageDo(ctx, c.stageRequest(http.MethodGet, u, auth), "the registry may not support staged publishing, or the credentials cannot see the package")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Items *[]json.RawMessage `json:"items"`
		Total *int               `json:"total"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Items == nil {
		return nil, fmt.Errorf("GET %s: the answer is not a list of staged versions (JSON with items)", RedactURL(u))
	}
	page := &StagePage{Total: -1, Items: make([]StagedVersion, 0, len(*doc.Items))}
	if doc.Total != nil {
		page.Total = *doc.Total
	}
	for i, raw := range *doc.Items {
		v, err := parseStagedVersion(raw)
		if err != nil {
			return nil, fmt.Errorf("GET %s: item %d: %w", RedactURL(u), i, err)
		}
		page.Items = append(page.Items, *v)
	}
	return page, nil
}

// StageView fetches the staged version id (GET <registry>/-/stage/<id>).
func (c *Client) StageView(ctx context.Context, registryURL, id string, auth Auth) (*StagedVersion, error) {
	u, err := stageIDURL(registryURL, id, "")
	if err != nil {
		return nil, err
	}
	body, err := c.stageDo(ctx, c.stageRequest(http.MethodGet, u, auth), notStaged)
	if err != nil {
		return nil, err
	}
	v, err := parseStagedVersion(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", RedactURL(u), err)
	}
	return v, nil
}

// StageApprove publishes the staged version id (POST
// <registry>/-/stage/<id>/approve). Registries require a second factor
// for it: auth should add the npm-otp header.
func (c *Client) StageApprove(ctx context.Context, registryURL, id string, auth Auth) error {
	u, err := stageIDURL(registryURL, id, "/approve")
	if err != nil {
		return err
	}
	_, err = c.stageDo(ctx, c.stageRequest(http.MethodPost, u, auth), notStaged)
	return err
}

// StageReject deletes the staged version id and its tarball (DELETE
// <registry>/-/stage/<id>). Like StageApprove it needs a second factor.
func (c *Client) StageReject(ctx context.Context, registryURL, id string, auth Auth) error {
	u, err := stageIDURL(registryURL, id, "")
	if err != nil {
		return err
	}
	_, err = c.stageDo(ctx, c.stageRequest(http.MethodDelete, u, auth), notStaged)
	return err
}

// StageTarball downloads the staged version's tarball (GET
// <registry>/-/stage/<id>/tarball), refusing one larger than max bytes
// with an error matching ErrTooLarge. The data is not checked: that is
// the caller's job, against the staged version's shasum.
func (c *Client) StageTarball(ctx context.Context, registryURL, id string, max int64, auth Auth) ([]byte, error) {
	if max <= 0 {
		return nil, errors.New("no size limit for the staged tarball")
	}
	u, err := stageIDURL(registryURL, id, "/tarball")
	if err != nil {
		return nil, err
	}
	r := c.stageRequest(http.MethodGet, u, auth)
	r.accept = "application/octet-stream"
	r.maxBody = max
	// A staged tarball can be as large as a published one.
	r.timeout = orDefault(c.PublishTimeout, defaultPublishTimeout)
	return c.stageDo(ctx, r, notStaged)
}

const notStaged = "no staged version has this ID on the registry (it may have been approved or rejected already), or the credentials cannot see it: 'airlock stage list' shows the IDs"

func (c *Client) stageRequest(method string, u *url.URL, auth Auth) request {
	return request{
		method:  method,
		url:     u,
		accept:  "application/json",
		auth:    auth,
		timeout: orDefault(c.RequestTimeout, defaultRequestTimeout),
		maxBody: MaxPackumentSize,
	}
}

func stageURL(registryURL, path string) (*url.URL, error) {
	base, err := registryBase(registryURL)
	if err != nil {
		return nil, err
	}
	return url.Parse(base.String() + path)
}

func stageIDURL(registryURL, id, suffix string) (*url.URL, error) {
	if !IsStageID(id) {
		return nil, fmt.Errorf("invalid stage ID %s: want a UUID", quoteShort(id))
	}
	return stageURL(registryURL, "-/stage/"+id+suffix)
}

// stageDo sends r, retrying as the policy allows, and returns the body of
// a 2xx answer. notFound is the advice for a 404.
func (c *Client) stageDo(ctx context.Context, r request, notFound string) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		ex := c.roundTrip(ctx, r)
		var err error
		switch {
		case ex.err != nil && ex.status/100 == 2 && int64(len(ex.body)) > r.maxBody:
			// Trying again would download the same too much.
			return nil, fmt.Errorf("%s %s: %w (more than %d bytes)", r.method, RedactURL(r.url), ErrTooLarge, r.maxBody)
		case ex.err != nil:
			err = ex.err
		case ex.status/100 == 2:
			return ex.body, nil
		case otpDemanded(ex.status, ex.challenge, ex.body):
			e := newHTTPError(r.method, r.url, ex.status, ex.contentType, ex.body, ex.secrets)
			return nil, hint.With(fmt.Errorf("%w: %w", ErrOTPRequired, e),
				"send the one-time password (the 2FA code) with the request")
		case ex.status == http.StatusNotFound:
			err = hint.With(newHTTPError(r.method, r.url, ex.status, ex.contentType, ex.body, ex.secrets), notFound)
		default:
			err = ex.httpError(r)
		}
		delay, ok := c.Retry.decide(r.method, ex, attempt, c.now())
		if !ok || ctx.Err() != nil {
			return nil, err
		}
		c.warnRetry(r.method+" "+RedactURL(r.url), ex, attempt, delay)
		if serr := c.sleep(ctx, delay); serr != nil {
			return nil, errors.Join(err, serr)
		}
	}
}

// otpDemanded says whether a failed answer asks for a one-time password,
// as npm-registry-fetch decides: a 401 whose WWW-Authenticate, split at
// commas, has an "otp" element, or, when there is no such header, a 401
// whose body mentions a "one-time pass".
func otpDemanded(status int, challenge string, body []byte) bool {
	if status != http.StatusUnauthorized {
		return false
	}
	if challenge != "" {
		for _, p := range strings.Split(challenge, ",") {
			if strings.EqualFold(strings.TrimLeft(p, " \t\r\n\f\v"), "otp") {
				return true
			}
		}
		return false
	}
	return bytes.Contains(body, []byte("one-time pass"))
}

// parseStagedVersion decodes one staged-version record, which must be a
// JSON object; fields airlock does not use may hold anything.
func parseStagedVersion(raw []byte) (*StagedVersion, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errors.New("a staged version is not a JSON object")
	}
	var v StagedVersion
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("decoding a staged version: %w", err)
	}
	v.Raw = append(json.RawMessage(nil), raw...)
	return &v, nil
}

// formEscape encodes s as URLSearchParams does (WHATWG form encoding):
// ASCII letters, digits and *-._ stay, everything else is %XX.
func formEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("*-._", c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// quoteShort quotes outside text for an error, cut to a readable length.
func quoteShort(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "…"
	}
	return strconv.Quote(s)
}
