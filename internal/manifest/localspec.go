package manifest

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/jsvalue"
)

// LocalSpec is a dependency whose spec only resolves in the source tree:
// workspace:, catalog:, link: or portal:, a file path that leaves the
// package folder, or an npm: alias to one of these. Package managers with
// workspaces rewrite such specs when they publish; npm does not, and an
// install of the published package then fails (EUNSUPPORTEDPROTOCOL for
// the protocols, a missing folder for the paths).
type LocalSpec struct {
	// Field is the dependency list: "dependencies",
	// "optionalDependencies", "peerDependencies" or "devDependencies".
	Field string
	// Name is the dependency's key, Spec its value as written.
	Name, Spec string
}

// ErrLocalSpec is what LocalSpec.Error's errors match with errors.Is.
var ErrLocalSpec = errors.New("dependency spec only resolves in the source tree")

// The lists an install of the published package reads, and the one it
// ignores. peerDependenciesMeta does not matter: npm 7 and later install
// optional peers too when they are asked for.
var (
	installedFields = []string{"dependencies", "optionalDependencies", "peerDependencies"}
	devField        = "devDependencies"
)

// LocalSpecs finds the local dependency specs in package.json contents.
// refuse holds those an install of the published package would fail on
// (dependencies, optionalDependencies, peerDependencies); warn those in
// devDependencies, which such an install ignores. Both are in field
// order, then document order. A file path is judged against the package
// root alone, with no folder at hand: any path that leaves it, and any
// absolute or home path, is local. err is set only when the contents are
// not a JSON object.
func LocalSpecs(pkgJSON []byte) (refuse, warn []LocalSpec, err error) {
	raw, err := decodeObject(pkgJSON)
	if err != nil {
		return nil, nil, err
	}
	order := keyOrder(trimBOM(pkgJSON))
	for _, field := range installedFields {
		refuse = append(refuse, localSpecsIn(raw, field, order)...)
	}
	warn = localSpecsIn(raw, devField, order)
	return refuse, warn, nil
}

func localSpecsIn(raw map[string]any, field string, order map[string][]string) []LocalSpec {
	deps, _ := raw[field].(map[string]any)
	var out []LocalSpec
	for _, name := range objectKeys(raw, field, order) {
		spec, ok := deps[name].(string)
		if !ok {
			continue // npm ignores what is not a string; so does this
		}
		if classify(spec).kind != notLocal {
			out = append(out, LocalSpec{Field: field, Name: name, Spec: spec})
		}
	}
	return out
}

// String is the dependency as a message names it:
// dependencies "x" is "workspace:^1.0.0".
func (s LocalSpec) String() string {
	return fmt.Sprintf("%s %q is %q", s.Field, s.Name, s.Spec)
}

// Error returns the refusal of s: an error matching ErrLocalSpec, with a
// hint saying what to write instead.
func (s LocalSpec) Error() error {
	c := classify(s.Spec)
	return hint.With(&localSpecError{spec: s, why: c.why()}, c.advice())
}

type localSpecError struct {
	spec LocalSpec
	why  string
}

func (e *localSpecError) Error() string {
	return e.spec.String() + ", " + e.why
}

func (e *localSpecError) Is(target error) bool { return target == ErrLocalSpec }

type localKind int

const (
	notLocal localKind = iota
	workspaceSpec
	catalogSpec
	linkSpec    // link: and yarn's portal:
	outsidePath // file: or a bare path leaving the package, absolute or home
)

type classified struct {
	kind localKind
	// protocol is the spec's protocol as written ("workspace:", …);
	// rest is what follows it.
	protocol, rest string
	alias          bool
}

// isScheme is npm-package-arg's test for a URL-like spec.
var isScheme = regexp.MustCompile(`^(?:git\+)?[a-zA-Z]+:`)

// driveLetter starts a Windows absolute path, which npm-package-arg also
// reads as a file spec.
var driveLetter = regexp.MustCompile(`^[a-zA-Z]:`)

func classify(spec string) classified {
	s := jsvalue.Trim(spec)
	if c := classifyOne(s); c.kind != notLocal {
		return c
	}
	// npm:name@spec. npm refuses to alias anything but a registry spec,
	// so an alias to a local spec fails an install as the spec would.
	if len(s) >= 4 && strings.EqualFold(s[:4], "npm:") {
		if c := classifyOne(aliasTarget(s[4:])); c.kind != notLocal {
			c.alias = true
			return c
		}
	}
	return classified{}
}

// aliasTarget is the spec an npm: alias points at, split from its name as
// npm-package-arg splits "name@spec": at the first "@" after the first
// character, unless the whole is a URL or a path.
func aliasTarget(arg string) string {
	name, spec := arg, ""
	if at := strings.IndexByte(arg[min(1, len(arg)):], '@'); at >= 0 {
		at += min(1, len(arg))
		name, spec = arg[:at], arg[at+1:]
	}
	switch {
	case isScheme.MatchString(arg):
		return arg
	case !strings.HasPrefix(name, "@") && (strings.Contains(name, "/") || tarballName.MatchString(name)):
		return arg
	}
	return jsvalue.Trim(spec) // "" (the latest version) is not local
}

var tarballName = regexp.MustCompile(`(?i)\.(?:tgz|tar\.gz|tar)$`)

