package stage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/manifest"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
)

// The review side of staged publishing, as npm 11's "npm stage list,
// view, download, approve, reject": a maintainer looks at what a release
// job staged and publishes it, or throws it away, with a second factor.

// Errors callers can test for.
var (
	ErrInvalidID = errors.New("invalid stage ID")
	// ErrVersionSpec: stage list takes a package name, not name@range.
	ErrVersionSpec = errors.New("version specifiers are not supported")
	// ErrOTPRequired is registry.ErrOTPRequired: the registry wants a
	// one-time password and none was given.
	ErrOTPRequired = registry.ErrOTPRequired
	// ErrOTPRefused: a one-time password was given and the registry
	// answered as if none had been (wrong or expired).
	ErrOTPRefused = errors.New("the registry refused the one-time password")
	// ErrShasumMismatch: the registry served a tarball other than the one
	// its staged record describes.
	ErrShasumMismatch = errors.New("the staged tarball does not match the staged record's shasum")
	// ErrWrongPackage: the tarball's package.json names another package
	// or version than the staged record.
	ErrWrongPackage = errors.New("the staged tarball holds another package than the staged record")
	// ErrFileExists: the download's file name is taken by other data.
	ErrFileExists = errors.New("a different file already exists")
)

// ReviewOptions controls List, View, Approve and Reject.
type ReviewOptions struct {
	// Config is npm's configuration with the command-line flags as its
	// top layer (registry, otp). Its registry is the one asked, as npm's
	// stage commands do, whatever the package's scope.
	Config *npmrc.Config
	// Auth gives the maintainer's credentials; nil means those configured
	// for the registry (npmrc.ConfigAuth).
	Auth   npmrc.Authenticator
	Client *registry.Client
}

// DownloadOptions controls Download.
type DownloadOptions struct {
	ReviewOptions
	// Dir is where the tarball is written.
	Dir string
	// Force replaces a file of the same name with different contents.
	Force bool
	// MaxSize bounds the tarball; 0 means DefaultMaxTarball.
	MaxSize int64
	// Limits bound what the tarball inspection accepts.
	Limits inspect.Limits
}

// DefaultMaxTarball bounds a downloaded staged tarball, which is held in
// memory and checked before anything is written. Real packages are far
// smaller (typescript packs to about 4 MiB).
const DefaultMaxTarball = 256 << 20

// maxPages stops a registry that would page forever.
const maxPages = 1000

// Downloaded describes a staged tarball written by Download.
type Downloaded struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	ID      string `json:"id"`
	// Filename is the file's name, as npm stage download names it; Path
	// is Filename in the destination folder.
	Filename  string `json:"filename"`
	Path      string `json:"path"`
	Integrity string `json:"integrity"`
	Shasum    string `json:"shasum"`
	Size      int64  `json:"size"`
	Files     int    `json:"files"`
	// Existed is true when the file was already there with the same
	// contents, and was left as it was.
	Existed bool `json:"existed,omitempty"`
}

// ValidateID checks a stage ID as npm does, before any request: a UUID,
// 8-4-4-4-12 hexadecimal digits. The error says what is wrong with it.
func ValidateID(id string) error {
	if registry.IsStageID(id) {
		return nil
	}
	const want = "a stage ID is a UUID, 8-4-4-4-12 hexadecimal digits"
	var problem string
	switch {
	case id == "":
		problem = "it is empty"
	case len(id) != 36:
		problem = fmt.Sprintf("it has %d characters, not 36", len(id))
	default:
		for i := 0; i < len(id); i++ {
			dash := i == 8 || i == 13 || i == 18 || i == 23
			if dash && id[i] != '-' {
				problem = fmt.Sprintf("character %d is %q, not '-'", i+1, id[i])
				break
			}
			if !dash && !isHex(id[i]) {
				problem = fmt.Sprintf("character %d is %q, not a hexadecimal digit", i+1, id[i])
				break
			}
		}
	}
	return hint.With(fmt.Errorf("%w %s: %s; %s", ErrInvalidID, quoteArg(id), problem, want),
		"copy the ID from 'airlock stage list'")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func quoteArg(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// PackageFilter checks the argument of stage list: a package name, with
// no version or range (name@* is the name alone, as npm reads it).
func PackageFilter(arg string) (string, error) {
	name, spec := arg, ""
	at := strings.IndexByte(arg, '@')
	if strings.HasPrefix(arg, "@") {
		at = strings.IndexByte(arg[1:], '@')
		if at >= 0 {
			at++
		}
	}
	if at > 0 {
		name, spec = arg[:at], arg[at+1:]
	}
	if spec != "" && spec != "*" {
		return "", hint.With(fmt.Errorf("%w for listing staged versions: %s", ErrVersionSpec, quoteArg(arg)),
			fmt.Sprintf("give the package name alone: airlock stage list %s", name))
	}
	if err := manifest.ValidateName(name); err != nil {
		return "", err
	}
	return name, nil
}

// List returns every staged version the credentials can see, of the
// package pkg or, when pkg is "", of all packages: all pages, fetched
// as npm fetches them.
func List(ctx context.Context, pkg string, opts ReviewOptions) ([]registry.StagedVersion, error) {
	what := "listing staged versions"
	if pkg != "" {
		what += " of " + pkg
		if err := manifest.ValidateName(pkg); err != nil {
			return nil, err
		}
	}
	reg, auth, _, err := opts.prepare(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	items := []registry.StagedVersion{}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("%s: the registry is still sending pages after %d", what, maxPages)
		}
		p, err := opts.Client.StageList(ctx, reg, registry.StageQuery{Package: pkg, Page: page, PerPage: registry.StagePerPage}, auth)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		items = append(items, p.Items...)
		if p.Total >= 0 && len(items) >= p.Total || len(p.Items) < registry.StagePerPage {
			return items, nil
		}
	}
}

// View returns the staged version id.
func View(ctx context.Context, id string, opts ReviewOptions) (*registry.StagedVersion, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	reg, auth, _, err := opts.prepare(ctx)
	if err != nil {
		return nil, fmt.Errorf("viewing staged package %s: %w", id, err)
	}
	v, err := opts.Client.StageView(ctx, reg, id, auth)
	if err != nil {
		return nil, fmt.Errorf("viewing staged package %s: %w", id, err)
	}
	return v, nil
}

// Approve publishes the staged version id. The registry asks for the
// maintainer's one-time password, taken from the configuration's otp.
func Approve(ctx context.Context, id string, opts ReviewOptions) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	reg, auth, otp, err := opts.prepare(ctx)
	if err == nil {
		err = otpAdvice(opts.Client.StageApprove(ctx, reg, id, auth), otp)
	}
	if err != nil {
		return fmt.Errorf("approving staged package %s: %w", id, err)
	}
	return nil
}

