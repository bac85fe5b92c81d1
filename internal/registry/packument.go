package registry

import (
	"context"
	"encoding/json"
	"fmt"
)

// Packument is a registry's document for a package: what the client
// needs of it, and the whole document as the registry sent it.
type Packument struct {
	Name     string             `json:"name"`
	DistTags map[string]string  `json:"dist-tags"`
	Versions map[string]Version `json:"versions"`
	// Raw is the document as received.
	Raw json.RawMessage `json:"-"`
}

// Version is one version of a Packument.
type Version struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Dist    Dist   `json:"dist"`
}

// Dist says where a version's tarball is and what it must hash to.
type Dist struct {
	Integrity string `json:"integrity"`
	Shasum    string `json:"shasum"`
	Tarball   string `json:"tarball"`
}

// Packument fetches the document of the package name from the registry
// at registryURL. A registry answering 404 gives an error matching
// ErrNotFound. auth may be nil for an anonymous request.
func (c *Client) Packument(ctx context.Context, registryURL, name string, auth Auth) (*Packument, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	base, err := registryBase(registryURL)
	if err != nil {
		return nil, err
	}
	u, err := packageURL(base, name)
	if err != nil {
		return nil, err
	}
	data, err := c.get(ctx, u, auth)
	if err != nil {
		return nil, err
	}
	p, err := ParsePackument(data)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", RedactURL(u), err)
	}
	if p.Name != name {
		return nil, fmt.Errorf("GET %s: the registry answered with the packument of %q", RedactURL(u), Sanitize(p.Name, nil))
	}
	return p, nil
}

// ParsePackument decodes a packument. Fields the client does not use may
// hold anything; those it uses must have the expected types.
func ParsePackument(data []byte) (*Packument, error) {
	var p Packument
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decoding the packument: %w", err)
	}
	p.Raw = json.RawMessage(data)
	return &p, nil
}
