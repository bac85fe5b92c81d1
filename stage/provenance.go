package stage

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/jsvalue"
	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/pack"
)

// checkProvenance asks opts.Provenance whether a bundle is to be made
// and whether the registry would take it, before anything is signed.
func (r *release) checkProvenance(ctx context.Context, opts Options) error {
	name, version := r.res.Name, r.res.Version
	listed, err := opts.Client.Visibility(ctx, r.plan.registry, name, r.auth)
	if err != nil {
		return fmt.Errorf("asking the registry whether %s is public, for provenance: %w", name, err)
	}
	req := attest.Request{
		Subject:       attest.Subject{Name: name, Version: version, SHA512: r.sum.sha512},
		RepositoryURL: repositoryURL(r.doc),
		Public:        r.plan.access == "public" || listed,
		Listed:        listed,
	}
	ok, err := opts.Provenance.Check(ctx, req)
	if err != nil {
		return fmt.Errorf("provenance for %s@%s: %w", name, version, err)
	}
	if !ok || r.action != upload {
		return nil
	}
	r.prov = &req
	if opts.DryRun {
		r.res.Provenance = "would be attached"
	}
	return nil
}

// sign makes or takes the bundle and attaches it to the document as npm
// does: "<name>-<version>.sigstore", with the bundle's media type and its
// JSON as the data.
func (r *release) sign(ctx context.Context, opts Options) error {
	if r.prov == nil {
		return nil
	}
	name, version := r.res.Name, r.res.Version
	bundle, err := opts.Provenance.Bundle(ctx, *r.prov)
	if err != nil {
		return fmt.Errorf("provenance for %s@%s: %w", name, version, err)
	}
	mediaType, err := attest.MediaType(bundle)
	if err != nil {
		return fmt.Errorf("provenance for %s@%s: %w", name, version, err)
	}
	// npm's length is that of the bundle's JSON as a JavaScript string:
	// UTF-16 code units, not bytes (a Rekor checkpoint holds "—").
	r.doc.Attachments = append(r.doc.Attachments, registry.Attachment{
		Name: name + "-" + version + ".sigstore", ContentType: mediaType, Length: int64(jsvalue.Length(string(bundle))), Data: bundle,
	})
	r.res.Provenance = "attached"
	if i := attest.LogIndex(bundle); i >= 0 {
		r.res.Provenance = fmt.Sprintf("attached (transparency log index %d)", i)
	}
	if opts.ProvenanceDir != "" {
		path := filepath.Join(opts.ProvenanceDir, ProvenanceFile(name, version))
		if err := os.MkdirAll(opts.ProvenanceDir, 0o755); err != nil {
			return fmt.Errorf("provenance for %s@%s: %w", name, version, err)
		}
		if err := os.WriteFile(path, bundle, 0o644); err != nil {
			return fmt.Errorf("provenance for %s@%s: %w", name, version, err)
		}
		r.res.ProvenanceFile = path
	}
	return nil
}

// ProvenanceFile is the file name --provenance-out gives the bundle of
// name@version: npm's attachment name, with a scope flattened as npm
// flattens it in a tarball's name ("@acme/x" 1.0.0 is
// "acme-x-1.0.0.sigstore").
func ProvenanceFile(name, version string) string {
	return strings.TrimSuffix(pack.Filename(name, version), ".tgz") + ".sigstore"
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
