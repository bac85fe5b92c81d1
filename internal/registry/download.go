package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Tarball downloads a published version's tarball from tarballURL (its
// dist.tarball), refusing one larger than max bytes with an error
// matching ErrTooLarge. The credentials of the registry at registryURL
// are sent only when the tarball is on the registry's own origin: a
// packument may point anywhere. The data is not checked: that is the
// caller's job, against the version's integrity.
func (c *Client) Tarball(ctx context.Context, registryURL, tarballURL string, max int64, auth Auth) ([]byte, error) {
	if max <= 0 {
		return nil, errors.New("no size limit for the tarball")
	}
	base, err := registryBase(registryURL)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(tarballURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("the registry's tarball URL %s is not an http(s) URL", quoteShort(Sanitize(tarballURL, nil)))
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		auth = nil
	}
	return c.getRequest(ctx, request{
		method:  http.MethodGet,
		url:     u,
		accept:  "application/octet-stream",
		auth:    auth,
		timeout: orDefault(c.PublishTimeout, defaultPublishTimeout),
		maxBody: max,
	})
}
