// Package publishdoc builds the registry publish document npm builds for a tarball.
//
// `npm publish x.tgz` reads the tarball's package.json through pacote and
// @npmcli/package-json's prepare() (readme, people, repository, bugs,
// homepage, bin, man, types, dependency forms and more), then
// libnpmpublish wraps it in the document it PUTs to the registry. Build
// does the same in Go, keeping JavaScript's property order and
// JSON.stringify's formatting so the encoded body matches npm's bytes.
package publishdoc

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/manifest"
)

// Input is what Build needs: the tarball's contents and digests, and the
// options npm resolves from flags, publishConfig and .npmrc. Checks npm
// makes on those options before it builds the document stay with the
// caller: a prerelease needs an explicit tag, a tag must not be a semver
// range, and "private" access means "restricted".
type Input struct {
	// PackageJSON is the tarball's package.json.
	PackageJSON []byte
	// Files is the tarball's contents with the root folder stripped, as
	// pacote extracts them (links and empty folders left out). Build reads
	// readme, AUTHORS and .git files and lists *.gyp, server.js, man and
	// bin folders and the .d.ts next to main. Nil means no files.
	Files fs.FS
	// Integrity is the sha512 SRI of the tarball ("sha512-…"), Shasum its
	// sha1 in hex, Size its length in bytes.
	Integrity, Shasum string
	Size              int64
	// Registry is the registry URL, with its trailing slash.
	Registry string
	// Tag is the dist-tag (--tag, publishConfig.tag; "" means "latest").
	// A "tag" field in package.json still wins, as it does in npm.
	Tag string
	// Access is "public", "restricted", or "" for npm's default, which
	// sends null.
	Access string
	// Tool says which tool fields to write; see ToolInfo.
	Tool ToolInfo
	// Resolved and From are what npm writes as _resolved and _from for a
	// file spec (see FileSpec); "" leaves the field out.
	Resolved, From string
}

// ToolInfo says what to write where npm writes _nodeVersion and
// _npmVersion, at the end of the version document. Empty fields are left
// out, so the zero value writes none of them.
type ToolInfo struct {
	// NodeVersion and NPMVersion are written as _nodeVersion and
	// _npmVersion. Only a tool that really is npm on that Node should set
	// them: registries and auditors read them as such.
	NodeVersion, NPMVersion string
	// AirlockVersion is written as _airlockVersion.
	AirlockVersion string
}

// Airlock is the ToolInfo airlock publishes with: it names itself and
// claims no npm or Node version.
func Airlock(version string) ToolInfo { return ToolInfo{AirlockVersion: version} }

// Document is the body of the registry PUT.
type Document struct {
	root        *object
	version     *object
	name, ver   string
	tag         string
	tarballName string
	size        int64
}

// Errors callers can test with errors.Is.
var (
	// ErrPrivate reports a package marked "private".
	ErrPrivate = errors.New("package is marked private")
	// ErrUnscopedRestricted reports restricted access for an unscoped package.
	ErrUnscopedRestricted = errors.New("cannot restrict access to an unscoped package")
)

// Build reads the package as npm publish does and returns the document
// it would send.
func Build(in Input) (*Document, error) {
	text := strings.TrimPrefix(decodeUTF8(in.PackageJSON), "\ufeff")
	parsed, err := parseJSON(text)
	if err != nil {
		return nil, hint.With(fmt.Errorf("reading package.json: %w", err), "fix the JSON syntax of package.json and pack the tarball again")
	}
	data, ok := parsed.(*object)
	if !ok {
		return nil, fmt.Errorf("reading package.json: must contain a JSON object, found %s", describe(parsed))
	}
	if err := prepare(data, in.Files); err != nil {
		return nil, fmt.Errorf("normalizing package.json: %w", err)
	}

	// pacote's FileFetcher.manifest()
	m := spread(data)
	m.define("_integrity", optional(in.Integrity))
	m.define("_resolved", optional(in.Resolved))
	m.define("_from", optional(in.From))

	name, _ := m.get("name").(string)
	if err := manifest.ValidateName(name); err != nil {
		return nil, hint.With(err, `set a valid "name" in package.json`)
	}
	if truthy(m.get("private")) {
		return nil, hint.With(fmt.Errorf("publishing %s: %w", name, ErrPrivate), `remove "private" from package.json to publish it`)
	}

	// libnpmpublish's patchManifest
	m = m.clone()
	if in.Tool.NodeVersion != "" {
		m.define("_nodeVersion", in.Tool.NodeVersion)
	}
	if in.Tool.NPMVersion != "" {
		m.set("_npmVersion", in.Tool.NPMVersion)
	}
	if in.Tool.AirlockVersion != "" {
		m.set("_airlockVersion", in.Tool.AirlockVersion)
	}
	rawVersion, isString := m.get("version").(string)
	version, ok := semverClean(rawVersion, false)
	if !isString || !ok {
		return nil, hint.With(fmt.Errorf("invalid version %q", jsString(m.get("version"))), `set "version" in package.json to a semantic version such as 1.0.0`)
	}
	m.set("version", version)

	access := any(nil)
	if in.Access != "" {
		access = in.Access
	}
	if in.Access == "restricted" && !strings.HasPrefix(name, "@") {
		return nil, hint.With(fmt.Errorf("publishing %s: %w", name, ErrUnscopedRestricted), "publish with public access, or give the package a scope")
	}

	// libnpmpublish's buildMetadata
	root := newObject()
	root.define("_id", name)
	root.define("name", name)
	root.define("description", m.get("description"))
	distTags := newObject()
	root.define("dist-tags", distTags)
	versions := newObject()
	root.define("versions", versions)
	root.define("access", access)

	versions.set(version, m)
	defaultTag := in.Tag
	if defaultTag == "" {
		defaultTag = "latest"
	}
	tag := jsString(or(m.get("tag"), defaultTag))
	distTags.set(tag, version)

	tarballName := name + "-" + version + ".tgz"
	tarballURL, err := resolveTarballURL(in.Registry, name+"/-/"+tarballName)
	if err != nil {
		return nil, err
	}
	m.set("_id", name+"@"+version)
	dist := spread(m.get("dist"))
	m.set("dist", dist)
	dist.set("integrity", in.Integrity)
	dist.set("shasum", in.Shasum)
	dist.set("tarball", tarballURL)

	attachments := newObject()
	root.set("_attachments", attachments)
	att := newObject()
	att.set("content_type", "application/octet-stream")
	att.set("data", attachmentData{})
	att.set("length", float64(in.Size))
	attachments.set(tarballName, att)

	return &Document{
		root: root, version: m, name: name, ver: version,
		tag: tag, tarballName: tarballName, size: in.Size,
	}, nil
}

