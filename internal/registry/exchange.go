package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// ExchangeError is a registry's refusal to exchange an ID token: the
// HTTPError, with the status kept for callers that explain each one.
type ExchangeError struct{ *HTTPError }

func (e *ExchangeError) Unwrap() error { return e.HTTPError }

// ExchangeIDToken asks the registry at registryURL for a publish token for
// the package name in exchange for a CI's OIDC ID token (npm's trusted
// publishing). auth must send the ID token as a bearer.
//
// The request is a POST without a body to
// /-/npm/v1/oidc/token/exchange/package/<escaped name> on the registry's
// origin: like npm, the path replaces any path the registry URL has. A
// refusal is an *ExchangeError. The token returned is the registry's
// answer; callers keep it in memory only.
func (c *Client) ExchangeIDToken(ctx context.Context, registryURL, name string, auth Auth) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	base, err := registryBase(registryURL)
	if err != nil {
		return "", err
	}
	u, err := base.Parse("/-/npm/v1/oidc/token/exchange/package/" + EscapeName(name))
	if err != nil {
		return "", err
	}
	r := request{
		method:  http.MethodPost,
		url:     u,
		accept:  "application/json",
		auth:    auth,
		timeout: orDefault(c.RequestTimeout, defaultRequestTimeout),
		maxBody: maxErrorBody,
	}
	for attempt := 1; ; attempt++ {
		ex := c.roundTrip(ctx, r)
		switch {
		case ex.err == nil && ex.status/100 == 2:
			return exchangedToken(u, ex.body)
		case ex.err == nil:
			var he *HTTPError
			if errors.As(ex.httpError(r), &he) {
				he.Hint = "" // the caller explains refusals of an exchange
				return "", &ExchangeError{he}
			}
			return "", ex.httpError(r)
		}
		// A token exchange changes nothing but the registry's list of
		// short-lived tokens, so one that got no answer may be asked again.
		delay, ok := c.Retry.decide(http.MethodGet, ex, attempt, c.now())
		if !ok || ctx.Err() != nil {
			return "", ex.err
		}
		c.warnRetry("the token exchange at "+RedactURL(u), ex, attempt, delay)
		if err := c.sleep(ctx, delay); err != nil {
			return "", errors.Join(ex.err, err)
		}
	}
}

func exchangedToken(u *url.URL, body []byte) (string, error) {
	var answer struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return "", fmt.Errorf("POST %s: the answer is not the JSON of a token exchange", RedactURL(u))
	}
	if answer.Token == "" {
		return "", fmt.Errorf("POST %s: the registry answered without a token", RedactURL(u))
	}
	return answer.Token, nil
}
