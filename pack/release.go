package pack

import (
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/airlockdev/airlock/internal/manifest"
)

// ReleaseManifestName is the file PackWorkspaces writes next to the
// tarballs.
const ReleaseManifestName = "release.json"

// ReleaseSchema identifies the release manifest format; bump it on
// breaking change.
const ReleaseSchema = "https://github.com/airlockdev/airlock/release/v1"

// ReleaseManifest is the pack job's list of the tarballs of one workspace
// release, in the order they can be published: every package after the
// workspace packages it depends on. Like a receipt it travels with the
// artifact, so it cannot vouch for itself: its sha512 reaches the
// publish job through job outputs (manifest-integrity), and each tarball
// is checked against the integrity listed here.
type ReleaseManifest struct {
	Schema string `json:"schema"`
	// PackageManager is the manager whose publish the tarballs match:
	// "npm", "pnpm" or "yarn".
	PackageManager string `json:"packageManager"`
	GitCommit      string `json:"gitCommit,omitempty"`
	// GitDirty is true when any package was packed from a checkout that
	// differs from GitCommit (see Receipt.GitDirty); absent when unknown.
	GitDirty       *bool            `json:"gitDirty,omitempty"`
	AirlockVersion string           `json:"airlockVersion"`
	Packages       []ReleasePackage `json:"packages"`
}

// ReleasePackage is one tarball of a release.
type ReleasePackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Tarball is the file name, relative to the manifest's folder.
	Tarball   string `json:"tarball"`
	Integrity string `json:"integrity"`
	Shasum    string `json:"shasum"`
	// DependsOn names the packages of this release that this one depends
	// on through dependencies, optionalDependencies or peerDependencies,
	// sorted; they come earlier in Packages.
	DependsOn []string `json:"dependsOn"`
}

// Encode is the manifest as written: indented JSON and a newline.
func (r *ReleaseManifest) Encode() ([]byte, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ReleaseError reports a release manifest that cannot be used.
type ReleaseError struct {
	File string
	Err  error
}

func (e *ReleaseError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *ReleaseError) Unwrap() error { return e.Err }

var (
	sha512SRI = regexp.MustCompile(`^sha512-[A-Za-z0-9+/]{86}==$`)
	sha1Hex   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	commitID  = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)
)

// ReadReleaseManifest reads and checks a release manifest written by
// PackWorkspaces: the schema, each package's name, version, digests and
// tarball (a plain .tgz file name in the manifest's folder), unique names,
// and dependsOn naming only earlier packages. It does not read the
// tarballs.
func ReadReleaseManifest(path string) (*ReleaseManifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseReleaseManifest(path, data)
}

// ParseReleaseManifest is ReadReleaseManifest for contents already read;
// path names them in errors.
func ParseReleaseManifest(path string, data []byte) (*ReleaseManifest, error) {
	fail := func(format string, args ...any) error {
		return &ReleaseError{File: path, Err: fmt.Errorf(format, args...)}
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var r ReleaseManifest
	if err := dec.Decode(&r); err != nil {
		return nil, fail("not a release manifest: %w", err)
	}
	if dec.More() {
		return nil, fail("not a release manifest: text after the JSON object")
	}
	if r.Schema != ReleaseSchema {
		return nil, fail("unknown release manifest schema %q", r.Schema)
	}
	switch r.PackageManager {
	case "npm", "pnpm", "yarn":
	default:
		return nil, fail("packageManager %q: want npm, pnpm or yarn", r.PackageManager)
	}
	if r.GitCommit != "" && !commitID.MatchString(r.GitCommit) {
		return nil, fail("gitCommit %q is not a commit id", r.GitCommit)
	}
	if len(r.Packages) == 0 {
		return nil, fail("no packages")
	}
	seen := map[string]bool{}
	files := map[string]bool{}
	for i, p := range r.Packages {
		if err := manifest.ValidateName(p.Name); err != nil {
			return nil, fail("packages[%d]: %w", i, err)
		}
		if err := manifest.ValidateVersion(p.Version); err != nil {
			return nil, fail("packages[%d] %s: %w", i, p.Name, err)
		}
		if seen[p.Name] {
			return nil, fail("%s is listed twice", p.Name)
		}
		if !sha512SRI.MatchString(p.Integrity) {
			return nil, fail("%s: integrity %q is not a sha512 digest", p.Name, p.Integrity)
		}
		if !sha1Hex.MatchString(p.Shasum) {
			return nil, fail("%s: shasum %q is not a sha1 hex digest", p.Name, p.Shasum)
		}
		if err := checkTarballName(p.Tarball); err != nil {
			return nil, fail("%s: %w", p.Name, err)
		}
		if files[p.Tarball] {
			return nil, fail("%s: tarball %s is listed twice", p.Name, p.Tarball)
		}
		files[p.Tarball] = true
		if p.DependsOn == nil {
			return nil, fail("%s: no dependsOn", p.Name)
		}
		for _, d := range p.DependsOn {
			if !seen[d] {
				return nil, fail("%s depends on %s, which does not come before it in packages", p.Name, d)
			}
		}
		seen[p.Name] = true
	}
	return &r, nil
}

// checkTarballName accepts a plain file name: the tarballs are written
// next to the manifest, and a path could point anywhere.
func checkTarballName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("tarball %q is not a file name", name)
	case strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0) || filepath.IsAbs(name) || !filepath.IsLocal(name):
		return fmt.Errorf("tarball %q is not a plain file name in the manifest's folder", name)
	case !strings.HasSuffix(name, ".tgz"):
		return fmt.Errorf("tarball %q is not a .tgz file", name)
	}
	return nil
}

// TarballPath is the path of p's tarball for a manifest read from file.
func (p ReleasePackage) TarballPath(manifestFile string) string {
	return filepath.Join(filepath.Dir(manifestFile), p.Tarball)
}

// writeRelease writes the manifest through a temporary file, so that a
// reader never sees half of one.
func writeRelease(file string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".airlock-release-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

func sriOf(data []byte) string {
	h := sha512.New()
	h.Write(data)
	return integrity(h)
}

var errCycle = errors.New("dependency cycle")
