package scaffold

import (
	"embed"
	"encoding/json"
	"strings"
	"text/template"
)

// action is a GitHub action pinned by commit; Tag is the release that
// commit is, written beside the pin for readers and update tools.
type action struct{ Repo, Commit, Tag string }

func (a action) String() string { return a.Repo + "@" + a.Commit + " # " + a.Tag }

// The actions the GitHub workflow uses: the newest release of each in a
// snapshot of its repository taken on 2026-12-02, the tag resolved to its
// commit. Check for newer releases before an airlock release changes a
// pin; a changed pin changes every workflow init writes from then on.
var (
	// v7.0.1 has persist-credentials (default true, so set false).
	checkout = action{"actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"}
	// v7.0.0 has package-manager-cache (default true: since v5 it caches
	// when package.json names a package manager, npm only since v6).
	setupNode = action{"actions/setup-node", "820762786026740c76f36085b0efc47a31fe5020", "v7.0.0"}
	// v7.0.0 has retention-days and if-no-files-found.
	uploadArtifact = action{"actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"}
	// v8.0.1 fails on an artifact whose digest differs from the upload's
	// (digest-mismatch: error by default), before airlock's own check.
	downloadArtifact = action{"actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"}
)

// image is a container image for a GitLab job, pinned by the digest of
// its multi-platform index when Digest is set.
type image struct{ Ref, Digest string }

func (i image) String() string {
	if i.Digest == "" {
		return i.Ref
	}
	return i.Ref + "@" + i.Digest
}

// Comment says what the pin is for, or that there is none.
func (i image) Comment() string {
	if i.Digest == "" {
		return "Pin it by digest (" + i.Ref + "@sha256:…): a tag can be moved to another image."
	}
	return "Pinned by digest, since a tag can be moved to another image; change both together."
}

// The GitLab jobs' images, pinned by the digest of their index as
// docker-library/repo-info records it (repos/alpine/remote/3.24.2.md,
// repos/node/remote/24.19.0.md). The publish job's image needs only sh,
// wget and sha256sum; busybox has them.
var (
	publishImage = image{"alpine:3.24.2", "sha256:31b6477333eb8257db9e5d7c3a7264fd0467928756f0bbcc27d35bea5d28cdbd"}
	// nodeImages are the pack job's images for the --node-version values
	// whose digest airlock knows; other versions get the tag alone.
	nodeImages = map[string]image{
		"24": {"node:24.19.0", "sha256:da4221677e02b54ef6335adfa447578d512ad14f251024fb92ea433c2c102760"},
	}
)

func nodeImage(version string) image {
	if i, ok := nodeImages[version]; ok {
		return i
	}
	return image{Ref: "node:" + version}
}

// InstallScriptSHA256 is the sha256 of install.sh at the root of this
// module, as built. The GitLab jobs download install.sh from the pinned
// commit and run it only if it has this digest: a binary cannot know the
// commit of its own release, but it can know the installer its source
// ships, which is the one at the release's commit. A test keeps it in
// step with the file.
const InstallScriptSHA256 = "e4dc06d4bbe052ce56ff6bc10661c6f12bf02b5850146d14279c26d48ff0cfe0"

//go:embed templates/*.tmpl
var templateFiles embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{"yaml": yamlString}).ParseFS(templateFiles, "templates/*.tmpl"))

// yamlString writes s as a YAML scalar: plain when it is plainly safe,
// else double-quoted (a JSON string is a valid YAML double-quoted scalar).
func yamlString(s string) string {
	if plainSafe(s) {
		return s
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

func plainSafe(s string) bool {
	if s == "" || strings.Contains(s, "  ") || strings.HasSuffix(s, " ") {
		return false
	}
	switch s {
	case "true", "false", "null", "yes", "no", "on", "off", "~":
		return false
	}
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		switch {
		case letter, i > 0 && c >= '0' && c <= '9':
		case i > 0 && strings.ContainsRune(" ._/=@%+,-", c):
		default:
			return false
		}
	}
	return true
}
