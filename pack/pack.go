// Package pack turns a package directory into the tarball npm would publish
// from it: the same file selection, the same tar bytes, the same report.
// It also runs the lifecycle scripts a directory publish runs before
// upload, because the pack job is the only place package code may run.
package pack

import (
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/lifecycle"
	"github.com/airlockdev/airlock/internal/manifest"
	"github.com/airlockdev/airlock/internal/pgzip"
	"github.com/airlockdev/airlock/internal/tarball"
)

// Options controls one Pack call.
type Options struct {
	// Destination is the folder the tarball and receipt are written to;
	// empty means the package directory.
	Destination string
	// DryRun selects files and builds the report but writes nothing.
	DryRun bool
	// IgnoreScripts skips the lifecycle scripts.
	IgnoreScripts bool
	// Env is the environment lifecycle scripts start from.
	Env []string
	// Stdout and Stderr receive lifecycle script output; nil discards it.
	Stdout, Stderr io.Writer
	// Logger receives debug logs; nil is silent.
	Logger *slog.Logger
	// ToolVersion is airlock's version, recorded in the receipt.
	ToolVersion string
}

// File is one tarball entry as npm pack --json reports it.
type File struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	Mode uint32 `json:"mode"`
}

// Report has the schema of one element of `npm pack --json`.
type Report struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Size         int64    `json:"size"`
	UnpackedSize int64    `json:"unpackedSize"`
	Shasum       string   `json:"shasum"`
	Integrity    string   `json:"integrity"`
	Filename     string   `json:"filename"`
	Files        []File   `json:"files"`
	EntryCount   int      `json:"entryCount"`
	Bundled      []string `json:"bundled"`
}

// Result is what Pack produced.
type Result struct {
	Report Report
	// Tarball and Receipt are the paths written; empty on a dry run.
	Tarball string
	Receipt string
	// Receipt contents, also set on a dry run.
	ReceiptData Receipt
}

// Lifecycle events a directory publish runs before upload, in npm's order:
// prepublishOnly (npm publish), prepack (libnpmpack), prepare (pacote's
// directory fetcher) and, once the tarball exists, postpack.
var preEvents = []string{"prepublishOnly", "prepack", "prepare"}

