package registry

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// SetDistTag points the dist-tag tag of the package name at version, as
// `npm dist-tag add` does: PUT <registry>/-/package/<name>/dist-tags/<tag>
// with the version as a JSON string.
func (c *Client) SetDistTag(ctx context.Context, registryURL, name, tag, version string, auth Auth) error {
	if err := checkName(name); err != nil {
		return err
	}
	u, err := stageURL(registryURL, "-/package/"+EscapeName(name)+"/dist-tags/"+url.PathEscape(tag))
	if err != nil {
		return err
	}
	body, err := json.Marshal(version)
	if err != nil {
		return err
	}
	r := c.stageRequest(http.MethodPut, u, auth)
	r.body = &plan{segs: []segment{{lit: body}}, size: int64(len(body))}
	_, err = c.stageDo(ctx, r, "the registry has no package "+Sanitize(name, nil)+" to tag")
	return err
}
