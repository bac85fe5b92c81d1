package attest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/registry"
)

// ErrNoProvenance means the registry holds no provenance for a version.
var ErrNoProvenance = errors.New("no provenance")

// FetchOptions configure FetchBundle.
type FetchOptions struct {
	// Registry is the registry's base URL, e.g. https://registry.npmjs.org/.
	Registry string
	// HTTP is the client; nil means one with a 30s timeout.
	HTTP      *http.Client
	UserAgent string
}

// maxAttestations bounds the attestations document read from the
// registry (a bundle is a few kilobytes).
const maxAttestations = 4 << 20

// FetchBundle downloads the SLSA provenance bundle the registry keeps for
// name@version, from GET <registry>/-/npm/v1/attestations/<name>@<version>
// (as npm audit signatures does), and returns the bundle JSON. It sends
// no credentials: provenance is public.
func FetchBundle(ctx context.Context, name, version string, o FetchOptions) ([]byte, error) {
	id := name + "@" + version
	base, err := url.Parse(o.Registry)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, hint.With(fmt.Errorf("fetching the provenance of %s: registry %q is not an http(s) URL", id, o.Registry), "set registry to the registry's URL")
	}
	base.User = nil
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		base.RawPath = ""
	}
	u := base.String() + "-/npm/v1/attestations/" + registry.EscapeName(name) + "@" + url.PathEscape(version)
	shown := registry.RedactURL(base) + "-/npm/v1/attestations/" + registry.EscapeName(name) + "@" + version
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("fetching the provenance of %s from %s: %w", id, shown, err)
	}
	client := o.HTTP
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", "application/json")
	if o.UserAgent != "" {
		req.Header.Set("User-Agent", o.UserAgent)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAttestations+1))
	if err != nil {
		return fail(err)
	}
	if len(body) > maxAttestations {
		return fail(fmt.Errorf("the answer is larger than %d bytes", maxAttestations))
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fail(hint.With(fmt.Errorf("%w: the registry answered 404", ErrNoProvenance),
			"the version was published without provenance, or the registry keeps none; pass the bundle with --bundle FILE if you have it"))
	case resp.StatusCode != http.StatusOK:
		return fail(fmt.Errorf("the registry answered %d: %s", resp.StatusCode, registry.Sanitize(string(body), nil)))
	}
	return pickProvenance(body, fail)
}

func pickProvenance(body []byte, fail func(error) ([]byte, error)) ([]byte, error) {
	var doc struct {
		Attestations []struct {
			PredicateType string          `json:"predicateType"`
			Bundle        json.RawMessage `json:"bundle"`
		} `json:"attestations"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fail(fmt.Errorf("reading the attestations: %w", err))
	}
	var types []string
	for _, a := range doc.Attestations {
		if a.PredicateType == slsaV1 || a.PredicateType == slsaV02 {
			if len(a.Bundle) == 0 || string(a.Bundle) == "null" {
				return fail(fmt.Errorf("%w: the provenance attestation has no bundle", ErrBundle))
			}
			return a.Bundle, nil
		}
		types = append(types, fmt.Sprintf("%q", a.PredicateType))
	}
	return fail(hint.With(fmt.Errorf("%w: the registry lists %d attestations (%s), none of them SLSA provenance", ErrNoProvenance, len(doc.Attestations), strings.Join(types, ", ")),
		"the version was published without provenance"))
}
