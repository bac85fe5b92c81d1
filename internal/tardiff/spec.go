package tardiff

import (
	"regexp"
	"strings"
)

// SpecKind is where a dependency spec makes npm fetch the package from.
type SpecKind int

const (
	// SpecRegistry is a version, range or tag: the registry.
	SpecRegistry SpecKind = iota
	// SpecAlias is npm:other@range: the registry, another package.
	SpecAlias
	// SpecGit is a git repository: git URLs and hosted shorthands.
	SpecGit
	// SpecURL is a tarball from an http(s) URL.
	SpecURL
	// SpecFile is a local path, file: or link:.
	SpecFile
)

func (k SpecKind) String() string {
	return [...]string{"registry", "alias", "git", "url", "file"}[k]
}

var (
	// npm-package-arg's tests, in the order it applies them.
	gitScheme   = regexp.MustCompile(`^(?i)(git\+[a-z]+|git|ssh)://`)
	scpLike     = regexp.MustCompile(`^[A-Za-z0-9._~-]+@[A-Za-z0-9.-]+:`)
	hostedShort = regexp.MustCompile(`^(?i)(github|gitlab|bitbucket|gist|sourcehut):`)
	fileLike    = regexp.MustCompile(`^(?:\.|~[/\\]|[/\\]|[A-Za-z]:)`)
	tarballName = regexp.MustCompile(`(?i)\.(?:tgz|tar\.gz|tar)$`)
	// user/repo, with an optional #committish or #semver:range.
	githubShort = regexp.MustCompile(`^[^@%/\s.\-][^:@%/\s]*/[^@\s/%]+(?:#.*)?$`)
)

// ClassifySpec says where npm would fetch a dependency spec from.
func ClassifySpec(spec string) SpecKind {
	s := strings.TrimSpace(spec)
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "npm:"):
		return SpecAlias
	case strings.HasPrefix(lower, "file:"), strings.HasPrefix(lower, "link:"):
		return SpecFile
	case gitScheme.MatchString(s), strings.HasPrefix(lower, "git@"), scpLike.MatchString(s) && !strings.Contains(s, "://"):
		return SpecGit
	case hostedShort.MatchString(s):
		return SpecGit
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return SpecURL
	case strings.Contains(s, "://"):
		// Any other scheme is not the registry; npm refuses most.
		return SpecURL
	case fileLike.MatchString(s), tarballName.MatchString(s):
		return SpecFile
	case githubShort.MatchString(s):
		return SpecGit
	}
	return SpecRegistry
}
