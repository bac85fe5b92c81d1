// Package release builds airlock's release archives so that anyone can
// rebuild them bit for bit: static binaries for each target, packed with
// fixed metadata beside LICENSE, README.md and the linked modules' licenses,
// and a SHA256SUMS file. The repository records the checksums of the
// current release (release/VERSION, release/SHA256SUMS); install.sh and the
// GitHub Action accept no other bytes.
//
// The bytes depend on the source and on the Go toolchain: Build refuses
// any Go other than the one go.mod names (its toolchain line, else its go
// line).
package release

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
)

// Target is a platform release archives are built for.
type Target struct{ GOOS, GOARCH string }

// Targets are the platforms of a release, in the order they are built.
var Targets = []Target{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

func (t Target) String() string { return t.GOOS + "/" + t.GOARCH }

// Binary is the name of airlock's executable on t.
func (t Target) Binary() string {
	if t.GOOS == "windows" {
		return "airlock.exe"
	}
	return "airlock"
}

// Archive is the file name of t's archive for version (a tag, "v1.2.3"):
// airlock_1.2.3_linux_amd64.tar.gz, or .zip for windows.
func (t Target) Archive(version string) string {
	ext := ".tar.gz"
	if t.GOOS == "windows" {
		ext = ".zip"
	}
	return "airlock_" + strings.TrimPrefix(version, "v") + "_" + t.GOOS + "_" + t.GOARCH + ext
}

// ParseTarget reads "linux/amd64" as one of Targets.
func ParseTarget(s string) (Target, error) {
	for _, t := range Targets {
		if t.String() == s {
			return t, nil
		}
	}
	return Target{}, fmt.Errorf("unknown target %q (want one of %s)", s, targetList())
}

func targetList() string {
	var names []string
	for _, t := range Targets {
		names = append(names, t.String())
	}
	return strings.Join(names, ", ")
}

// versionPattern is a release tag: v, three numbers, an optional
// pre-release. install.sh and the release workflow check tags with the
// same pattern (TestVersionPatternEverywhere).
const versionPattern = `v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?`

var versionRE = regexp.MustCompile("^" + versionPattern + "$")

// CheckVersion reports whether tag is a release tag such as v1.2.3 or
// v1.2.3-rc.1.
func CheckVersion(tag string) error {
	if !versionRE.MatchString(tag) {
		return hint.With(fmt.Errorf("version %q is not a release tag", tag), "give it as vX.Y.Z, for example v0.1.0")
	}
	return nil
}

// Options says what Build builds and how it runs the go command.
type Options struct {
	Source  string   // the module's root folder
	Version string   // the release tag, v1.2.3; the binary prints 1.2.3
	Out     string   // folder for the archives and SHA256SUMS; must be missing or empty
	Targets []Target // default: all of Targets
	// Env is the environment for the go command (the caller passes
	// os.Environ()). Build overrides every variable that changes the
	// binary: CGO_ENABLED, GOOS, GOARCH, GOAMD64, GOARM64, GOFLAGS,
	// GOEXPERIMENT, GOFIPS140, GOWORK, and GOENV=off so that no go env
	// file adds any. GOCACHE, GOMODCACHE, GOPROXY and GOTOOLCHAIN pass.
	Env []string
	Go  string // the go command; default "go" from PATH
	Log *slog.Logger
}

// Artifact is one archive Build wrote.
type Artifact struct {
	Target Target
	Name   string // file name in Out
	SHA256 string // hex
	Size   int64
}

// Build compiles airlock for each target, writes the archives into
// opts.Out, then SHA256SUMS listing them.
func Build(ctx context.Context, opts Options) ([]Artifact, error) {
	if err := CheckVersion(opts.Version); err != nil {
		return nil, err
	}
	if opts.Go == "" {
		opts.Go = "go"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	targets := opts.Targets
	if len(targets) == 0 {
		targets = Targets
	}
	if err := checkGoVersion(ctx, opts); err != nil {
		return nil, err
	}
	if err := emptyOut(opts.Out); err != nil {
		return nil, err
	}
	license, err := os.ReadFile(filepath.Join(opts.Source, "LICENSE"))
	if err != nil {
		return nil, fmt.Errorf("reading the license: %w", err)
	}
	readme, err := os.ReadFile(filepath.Join(opts.Source, "README.md"))
	if err != nil {
		return nil, fmt.Errorf("reading the readme: %w", err)
	}
	work, err := os.MkdirTemp("", "airlock-release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	var arts []Artifact
	for _, t := range targets {
		opts.Log.Info("building", "target", t.String(), "version", opts.Version)
		bin := filepath.Join(work, t.GOOS+"_"+t.GOARCH, t.Binary())
		if err := buildBinary(ctx, opts, t, bin); err != nil {
			return nil, fmt.Errorf("building %s: %w", t, err)
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			return nil, err
		}
		mods, err := LinkedModules(ctx, ListOptions{Source: opts.Source, Env: opts.Env, Go: opts.Go, Targets: []Target{t}})
		if err != nil {
			return nil, fmt.Errorf("listing the modules linked into %s: %w", t, err)
		}
		if err := CheckLicenses(mods); err != nil {
			return nil, err
		}
		notices := Notices(mods)
		files := []File{
			{Name: t.Binary(), Mode: 0o755, Data: data},
			{Name: "LICENSE", Mode: 0o644, Data: license},
			{Name: "README.md", Mode: 0o644, Data: readme},
			{Name: NoticesFile, Mode: 0o644, Data: notices},
		}
		var buf bytes.Buffer
		write := WriteTarGz
		if t.GOOS == "windows" {
			write = WriteZip
		}
		if err := write(&buf, files); err != nil {
			return nil, fmt.Errorf("packing %s: %w", t, err)
		}
		name := t.Archive(opts.Version)
		if err := os.WriteFile(filepath.Join(opts.Out, name), buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(buf.Bytes())
		arts = append(arts, Artifact{Target: t, Name: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(buf.Len())})
		opts.Log.Info("wrote", "archive", name, "sha256", hex.EncodeToString(sum[:]))
	}
	sums := make(Sums, len(arts))
	for _, a := range arts {
		sums[a.Name] = a.SHA256
	}
	if err := os.WriteFile(filepath.Join(opts.Out, SumsFile), sums.Format(), 0o644); err != nil {
		return nil, err
	}
	return arts, nil
}

// buildEnv is env with every variable that changes the binary set.
func buildEnv(env []string, t Target) []string {
	set := map[string]string{
		"CGO_ENABLED":  "0",
		"GOOS":         t.GOOS,
		"GOARCH":       t.GOARCH,
		"GOAMD64":      "v1",
		"GOARM64":      "v8.0",
		"GOFLAGS":      "",
		"GOEXPERIMENT": "",
		"GOFIPS140":    "off",
		"GOWORK":       "off",
		"GOENV":        "off",
	}
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			out = append(out, kv)
		}
	}
	for _, k := range sortedKeys(set) {
		out = append(out, k+"="+set[k])
	}
	return out
}

func buildBinary(ctx context.Context, opts Options, t Target, out string) error {
	ldflags := "-s -w -buildid= -X main.version=" + strings.TrimPrefix(opts.Version, "v")
	_, err := runGo(ctx, opts.Go, opts.Source, buildEnv(opts.Env, t),
		"build", "-trimpath", "-buildvcs=false", "-mod=readonly", "-ldflags="+ldflags, "-o", out, "./cmd/airlock")
	return err
}

func runGo(ctx context.Context, goCmd, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("go %s: %w", args[0], err)
		}
		return nil, fmt.Errorf("go %s: %w: %s", args[0], err, msg)
	}
	return out, nil
}

