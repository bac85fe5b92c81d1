package stage

import (
	"encoding/json"

	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/publishdoc"
	"github.com/airlockdev/airlock/internal/registry"
)

// buildDocument builds the body npm publish would send for the tarball
// and hands it to the registry client in its own form: the client writes
// the JSON and streams the tarball into it.
func buildDocument(c *inspect.Contents, kept map[string][]byte, sum digests, p plan, toolVersion, cwd, tarballPath string) (*registry.PublishDoc, string, error) {
	files := make([]publishdoc.File, 0, len(c.Files))
	for _, f := range c.Files {
		files = append(files, publishdoc.File{Path: f.Path, Size: f.Size, Data: kept[f.Path]})
	}
	// npm writes _resolved and _from from the argument as typed, relative
	// to where it ran.
	resolved, from := publishdoc.FileSpec(cwd, tarballPath)
	doc, err := publishdoc.Build(publishdoc.Input{
		PackageJSON: c.PackageJSON,
		Files:       publishdoc.NewFS(files),
		Integrity:   sum.integrity,
		Shasum:      sum.shasum,
		Size:        sum.size,
		Registry:    p.registry,
		Tag:         p.tag,
		Access:      p.access,
		Tool:        publishdoc.Airlock(toolVersion),
		Resolved:    resolved,
		From:        from,
	})
	if err != nil {
		return nil, "", err
	}
	version, err := doc.VersionJSON()
	if err != nil {
		return nil, "", err
	}
	out := &registry.PublishDoc{
		ID:       doc.Name(),
		Name:     doc.Name(),
		DistTags: []registry.DistTag{{Tag: doc.Tag(), Version: doc.Version()}},
		Versions: []registry.DocVersion{{Version: doc.Version(), Manifest: json.RawMessage(version)}},
		Attachments: []registry.Attachment{{
			Name: doc.TarballName(), ContentType: "application/octet-stream", Length: sum.size,
		}},
	}
	if out.Description, err = doc.DescriptionJSON(); err != nil {
		return nil, "", err
	}
	if a, ok := doc.Access(); ok {
		out.Access = &a
	}
	return out, doc.Tag(), nil
}
