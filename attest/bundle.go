package attest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

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

// FetchBundle downloads the SLSA provenance bundle the registry keeps for
// name@version, from GET <registry>/-/npm/v1/attestations/<name>@<version>
// (as npm audit signatures does), and returns the bundle JSON. It sends
// no credentials: provenance is public.
func FetchBundle(ctx context.Context, name, version string, o FetchOptions) ([]byte, error) {
	id := name + "@" + version
	shown, err := registry.AttestationsURL(o.Registry, name, version)
	if err != nil {
		return nil, hint.With(fmt.Errorf("fetching the provenance of %s: %w", id, err), "set registry to the registry's URL")
	}
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("fetching the provenance of %s from %s: %w", id, shown, err)
	}
	client := &registry.Client{HTTP: o.HTTP, UserAgent: o.UserAgent}
	body, err := client.Attestations(ctx, o.Registry, name, version, nil)
	var he *registry.HTTPError
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return fail(hint.With(fmt.Errorf("%w: the registry answered 404", ErrNoProvenance),
			"the version was published without provenance, or the registry keeps none; pass the bundle with --bundle FILE if you have it"))
	case errors.As(err, &he):
		return fail(fmt.Errorf("the registry answered %d: %s", he.StatusCode, he.RegistryMessage))
	case err != nil:
		return nil, fmt.Errorf("fetching the provenance of %s: %w", id, err)
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
