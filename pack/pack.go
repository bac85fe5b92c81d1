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
	// Env is the environment lifecycle scripts start from; git, when it
	// is on its PATH, also runs with it (see Receipt.GitDirty).
	Env []string
	// Stdout and Stderr receive lifecycle script output; nil discards it.
	Stdout, Stderr io.Writer
	// Logger receives debug logs and warnings (what publish would refuse,
	// earlier tarballs packed again, a dirty checkout, …); nil is silent.
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
	// packedManifest is the packed package.json, decoded.
	packedManifest map[string]any
}

// Pack packs the package in dir.
func Pack(ctx context.Context, dir string, opts Options) (*Result, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return packPackage(ctx, dir, opts, &npmPacker{dir: dir, scripts: newScripts(dir, opts)}, nil)
}

// packer is how a package manager turns a package folder into what it
// publishes: the scripts it runs around packing, and the files and
// package.json it packs.
type packer interface {
	beforePack(ctx context.Context) error
	contents(ctx context.Context) (*contents, error)
	afterPack(ctx context.Context, integrity string) error
}

// contents is what a packer selected.
type contents struct {
	// dir is the folder the files are read from; files are in npm's tar
	// order, "./" before names starting with "@".
	dir   string
	files []string
	// bin is npm's bin map, for the +x npm adds; nil when the files'
	// modes are already the packed ones.
	bin map[string]string
	// m is the packed package.json, read from pkgJSON; pkgFile names it
	// in messages.
	m       *manifest.Manifest
	pkgFile string
	pkgJSON []byte
	// source and sourceFiles are where the files come from, for git.
	source      string
	sourceFiles []string
	// cleanup, if set, removes what the packer made to pack.
	cleanup func()
}

// gitReader says what the receipt records of the checkout files come from.
type gitReader func(ctx context.Context, dir string, files []string) gitState