func classifyOne(s string) classified {
	lower := strings.ToLower(s)
	for _, p := range []struct {
		protocol string
		kind     localKind
	}{
		{"workspace:", workspaceSpec},
		{"catalog:", catalogSpec},
		{"link:", linkSpec},
		{"portal:", linkSpec},
	} {
		if strings.HasPrefix(lower, p.protocol) {
			return classified{kind: p.kind, protocol: s[:len(p.protocol)], rest: s[len(p.protocol):]}
		}
	}
	var p string
	switch {
	case strings.HasPrefix(lower, "file:"):
		p = fileURLPath(s[len("file:"):])
	case driveLetter.MatchString(s):
		p = s
	case isScheme.MatchString(s):
		return classified{} // a URL: git, http, npm: …
	case strings.ContainsAny(s, `/\`) || strings.HasPrefix(s, "."):
		// ./x, ../x, /x, ~/x, and anything with a slash npm does not
		// read as a git host shortcut: a folder or tarball path.
		p = s
	default:
		return classified{}
	}
	if leavesPackage(p) {
		return classified{kind: outsidePath}
	}
	return classified{}
}

// fileURLPath is the path of a file: spec as npm-package-arg resolves it:
// "file://x" means "/x", and one to three slashes before a "." or ".."
// segment are dropped ("file:/../x" is "../x").
func fileURLPath(p string) string {
	if strings.HasPrefix(p, "//") && len(p) > 2 && p[2] != '/' {
		p = "/" + p
	}
	trimmed := strings.TrimLeft(p, "/")
	if n := len(p) - len(trimmed); n >= 1 && n <= 3 {
		first, _, _ := strings.Cut(trimmed, "/")
		if first == "." || first == ".." {
			return trimmed
		}
	}
	return p
}

// leavesPackage reports whether a path from the package root points out
// of it: absolute (a Windows drive too), in the home folder, or with ".."
// segments that climb above the root. Backslashes count as separators,
// as they do when the package is installed on Windows.
func leavesPackage(p string) bool {
	p = strings.ReplaceAll(p, `\`, "/")
	if strings.HasPrefix(p, "/") || driveLetter.MatchString(p) {
		return true
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		return true
	}
	c := path.Clean(p)
	return c == ".." || strings.HasPrefix(c, "../")
}

func (c classified) why() string {
	alias := ""
	if c.alias {
		alias = "an npm: alias to "
	}
	const fails = "installs of the published package cannot resolve it"
	switch c.kind {
	case workspaceSpec:
		return alias + "a workspace spec, which only resolves in the source tree: " + fails + " (npm: EUNSUPPORTEDPROTOCOL)"
	case catalogSpec:
		return alias + "a pnpm catalog spec, which only resolves in the source tree: " + fails + " (npm: EUNSUPPORTEDPROTOCOL)"
	case linkSpec:
		return alias + "a link to a folder of the source tree: " + fails + " (npm: EUNSUPPORTEDPROTOCOL)"
	default:
		return alias + "a path outside the package, which is not in the tarball: " + fails
	}
}

// rangeLike is a workspace: suffix that is already a version range to
// publish ("^1.2.0", "~2", ">=3 <4"), as opposed to "*", "^", "~" or a path.
var rangeLike = regexp.MustCompile(`^(?:[\^~]|[<>]=?|=)?\s*v?[0-9]`)

func (c classified) advice() string {
	// airlock rewrites these specs itself for pnpm and yarn workspaces
	// (airlock pack --workspaces); for npm, which publishes them as
	// written, a range is the fix.
	const later = "for a pnpm or yarn workspace, pack with airlock pack --workspaces, which rewrites them as that manager does"
	switch c.kind {
	case workspaceSpec:
		instead := "the version range of the workspace package, such as \"^1.2.0\""
		if rangeLike.MatchString(c.rest) {
			instead = fmt.Sprintf("%q", c.rest)
		}
		return "pnpm, yarn and bun replace workspace: specs with versions when they publish; " + later + "; for npm, write " + instead + " in package.json"
	case catalogSpec:
		return "pnpm publish replaces catalog: specs with the range from the catalog in pnpm-workspace.yaml; " + later + "; for npm, write that range in package.json"
	case linkSpec:
		return "publish the linked package on its own and depend on a version range of it"
	default:
		return "publish that package on its own and depend on a version range of it, or move it inside the package folder and into the tarball"
	}
}

// CheckLocalSpecs applies the rule pack and publish share: an error naming
// every refused spec (matching ErrLocalSpec, with a hint), and a warning
// through warn for each devDependency that only resolves in the source
// tree.
func CheckLocalSpecs(pkgJSON []byte, warn func(string)) error {
	refuse, dev, err := LocalSpecs(pkgJSON)
	if err != nil {
		return err
	}
	for _, w := range dev {
		warn(w.String() + ", which only resolves in the source tree; installs of the published package ignore devDependencies, so it does no harm there, but a version range would work everywhere")
	}
	if len(refuse) == 0 {
		return nil
	}
	err = refuse[0].Error()
	if len(refuse) > 1 {
		var more []string
		for _, s := range refuse[1:] {
			more = append(more, s.String())
		}
		err = hint.With(fmt.Errorf("%w; also %s", err, strings.Join(more, ", ")), hint.Of(err))
	}
	return err
}
