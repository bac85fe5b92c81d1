package stage

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/pack"
)

// maxManifest bounds a release manifest: a few hundred bytes a package.
const maxManifest = 16 << 20

// ReleaseTarballs reads the release manifest at path (written by
// airlock pack --workspaces) and returns its tarballs in the order to
// publish them, each pinned by the integrity the manifest lists and
// bound to the name and version it lists. The manifest travels with the
// tarballs, so its own sha512 must be pin, which reaches the publish job
// another way (a job output); nothing in it is read before that check.
func ReleaseTarballs(path, pin string) ([]Tarball, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the release manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("reading the release manifest %s: %w", path, err)
	}
	if len(data) > maxManifest {
		return nil, fmt.Errorf("the release manifest %s is larger than %d bytes", path, maxManifest)
	}
	sum, _ := digest(bytes.NewReader(data))
	if err := checkPin(pin, sum.integrity, false); err != nil {
		return nil, hint.With(fmt.Errorf("release manifest %s: %w", path, err), hint.Of(err)+
			" (the pin of --manifest is the manifest-integrity output of airlock pack --workspaces)")
	}
	m, err := pack.ParseReleaseManifest(path, data)
	if err != nil {
		return nil, err
	}
	out := make([]Tarball, len(m.Packages))
	for i, p := range m.Packages {
		out[i] = Tarball{Path: p.TarballPath(path), Integrity: p.Integrity, Name: p.Name, Version: p.Version}
	}
	return out, nil
}