// Pack packs the package in dir.
func Pack(ctx context.Context, dir string, opts Options) (*Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	dest := opts.Destination
	if dest == "" {
		dest = dir
	}
	if !opts.DryRun {
		if err := checkDestination(dest); err != nil {
			return nil, err
		}
	}
	m, err := readValid(dir)
	if err != nil {
		return nil, err
	}
	if !opts.IgnoreScripts {
		for _, event := range preEvents {
			if err := runScript(ctx, dir, m, event, nil, opts); err != nil {
				return nil, err
			}
			// Scripts may rewrite package.json (a build stamping a
			// version, say); npm reads it again for each step.
			if m, err = readValid(dir); err != nil {
				return nil, fmt.Errorf("after the %s script: %w", event, err)
			}
		}
	}

	files, m, err := collect(dir)
	if err != nil {
		return nil, fmt.Errorf("selecting files: %w", err)
	}
	if err := validate(m, filepath.Join(dir, "package.json")); err != nil {
		return nil, err
	}
	log.Debug("selected files", "count", len(files))

	res := &Result{}
	rep := &res.Report
	rep.ID, rep.Name, rep.Version = m.ID(), m.Name, m.Version
	rep.Filename = Filename(m.Name, m.Version)

	var out io.Writer = io.Discard
	var tmp *os.File
	if !opts.DryRun {
		tmp, err = os.CreateTemp(dest, ".airlock-pack-*.tgz.tmp")
		if err != nil {
			return nil, fmt.Errorf("writing tarball: %w", err)
		}
		defer func() {
			if tmp != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		out = tmp
	}
	sum512, sum1 := sha512.New(), sha1.New()
	counted := &countingWriter{w: io.MultiWriter(out, sum512, sum1)}
	gz := pgzip.NewWriter(counted)
	entries, err := tarball.Write(ctx, gz, files, tarball.Options{Dir: dir, Executable: binPredicate(m)})
	if err != nil {
		gz.Close()
		return nil, fmt.Errorf("writing tarball: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("compressing tarball: %w", err)
	}
	rep.Size = counted.n
	rep.Integrity = integrity(sum512)
	rep.Shasum = hex.EncodeToString(sum1.Sum(nil))
	fillContents(rep, entries)

	res.ReceiptData = newReceipt(rep, dir, opts.ToolVersion)
	if !opts.DryRun {
		if err := tmp.Sync(); err != nil {
			return nil, fmt.Errorf("writing tarball: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return nil, fmt.Errorf("writing tarball: %w", err)
		}
		final := filepath.Join(dest, rep.Filename)
		if err := os.Rename(tmp.Name(), final); err != nil {
			return nil, fmt.Errorf("writing tarball: %w", err)
		}
		tmp = nil
		res.Tarball = final
		receipt := final + ReceiptSuffix
		if err := res.ReceiptData.write(receipt); err != nil {
			return nil, fmt.Errorf("writing receipt: %w", err)
		}
		res.Receipt = receipt
	}

	if !opts.IgnoreScripts {
		extra := map[string]string{
			"npm_package_from":      dir,
			"npm_package_resolved":  dir,
			"npm_package_integrity": rep.Integrity,
		}
		if err := runScript(ctx, dir, m, "postpack", extra, opts); err != nil {
			return res, err
		}
	}
	return res, nil
}

// Files returns the paths npm-packlist selects in dir, in npm's tar order
// (paths starting with "@" carry npm's "./" prefix).
func Files(ctx context.Context, dir string) ([]string, error) {
	files, _, err := collect(dir)
	return files, err
}

// Filename is the name npm gives the tarball of name@version.
func Filename(name, version string) string {
	f := strings.TrimPrefix(name+"-"+version+".tgz", "@")
	return strings.NewReplacer("/", "-", `\`, "-").Replace(f)
}

func readValid(dir string) (*manifest.Manifest, error) {
	m, err := manifest.Read(dir)
	if err != nil {
		return nil, err
	}
	return m, validate(m, filepath.Join(dir, "package.json"))
}

func validate(m *manifest.Manifest, file string) error {
	if m.Name == "" || m.Version == "" {
		return hint.With(&manifest.Error{File: file, Err: errors.New(`package.json must have a "name" and a "version"`)}, `add both fields, e.g. "name": "my-package", "version": "1.0.0"`)
	}
	if err := manifest.ValidateName(m.Name); err != nil {
		return hint.With(&manifest.Error{File: file, Err: err}, "npm package names are URL-safe, may not start with . _ or -, and may have a scope: @scope/name")
	}
	if err := manifest.ValidateVersion(m.Version); err != nil {
		return hint.With(&manifest.Error{File: file, Err: err}, "set a semantic version such as 1.0.0 or 2.1.0-beta.1")
	}
	return nil
}

func checkDestination(dest string) error {
	st, err := os.Stat(dest)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return hint.With(&DestinationError{Dir: dest, Err: errors.New("no such folder")}, "create it first, or pass an existing folder to --pack-destination")
		}
		return &DestinationError{Dir: dest, Err: err}
	}
	if !st.IsDir() {
		return &DestinationError{Dir: dest, Err: errors.New("not a folder")}
	}
	return nil
}

// DestinationError reports a pack destination that cannot be written.
type DestinationError struct {
	Dir string
	Err error
}

func (e *DestinationError) Error() string {
	return fmt.Sprintf("pack destination %s: %v", e.Dir, e.Err)
}
func (e *DestinationError) Unwrap() error { return e.Err }

func runScript(ctx context.Context, dir string, m *manifest.Manifest, event string, extra map[string]string, opts Options) error {
	if _, ok := m.Scripts[event]; !ok {
		return nil
	}
	r := &lifecycle.Runner{Dir: dir, Manifest: m.Raw, Env: opts.Env, Stdout: orDiscard(opts.Stdout), Stderr: orDiscard(opts.Stderr), Logger: opts.Logger}
	return r.Run(ctx, event, extra)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// binPredicate reproduces pacote's is-package-bin test, quirk included:
// it drops the first path component before comparing with the bin
// targets, because it was written for paths inside "package/".
func binPredicate(m *manifest.Manifest) func(string) bool {
	if len(m.Bin) == 0 {
		return func(string) bool { return false }
	}
	targets := map[string]bool{}
	for _, t := range m.Bin {
		targets[t] = true
	}
	return func(p string) bool {
		if i := strings.IndexAny(p, `/\`); i >= 0 {
			p = p[i+1:]
		}
		return targets[p]
	}
}

func integrity(h hash.Hash) string {
	return "sha512-" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
