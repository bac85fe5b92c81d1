package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNoUser: the registry answered whoami without a user name, as
// Verdaccio does for credentials it does not know (it takes the request
// as anonymous); npm whoami then says "This command requires you to be
// logged in".
var ErrNoUser = errors.New("the registry names no user for these credentials")

// Whoami asks the registry at registryURL whose credentials auth sends
// (GET <registry>/-/whoami, the request of npm whoami) and returns the
// user name it answers with. A refusal is an *HTTPError: a 401 matches
// ErrUnauthorized; an answer without a user matches ErrNoUser.
func (c *Client) Whoami(ctx context.Context, registryURL string, auth Auth) (string, error) {
	base, err := registryBase(registryURL)
	if err != nil {
		return "", err
	}
	u, err := base.Parse("-/whoami")
	if err != nil {
		return "", err
	}
	body, err := c.get(ctx, u, auth)
	if err != nil {
		return "", err
	}
	var answer struct {
		Username *string `json:"username"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return "", fmt.Errorf("GET %s: the answer is not JSON", RedactURL(u))
	}
	if answer.Username == nil || *answer.Username == "" {
		return "", fmt.Errorf("GET %s: %w", RedactURL(u), ErrNoUser)
	}
	return Sanitize(*answer.Username, nil), nil
}

// Ping checks that the registry at registryURL answers (GET
// <registry>/-/ping, as npm ping). Any HTTP answer counts: only a
// failure to connect is an error.
func (c *Client) Ping(ctx context.Context, registryURL string) error {
	base, err := registryBase(registryURL)
	if err != nil {
		return err
	}
	u, err := base.Parse("-/ping")
	if err != nil {
		return err
	}
	r := request{method: "GET", url: u, accept: "application/json", timeout: orDefault(c.RequestTimeout, defaultRequestTimeout), maxBody: maxErrorBody}
	for attempt := 1; ; attempt++ {
		ex := c.roundTrip(ctx, r)
		if ex.err == nil {
			return nil
		}
		delay, ok := c.Retry.decide(r.method, ex, attempt, c.now())
		if !ok || ctx.Err() != nil {
			return ex.err
		}
		if err := c.sleep(ctx, delay); err != nil {
			return ex.err
		}
	}
}
