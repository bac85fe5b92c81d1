package npmtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// A fixture is a txtar archive whose files are a package tree. Two names
// are reserved:
//
//	-- .fixture --   directives applied after the files are written, one a
//	                 line (# starts a comment):
//	                   symlink LINK -> TARGET   (TARGET kept as written)
//	                   hardlink NEW -> EXISTING
//	                   chmod 0755 PATH
//	                   mkdir PATH               (an empty directory)
//	                   unquote PATH             (the file is txtar.Quote'd)
//	-- .want --      the tarball npm is expected to produce, one entry a
//	                 line in tar order: octal mode, a space, the path
//	                 without the package/ prefix, and for a hard link
//	                 " -> " and the link's target as the tar records it
//
// Trees live in txtar files rather than folders because a real folder's
// .gitignore, .npmrc and node_modules would be acted on by git itself.
const (
	DirectivesFile = ".fixture"
	WantFile       = ".want"
)

// Materialize writes the fixture at archivePath into a new temporary
// directory and returns it.
func Materialize(t testing.TB, archivePath string) string {
	t.Helper()
	ar, err := txtar.ParseFile(archivePath)
	if err != nil {
		t.Fatal(err)
	}
	return MaterializeArchive(t, ar)
}

// MaterializeArchive is Materialize for an archive already in memory.
func MaterializeArchive(t testing.TB, ar *txtar.Archive) string {
	t.Helper()
	dir := t.TempDir()
	if err := WriteTree(dir, ar); err != nil {
		t.Fatal(err)
	}
	return dir
}

// WriteTree writes the package tree described by ar into dir, which must
// exist. Files get mode 0644 and folders 0755 whatever the umask, so that
// only the directives decide modes.
func WriteTree(dir string, ar *txtar.Archive) error {
	var directives []byte
	for _, f := range ar.Files {
		switch f.Name {
		case DirectivesFile:
			directives = f.Data
			continue
		case WantFile:
			continue
		}
		p, err := within(dir, f.Name)
		if err != nil {
			return err
		}
		if err := mkdirAll(dir, filepath.Dir(p)); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
		if err := os.Chmod(p, 0o644); err != nil {
			return err
		}
	}
	for i, line := range strings.Split(string(directives), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := apply(dir, line); err != nil {
			return fmt.Errorf("%s line %d %q: %w", DirectivesFile, i+1, line, err)
		}
	}
	return nil
}

func apply(dir, line string) error {
	verb, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch verb {
	case "symlink", "hardlink":
		from, to, ok := strings.Cut(rest, " -> ")
		if !ok {
			return errors.New("want NEW -> EXISTING")
		}
		p, err := within(dir, strings.TrimSpace(from))
		if err != nil {
			return err
		}
		if err := mkdirAll(dir, filepath.Dir(p)); err != nil {
			return err
		}
		to = strings.TrimSpace(to)
		if verb == "symlink" {
			return os.Symlink(to, p)
		}
		old, err := within(dir, to)
		if err != nil {
			return err
		}
		return os.Link(old, p)
	case "chmod":
		modeText, name, ok := strings.Cut(rest, " ")
		if !ok {
			return errors.New("want chmod MODE PATH")
		}
		mode, err := strconv.ParseUint(modeText, 8, 32)
		if err != nil {
			return err
		}
		p, err := within(dir, strings.TrimSpace(name))
		if err != nil {
			return err
		}
		return os.Chmod(p, fs.FileMode(mode))
	case "mkdir":
		p, err := within(dir, rest)
		if err != nil {
			return err
		}
		return mkdirAll(dir, p)
	case "unquote":
		p, err := within(dir, rest)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		data, err = txtar.Unquote(data)
		if err != nil {
			return err
		}
		return os.WriteFile(p, data, 0) // existing file: keeps its mode
	}
	return fmt.Errorf("unknown directive %q", verb)
}

// within joins a slash-separated relative name onto dir, refusing names
// that would escape it.
func within(dir, name string) (string, error) {
	if name == "" || path.IsAbs(name) || !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", fmt.Errorf("fixture path %q is not a relative path inside the tree", name)
	}
	return filepath.Join(dir, filepath.FromSlash(name)), nil
}

// mkdirAll is os.MkdirAll with mode 0755 set explicitly on each folder it
// creates, whatever the umask.
func mkdirAll(root, p string) error {
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	if p != root {
		if err := mkdirAll(root, filepath.Dir(p)); err != nil {
			return err
		}
	}
	if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(p, 0o755)
}

// Want is one line of a fixture's .want section: MODE PATH, or
// MODE PATH -> LINKNAME for a hard-link entry.
type Want struct {
	Mode     int64
	Path     string
	Linkname string
}

// ParseWant reads a fixture's .want section; ok is false if it has none.
func ParseWant(ar *txtar.Archive) (want []Want, ok bool, err error) {
	i := slices.IndexFunc(ar.Files, func(f txtar.File) bool { return f.Name == WantFile })
	if i < 0 {
		return nil, false, nil
	}
	for n, line := range strings.Split(string(ar.Files[i].Data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		modeText, p, found := strings.Cut(line, " ")
		mode, perr := strconv.ParseInt(modeText, 8, 64)
		if !found || perr != nil {
			return nil, true, fmt.Errorf("%s line %d %q: want MODE PATH", WantFile, n+1, line)
		}
		p, link, _ := strings.Cut(p, " -> ")
		want = append(want, Want{Mode: mode, Path: p, Linkname: link})
	}
	return want, true, nil
}

// ReadTree is the inverse of WriteTree: it describes the tree in dir as a
// fixture, so a generated tree that exposed a bug can be kept as one.
// Contents that txtar cannot hold as they are get an unquote directive.
func ReadTree(dir string) (*txtar.Archive, error) {
	ar := &txtar.Archive{}
	var directives []string
	inodes := map[uint64]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			directives = append(directives, "symlink "+rel+" -> "+target)
		case d.IsDir():
			entries, err := os.ReadDir(p)
			if err != nil {
				return err
			}
			if len(entries) == 0 {
				directives = append(directives, "mkdir "+rel)
			}
		case d.Type().IsRegular():
			if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
				if first, seen := inodes[st.Ino]; seen {
					directives = append(directives, "hardlink "+rel+" -> "+first)
					return nil
				}
				inodes[st.Ino] = rel
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if len(data) > 0 && data[len(data)-1] != '\n' {
				return fmt.Errorf("%s cannot be kept in a txtar archive: it has no final newline", rel)
			}
			if txtar.NeedsQuote(data) {
				q, err := txtar.Quote(data)
				if err != nil {
					return fmt.Errorf("%s cannot be kept in a txtar archive: %w", rel, err)
				}
				data = q
				directives = append(directives, "unquote "+rel)
			}
			ar.Files = append(ar.Files, txtar.File{Name: rel, Data: data})
			if m := info.Mode().Perm(); m != 0o644 {
				directives = append(directives, fmt.Sprintf("chmod %04o %s", m, rel))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(directives) > 0 {
		// Unquoting rewrites the file, so it must come before chmod.
		slices.SortStableFunc(directives, func(a, b string) int {
			return boolInt(!strings.HasPrefix(a, "unquote ")) - boolInt(!strings.HasPrefix(b, "unquote "))
		})
		ar.Files = append(ar.Files, txtar.File{Name: DirectivesFile, Data: []byte(strings.Join(directives, "\n") + "\n")})
	}
	return ar, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
