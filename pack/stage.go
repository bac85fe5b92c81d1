package pack

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/airlockdev/airlock/internal/manifest"
)

// stage is a temporary folder holding exactly what pnpm or yarn packs: a
// copy of each selected file with the mode that manager gives it, and the
// package.json it writes. The tar stream is then airlock's usual one,
// written from here; copies rather than links, so nothing is archived as
// a hard link (neither manager writes link entries).
type stage struct {
	dir   string
	files []string
}

func newStage() (*stage, error) {
	dir, err := os.MkdirTemp("", "airlock-stage-*")
	if err != nil {
		return nil, fmt.Errorf("staging files: %w", err)
	}
	return &stage{dir: dir}, nil
}

func (s *stage) remove() {
	if s != nil {
		os.RemoveAll(s.dir)
	}
}

func (s *stage) path(rel string) (string, error) {
	p := filepath.Join(s.dir, filepath.FromSlash(rel))
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("staging files: %q is not a path inside the package", rel)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("staging files: %w", err)
	}
	return p, nil
}

func (s *stage) writeFile(rel string, data []byte, mode fs.FileMode) error {
	p, err := s.path(rel)
	if err != nil {
		return err
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		return fmt.Errorf("staging files: %w", err)
	}
	s.files = append(s.files, rel)
	return os.Chmod(p, mode) // whatever the umask
}

// copyFile copies the regular file src (a link to one is followed, as
// the managers read through it).
func (s *stage) copyFile(rel, src string, mode fs.FileMode) error {
	p, err := s.path(rel)
	if err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("packing %s: %w", rel, err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("packing %s: %w", rel, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("packing %s: not a regular file", rel)
	}
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("staging files: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("packing %s: %w", rel, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("staging files: %w", err)
	}
	s.files = append(s.files, rel)
	return os.Chmod(p, mode)
}

// contents describes the staged package: the files in npm's tar order,
// the packed manifest, and where they came from (source, sourceFiles).
func (s *stage) contents(pkgFile string, pkgJSON []byte, source string, sourceFiles []string) (*contents, error) {
	m, err := manifest.Parse(pkgJSON, os.DirFS(s.dir))
	if err != nil {
		s.remove()
		var me *manifest.Error
		if ok := asManifestError(err, &me); ok {
			me.File = pkgFile
			return nil, me
		}
		return nil, &manifest.Error{File: pkgFile, Err: err}
	}
	files := make([]string, len(s.files))
	for i, f := range s.files {
		if strings.HasPrefix(f, "@") {
			f = "./" + f
		}
		files[i] = f
	}
	sortPackOrder(files)
	return &contents{
		dir: s.dir, files: files, m: m, pkgFile: pkgFile, pkgJSON: pkgJSON,
		source: source, sourceFiles: sourceFiles, cleanup: s.remove,
	}, nil
}

func asManifestError(err error, target **manifest.Error) bool {
	me, ok := err.(*manifest.Error)
	if ok {
		*target = me
	}
	return ok
}
