package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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

// Attestations fetches the registry's attestations document for
// name@version (GET <registry>/-/npm/v1/attestations/<escaped
// name>@<version>, as npm audit signatures does). A 404 gives an error
// matching ErrNotFound. auth may be nil: provenance is public.
func (c *Client) Attestations(ctx context.Context, registryURL, name, version string, auth Auth) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	u, err := attestationsURL(registryURL, name, version)
	if err != nil {
		return nil, err
	}
	return c.get(ctx, u, auth)
}

// AttestationsURL is where Attestations looks, without credentials, for
// messages.
func AttestationsURL(registryURL, name, version string) (string, error) {
	u, err := attestationsURL(registryURL, name, version)
	if err != nil {
		return "", err
	}
	return RedactURL(u), nil
}

func attestationsURL(registryURL, name, version string) (*url.URL, error) {
	base, err := registryBase(registryURL)
	if err != nil {
		return nil, err
	}
	return base.Parse("-/npm/v1/attestations/" + EscapeName(name) + "@" + url.PathEscape(version))
}