// Reject deletes the staged version id and its tarball from the
// registry, for good. Like Approve it needs a one-time password.
func Reject(ctx context.Context, id string, opts ReviewOptions) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	reg, auth, otp, err := opts.prepare(ctx)
	if err == nil {
		err = otpAdvice(opts.Client.StageReject(ctx, reg, id, auth), otp)
	}
	if err != nil {
		return fmt.Errorf("rejecting staged package %s: %w", id, err)
	}
	return nil
}

// Download fetches the staged version's tarball and writes it to
// opts.Dir as npm stage download names it. The tarball is hostile input:
// its sha1 must be the staged record's shasum, it must pass inspection,
// and its package.json must name the record's package and version. When
// any check fails nothing is written.
func Download(ctx context.Context, id string, opts DownloadOptions) (*Downloaded, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	d, err := download(ctx, id, opts)
	if err != nil {
		return nil, fmt.Errorf("downloading staged package %s: %w", id, err)
	}
	return d, nil
}

func download(ctx context.Context, id string, opts DownloadOptions) (*Downloaded, error) {
	if opts.Dir == "" {
		return nil, errors.New("no destination folder")
	}
	st, err := fetchStaged(ctx, id, &opts.ReviewOptions, opts.MaxSize, opts.Limits)
	if err != nil {
		return nil, err
	}
	data, sum, contents, m := st.data, st.sum, st.contents, st.contents.Manifest
	d := &Downloaded{
		Name: m.Name, Version: m.Version, ID: id,
		Filename:  strings.Replace(strings.Replace(m.Name, "@", "", 1), "/", "-", 1) + "-" + m.Version + "-" + id + ".tgz",
		Integrity: sum.integrity, Shasum: sum.shasum, Size: sum.size, Files: len(contents.Files),
	}
	// The name and version passed npm's rules; this is a last guard
	// against a name that leaves the folder.
	if filepath.Base(d.Filename) != d.Filename || strings.ContainsAny(d.Filename, `/\`) || strings.HasPrefix(d.Filename, ".") {
		return nil, fmt.Errorf("refusing the file name %q", d.Filename)
	}
	d.Path = filepath.Join(opts.Dir, d.Filename)
	d.Existed, err = writeNew(opts.Dir, d.Filename, data, opts.Force)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// checkRecord makes sure the staged record can vouch for a tarball.
func checkRecord(rec *registry.StagedVersion, id string) error {
	switch {
	case rec.ID != "" && !strings.EqualFold(rec.ID, id):
		return fmt.Errorf("the registry answered with the record of staged package %q", registry.Sanitize(rec.ID, nil))
	case rec.PackageName == "" || rec.Version == "":
		return errors.New("the staged record has no package name or version: cannot check the tarball against it")
	case len(rec.Shasum) != 40 || strings.Trim(strings.ToLower(rec.Shasum), "0123456789abcdef") != "":
		return errors.New("the staged record has no valid shasum: cannot check the tarball against it")
	}
	return nil
}

// writeNew writes data to dir/name through a temporary file in dir, so
// the file appears whole or not at all. A file already there with the
// same contents is left alone (existed is true); one with other contents
// is replaced only with force.
func writeNew(dir, name string, data []byte, force bool) (existed bool, err error) {
	dest := filepath.Join(dir, name)
	switch same, err := sameFile(dest, data); {
	case err == nil && same:
		return true, nil
	case err == nil && !force:
		return false, hint.With(fmt.Errorf("%s: %w", dest, ErrFileExists), "pass --force to replace it, or --dir to download elsewhere")
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	tmp, err := os.CreateTemp(dir, ".airlock-stage-*.tgz")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name()) // after a rename or link, this is a no-op or drops the spare name
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", dest, err)
	}
	if force {
		return false, os.Rename(tmp.Name(), dest)
	}
	// A link never replaces a file that appeared since the check.
	if err := os.Link(tmp.Name(), dest); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, hint.With(fmt.Errorf("%s: %w", dest, ErrFileExists), "pass --force to replace it, or --dir to download elsewhere")
		}
		// No hard links on this file system.
		return false, os.Rename(tmp.Name(), dest)
	}
	return false, nil
}

// sameFile reports whether path is a regular file holding data; its
// error matches fs.ErrNotExist when there is nothing at path.
func sameFile(path string, data []byte) (bool, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() || st.Size() != int64(len(data)) {
		return false, nil
	}
	have, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	return bytes.Equal(have, data), nil
}

// prepare resolves the registry, the credentials and the one-time
// password for a request.
func (o *ReviewOptions) prepare(ctx context.Context) (reg string, auth registry.Auth, otp bool, err error) {
	if o.Client == nil {
		o.Client = &registry.Client{}
	}
	if o.Config == nil {
		return "", nil, false, errors.New("no npm configuration")
	}
	reg, _ = o.Config.Get("registry")
	if strings.TrimSpace(reg) == "" {
		reg = npmrc.DefaultRegistry
	}
	a := o.Auth
	if a == nil {
		a = npmrc.ConfigAuth{Config: o.Config}
	}
	header, _, err := a.Authorization(ctx, reg, "")
	if errors.Is(err, npmrc.ErrNoCredentials) {
		return "", nil, false, hint.With(err,
			"reviewing staged versions takes a maintainer's token: run 'npm login --registry "+shownURL(reg)+"', or set the registry's :_authToken in ~/.npmrc")
	}
	if err != nil {
		return "", nil, false, err
	}
	auth = bearer(header)
	if code, _ := o.Config.Get("otp"); code != "" {
		auth, otp = withOTP(auth, code), true
	}
	return reg, auth, otp, nil
}

// otpAdvice says what to do when the registry wants a one-time password.
func otpAdvice(err error, otpGiven bool) error {
	if !errors.Is(err, registry.ErrOTPRequired) {
		return err
	}
	var he *registry.HTTPError
	if otpGiven && errors.As(err, &he) {
		return hint.With(fmt.Errorf("%w: %w", ErrOTPRefused, he),
			"one-time passwords expire within a minute: run the command again with --otp and a fresh code from your authenticator app")
	}
	return hint.With(err, "pass --otp with the code from your authenticator app")
}

// Field is one line of a staged version as npm stage list and view show
// it: "Label: Value".
type Field struct{ Label, Value string }

// Describe lists a staged version's fields as npm shows them: id,
// package name, version, tag, date staged, staged by, shasum, then every
// other field in the record's order. Absent and null fields are left
// out; values are made safe for a terminal. Unlike npm, objects and
// arrays are shown as JSON rather than "[object Object]".
func Describe(v registry.StagedVersion) []Field {
	keys, vals := objectFields(v.Raw)
	str := func(k string) (string, bool) {
		raw, ok := vals[k]
		if !ok || string(raw) == "null" {
			return "", false
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return registry.Sanitize(s, nil), true
		}
		var b bytes.Buffer
		if json.Compact(&b, raw) != nil {
			return "", false
		}
		return registry.Sanitize(b.String(), nil), true
	}
	var out []Field
	add := func(label, key string) {
		if s, ok := str(key); ok {
			out = append(out, Field{label, s})
		}
	}
	add("id", "id")
	add("package name", "packageName")
	add("version", "version")
	add("tag", "tag")
	add("date staged", "createdAt")
	actor, hasActor := str("actor")
	if typ, ok := str("actorType"); ok && typ != "" && typ != "false" && typ != "0" {
		out = append(out, Field{"staged by", actor + " (" + typ + ")"})
	} else if hasActor {
		out = append(out, Field{"staged by", actor})
	}
	add("shasum", "shasum")
	named := map[string]bool{"id": true, "packageName": true, "version": true, "tag": true, "createdAt": true, "actor": true, "actorType": true, "shasum": true}
	for _, k := range keys {
		if !named[k] {
			if s, ok := str(k); ok {
				out = append(out, Field{registry.Sanitize(k, nil), s})
			}
		}
	}
	return out
}

// objectFields returns a JSON object's keys in order (each once) and
// their last values, as JavaScript reads a duplicate key.
func objectFields(raw []byte) ([]string, map[string]json.RawMessage) {
	vals := map[string]json.RawMessage{}
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, vals
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			break
		}
		if _, seen := vals[k]; !seen {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	return keys, vals
}

// shownURL is a registry URL fit for a message.
func shownURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "REGISTRY"
	}
	return registry.RedactURL(u)
}