// GoVersion is the Go toolchain go.mod in source names: its toolchain
// line, else "go" and its go line (go 1.26.8 → go1.26.8).
func GoVersion(source string) (string, error) {
	data, err := os.ReadFile(filepath.Join(source, "go.mod"))
	if err != nil {
		return "", err
	}
	var goLine, toolchain string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "go" {
			goLine = "go" + f[1]
		}
		if len(f) == 2 && f[0] == "toolchain" {
			toolchain = f[1]
		}
	}
	if toolchain != "" {
		return toolchain, nil
	}
	if goLine == "" {
		return "", errors.New("go.mod has no go line")
	}
	return goLine, nil
}

func checkGoVersion(ctx context.Context, opts Options) error {
	want, err := GoVersion(opts.Source)
	if err != nil {
		return fmt.Errorf("reading the Go version: %w", err)
	}
	out, err := runGo(ctx, opts.Go, opts.Source, buildEnv(opts.Env, Target{"linux", "amd64"}), "env", "GOVERSION")
	if err != nil {
		return err
	}
	got := strings.TrimSpace(string(out))
	if got != want {
		return hint.With(fmt.Errorf("the go command is %s; release archives are built with %s, the Go go.mod names", got, want),
			fmt.Sprintf("another Go version gives other bytes: run with GOTOOLCHAIN=%s", want))
	}
	return nil
}

func emptyOut(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return hint.With(fmt.Errorf("output folder %s is not empty", dir), "remove it first (make release does)")
	}
	return nil
}

// HashFile is the hex sha256 of the file at path.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