// packPackage runs p for the package in dir (absolute) and writes the
// tarball; git nil reads the checkout as a single pack does.
func packPackage(ctx context.Context, dir string, opts Options, p packer, git gitReader) (*Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if git == nil {
		git = func(ctx context.Context, dir string, files []string) gitState {
			return readGit(ctx, dir, files, opts.Env, log)
		}
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
	if _, err := readValid(dir); err != nil {
		return nil, err
	}
	if err := p.beforePack(ctx); err != nil {
		return nil, scriptHint(err, "")
	}

	c, err := p.contents(ctx)
	if err != nil {
		return nil, err
	}
	if c.cleanup != nil {
		defer c.cleanup()
	}
	if err := validate(c.m, c.pkgFile); err != nil {
		return nil, err
	}
	if err := checkLocalSpecs(c.pkgFile, c.pkgJSON, log); err != nil {
		return nil, err
	}
	log.Debug("selected files", "count", len(c.files))
	for _, f := range earlierPacks(c.sourceFiles, c.m.Name) {
		log.Warn(fmt.Sprintf("%s, left by an earlier pack, is packed into this tarball; leave it out with .npmignore or \"files\", or pack with --pack-destination outside the package folder", f))
	}
	res, refusal, err := writeTarball(ctx, c, dest, opts, git(ctx, c.source, c.sourceFiles))
	if err != nil {
		return nil, err
	}
	if o, err := parseJSObject(c.pkgJSON); err == nil {
		res.packedManifest, _ = toPlain(o).(map[string]any)
	}
	if refusal != nil {
		log.Warn(refusalWarning(refusal))
	}
	for _, w := range missingTargets(c.m, res.Report.Files) {
		log.Warn(w)
	}

	if err := p.afterPack(ctx, res.Report.Integrity); err != nil {
		return res, scriptHint(err, res.Tarball)
	}
	return res, nil
}

// writeTarball writes the tarball of c and its receipt into dest (only
// hashing it on a dry run), checking it as the publish job will; refusal
// is what the publish job would refuse.
func writeTarball(ctx context.Context, c *contents, dest string, opts Options, git gitState) (res *Result, refusal error, err error) {
	res = &Result{}
	rep := &res.Report
	rep.ID, rep.Name, rep.Version = c.m.ID(), c.m.Name, c.m.Version
	rep.Filename = Filename(c.m.Name, c.m.Version)

	var out io.Writer = io.Discard
	var tmp *os.File
	if !opts.DryRun {
		tmp, err = os.CreateTemp(dest, ".airlock-pack-*.tgz.tmp")
		if err != nil {
			return nil, nil, fmt.Errorf("writing tarball: %w", err)
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
	check := startPublishCheck(ctx)
	counted := &countingWriter{w: io.MultiWriter(out, sum512, sum1)}
	gz := pgzip.NewWriter(counted, pgzip.Options{})
	tarStream := &countingWriter{w: io.MultiWriter(gz, check)}
	entries, err := tarball.Write(ctx, tarStream, c.files, tarball.Options{Dir: c.dir, Bin: c.bin})
	if err != nil {
		gz.Close()
		check.finish(err, 0, 0)
		return nil, nil, fmt.Errorf("writing tarball: %w", err)
	}
	if err := gz.Close(); err != nil {
		check.finish(err, 0, 0)
		return nil, nil, fmt.Errorf("compressing tarball: %w", err)
	}
	refusal = check.finish(nil, tarStream.n, counted.n)
	rep.Size = counted.n
	rep.Integrity = integrity(sum512)
	rep.Shasum = hex.EncodeToString(sum1.Sum(nil))
	fillContents(rep, entries)

	res.ReceiptData = newReceipt(rep, git, opts.ToolVersion)
	if !opts.DryRun {
		if err := tmp.Sync(); err != nil {
			return nil, nil, fmt.Errorf("writing tarball: %w", err)
		}
		// CreateTemp makes the file private; a tarball is meant to be read.
		if err := tmp.Chmod(0o644); err != nil {
			return nil, nil, fmt.Errorf("writing tarball: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return nil, nil, fmt.Errorf("writing tarball: %w", err)
		}
		final := filepath.Join(dest, rep.Filename)
		if err := os.Rename(tmp.Name(), final); err != nil {
			return nil, nil, fmt.Errorf("writing tarball: %w", err)
		}
		tmp = nil
		res.Tarball = final
		receipt := final + ReceiptSuffix
		if err := res.ReceiptData.write(receipt); err != nil {
			return nil, nil, fmt.Errorf("writing receipt: %w", err)
		}
		res.Receipt = receipt
	}
	return res, refusal, nil
}

// npmPacker packs as npm pack does.
type npmPacker struct {
	dir     string
	scripts *scripts
	// extraDefaults are ignore rules added to the defaults, as npm adds
	// the workspace root's ignore files for a workspace package.
	extraDefaults []string
}

func (p *npmPacker) beforePack(ctx context.Context) error { return p.scripts.beforePack(ctx) }

func (p *npmPacker) afterPack(ctx context.Context, integrity string) error {
	return p.scripts.afterPack(ctx, integrity)
}

func (p *npmPacker) contents(ctx context.Context) (*contents, error) {
	files, m, err := collectWith(p.dir, p.extraDefaults)
	if err != nil {
		return nil, fmt.Errorf("selecting files: %w", err)
	}
	pkgFile := filepath.Join(p.dir, "package.json")
	data, err := os.ReadFile(pkgFile)
	if err != nil {
		return nil, &manifest.Error{File: pkgFile, Err: err}
	}
	return &contents{dir: p.dir, files: files, bin: m.Bin, m: m, pkgFile: pkgFile, pkgJSON: data, source: p.dir, sourceFiles: files}, nil
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

// scripts runs the lifecycle scripts of a folder publish, reading
// package.json afresh where npm does: prepublishOnly sees the manifest as
// publish read it, prepack and postpack the one pack read before
// prepack, prepare the one read after it.
type scripts struct {
	dir      string
	opts     Options
	packRead map[string]any
}

func newScripts(dir string, opts Options) *scripts { return &scripts{dir: dir, opts: opts} }

func (s *scripts) run(ctx context.Context, event string, manifest map[string]any, extra map[string]string) error {
	npm, _ := lifecycle.LocateNPM(s.opts.Env) // npm's own paths, when npm is installed
	r := &lifecycle.Runner{
		Dir: s.dir, Manifest: manifest, Env: s.opts.Env,
		Stdout: orDiscard(s.opts.Stdout), Stderr: orDiscard(s.opts.Stderr),
		Logger: s.opts.Logger, Command: "pack", NPM: npm,
	}
	if script, err := r.Script(event); err != nil || script == "" {
		return err
	}
	if banner, err := r.Banner(event); err == nil {
		io.WriteString(orDiscard(s.opts.Stderr), banner)
	}
	return r.Run(ctx, event, extra)
}

func (s *scripts) read() (map[string]any, error) {
	m, err := lifecycle.ReadManifest(s.dir)
	if err != nil {
		return nil, err
	}
	if _, err := readValid(s.dir); err != nil {
		return nil, fmt.Errorf("package.json changed by a script: %w", err)
	}
	return m, nil
}

func (s *scripts) beforePack(ctx context.Context) error {
	if s.opts.IgnoreScripts {
		return nil
	}
	published, err := s.read()
	if err != nil {
		return err
	}
	if err := s.run(ctx, "prepublishOnly", published, nil); err != nil {
		return err
	}
	if s.packRead, err = s.read(); err != nil {
		return err
	}
	if err := s.run(ctx, "prepack", s.packRead, nil); err != nil {
		return err
	}
	prepared, err := s.read()
	if err != nil {
		return err
	}
	return s.run(ctx, "prepare", prepared, lifecycle.PrepareEnv(s.dir))
}

func (s *scripts) afterPack(ctx context.Context, integrity string) error {
	if s.opts.IgnoreScripts {
		return nil
	}
	return s.run(ctx, "postpack", s.packRead, lifecycle.PostpackEnv(s.dir, integrity))
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
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