func optional(s string) any {
	if s == "" {
		return undefined
	}
	return s
}

// resolveTarballURL is new URL(uri, registry).href with https:// turned
// into http://, as libnpmpublish writes dist.tarball.
func resolveTarballURL(registry, uri string) (string, error) {
	base, ok := parseWebURL(registry)
	if !ok || base.opaquePath != nil {
		return "", hint.With(fmt.Errorf("invalid registry URL %q", registry), "set the registry to a URL such as https://registry.npmjs.org/")
	}
	var b strings.Builder
	b.WriteString(base.scheme + ":")
	if base.host != nil {
		b.WriteString("//")
		if base.username != "" || base.password != "" {
			b.WriteString(base.username)
			if base.password != "" {
				b.WriteString(":" + base.password)
			}
			b.WriteString("@")
		}
		b.WriteString(*base.host)
		if base.port >= 0 {
			b.WriteString(":" + strconv.Itoa(base.port))
		}
	}
	dir := base.path
	if len(dir) > 0 {
		dir = dir[:len(dir)-1]
	}
	for _, seg := range dir {
		b.WriteString("/" + seg)
	}
	b.WriteString("/" + uri)
	u, ok := parseWebURL(b.String())
	if !ok {
		return "", fmt.Errorf("resolving the tarball URL against registry %q: invalid URL", registry)
	}
	href := u.href()
	if strings.HasPrefix(href, "https://") {
		href = "http://" + strings.TrimPrefix(href, "https://")
	}
	return href, nil
}

// Name is the package name.
func (d *Document) Name() string { return d.name }

// Version is the version published, as npm cleaned it.
func (d *Document) Version() string { return d.ver }

// Tag is the dist-tag the version is published under.
func (d *Document) Tag() string { return d.tag }

// TarballName is the attachment's name, name-version.tgz.
func (d *Document) TarballName() string { return d.tarballName }

// Manifest returns the version document (versions[version]) as plain Go
// values: objects as map[string]any, numbers as float64. Property order
// is not kept; encode the Document for that.
func (d *Document) Manifest() map[string]any {
	return toNative(d.version).(map[string]any)
}

// MarshalJSON encodes the document without the tarball: the attachment
// has content_type and length but no data. It is meant for logs and
// --json output; the registry needs Encode.
func (d *Document) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := d.EncodeWithAttachment(&b, nil); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// EncodeWithAttachment writes the document as npm sends it, calling
// writeData to write the attachment's data, the base64 tarball, where it
// belongs (inside the JSON string, so base64 needs no escaping). A nil
// writeData leaves the data field out.
func (d *Document) EncodeWithAttachment(w io.Writer, writeData func(io.Writer) error) error {
	ew := &errWriter{w: w, data: writeData}
	stringify(ew, d.root)
	return ew.err
}

// Encode writes the request body, base64-encoding tarball into it as it
// streams. tarball must hold the Size bytes the document was built for.
func (d *Document) Encode(w io.Writer, tarball io.Reader) error {
	return d.EncodeWithAttachment(w, func(w io.Writer) error {
		enc := base64.NewEncoder(base64.StdEncoding, w)
		n, err := io.Copy(enc, tarball)
		if err != nil {
			return fmt.Errorf("reading the tarball: %w", err)
		}
		if n != d.size {
			return fmt.Errorf("reading the tarball: read %d bytes, expected %d", n, d.size)
		}
		return enc.Close()
	})
}

// EncodedLen is the length in bytes of what Encode writes, for a
// Content-Length header.
func (d *Document) EncodedLen() int64 {
	var c countWriter
	_ = d.EncodeWithAttachment(&c, func(io.Writer) error { return nil })
	return c.n + int64(base64.StdEncoding.EncodedLen(int(d.size)))
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
