package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Visibility asks the registry whether the package name is public (GET
// <registry>/-/package/<escaped name>/visibility, as npm does before it
// makes provenance). A registry that does not know the package, or does
// not answer this question (404), is taken to say it is not public, as
// npm takes it.
func (c *Client) Visibility(ctx context.Context, registryURL, name string, auth Auth) (public bool, err error) {
	if err := checkName(name); err != nil {
		return false, err
	}
	base, err := registryBase(registryURL)
	if err != nil {
		return false, err
	}
	u, err := base.Parse("-/package/" + EscapeName(name) + "/visibility")
	if err != nil {
		return false, err
	}
	body, err := c.get(ctx, u, auth)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var v struct {
		Public bool `json:"public"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return false, fmt.Errorf("GET %s: the answer is not JSON with a \"public\" field", RedactURL(u))
	}
	return v.Public, nil
}
