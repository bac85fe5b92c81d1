package stage

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/registry"
)

// attachProvenance asks opts.Provenance and, unless this is a dry run,
// adds the bundle to doc as npm does: "<name>-<version>.sigstore", with
// the bundle's media type and its JSON as the data.
func attachProvenance(ctx context.Context, doc *registry.PublishDoc, res *Result, name, version string, sum digests, p plan, auth registry.Auth, opts Options) error {
	listed, err := opts.Client.Visibility(ctx, p.registry, name, auth)
	if err != nil {
		return fmt.Errorf("asking the registry whether %s is public, for provenance: %w", name, err)
	}
	req := attest.Request{
		Subject:       attest.Subject{Name: name, Version: version, SHA512: sum.sha512},
		RepositoryURL: repositoryURL(doc),
		Public:        p.access == "public" || listed,
		Listed:        listed,
	}
	ok, err := opts.Provenance.Check(ctx, req)
	if err != nil {
		return fmt.Errorf("provenance for %s@%s: %w", name, version, err)
	}
	if !ok {
		return nil
	}
	if opts.DryRun {
		res.Provenance = "would be attached"
		return nil
	}
	bundle, err := opts.Provenance.Bundle(ctx, req)
	if err != nil {
		return fmt.Errorf("provenance for %s@%s: %w", name, version, err)
	}
	mediaType, err := attest.MediaType(bundle)
	if err != nil {
		return fmt.Errorf("provenance for %s@%s: %w", name, version, err)
	}
	doc.Attachments = append(doc.Attachments, registry.Attachment{
		Name: name + "-" + version + ".sigstore", ContentType: mediaType, Length: int64(len(bundle)), Data: bundle,
	})
	res.Provenance = "attached"
	if i := attest.LogIndex(bundle); i >= 0 {
		res.Provenance = fmt.Sprintf("attached (transparency log index %d)", i)
	}
	return nil
}

// repositoryURL is repository.url of the version's manifest, as the
// registry will read it.
func repositoryURL(doc *registry.PublishDoc) string {
	var m struct {
		Repository json.RawMessage `json:"repository"`
	}
	if len(doc.Versions) != 1 || json.Unmarshal(doc.Versions[0].Manifest, &m) != nil {
		return ""
	}
	var r struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(m.Repository, &r) == nil {
		return r.URL
	}
	var s string
	_ = json.Unmarshal(m.Repository, &s)
	return s
}
