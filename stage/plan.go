package stage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/manifest"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
)

// plan is where and how a version is released.
type plan struct {
	registry string
	tag      string
	// tagChosen is true when the tag came from a flag, the environment, a
	// config file or publishConfig rather than npm's default.
	tagChosen bool
	access    string // "public", "restricted", or "" for the registry's default
	// notes say which of these came from the tarball's publishConfig.
	notes []string
}

// publishFields are the package.json fields publishing reads that the
// normalized manifest does not keep.
type publishFields struct {
	private       bool
	publishConfig map[string]any
}

func readPublishFields(pkgJSON []byte) (publishFields, error) {
	var raw struct {
		Private       any            `json:"private"`
		PublishConfig map[string]any `json:"publishConfig"`
	}
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(pkgJSON, []byte("\xef\xbb\xbf"))))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		// inspect already parsed it; a type mismatch lands here.
		return publishFields{}, fmt.Errorf("package.json: %w", err)
	}
	private := false
	switch p := raw.Private.(type) {
	case bool:
		private = p
	case string:
		private = p != "" // npm tests truthiness
	case json.Number:
		private = p.String() != "0"
	}
	return publishFields{private: private, publishConfig: raw.PublishConfig}, nil
}

// planRelease applies npm's rules for where a version goes and under
// which tag, before anything is sent.
func planRelease(m *manifest.Manifest, cfg *npmrc.Config, pkg publishFields) (plan, error) {
	p := plan{registry: cfg.RegistryFor(m.Name)}
	tag, source := cfg.Get("tag")
	if tag == "" {
		tag = "latest"
	}
	p.tag, p.tagChosen = tag, source != "" && source != "default"
	if isSemverRange(tag) {
		return p, hint.With(fmt.Errorf("tag %q is a semver range, which npm refuses as a dist-tag", strings.TrimSpace(tag)),
			"choose a tag that is not a version or range, such as latest, next or beta")
	}
	if access, src := cfg.Get("access"); src != "" && src != "default" && access != "" && access != "null" {
		p.access = access
	}
	if p.access != "" && p.access != "public" && p.access != "restricted" {
		return p, hint.With(fmt.Errorf("access %q is not public or restricted", p.access), "use --access public or --access restricted")
	}
	if p.access == "restricted" && !strings.HasPrefix(m.Name, "@") {
		return p, hint.With(fmt.Errorf("%s: cannot restrict access to an unscoped package", m.Name), "unscoped packages are always public; drop --access restricted or publish under a scope")
	}
	p.notes = publishConfigNotes(m.Name, cfg, p)
	if manifest.IsPrerelease(m.Version) && !p.tagChosen {
		return p, hint.With(fmt.Errorf("%s is a prerelease, and would become %q", m.ID(), p.tag),
			"choose its dist-tag explicitly, e.g. --tag next (npm refuses too)")
	}
	return p, nil
}

// publishConfigNotes says which settings the tarball's publishConfig
// chose: they come from the package, not from the job's configuration.
func publishConfigNotes(name string, cfg *npmrc.Config, p plan) []string {
	const from = "publishConfig in the tarball's package.json"
	var notes []string
	keys := []string{"registry"}
	if scope, _, ok := strings.Cut(name, "/"); ok && strings.HasPrefix(scope, "@") {
		keys = []string{scope + ":registry", "registry"}
	}
	for _, k := range keys {
		if _, src := cfg.Get(k); src == "publishConfig" {
			notes = append(notes, fmt.Sprintf("the registry %s comes from %s (%s)", p.registry, from, k))
			break
		}
	}
	if _, src := cfg.Get("tag"); src == "publishConfig" {
		notes = append(notes, fmt.Sprintf("the tag %q comes from %s", p.tag, from))
	}
	if _, src := cfg.Get("access"); src == "publishConfig" && p.access != "" {
		notes = append(notes, fmt.Sprintf("access %q comes from %s", p.access, from))
	}
	return notes
}

// checkLatest refuses to move the default tag to a version lower than the
// highest one published, as npm does unless a tag is chosen.
func checkLatest(p plan, version string, pk *registry.Packument) error {
	if p.tagChosen {
		return nil
	}
	deprecated := deprecatedVersions(pk.Raw)
	var highest string
	for v := range pk.Versions {
		if manifest.ValidateVersion(v) != nil || manifest.IsPrerelease(v) || deprecated[v] {
			continue
		}
		if highest == "" || compareVersions(v, highest) > 0 {
			highest = v
		}
	}
	if highest != "" && compareVersions(highest, version) >= 0 {
		return hint.With(fmt.Errorf("%s is lower than %s, the highest version published, and would take the %q tag from it", version, highest, p.tag),
			"publish it under another tag, e.g. --tag v"+strings.SplitN(version, ".", 2)[0]+"-maintenance")
	}
	return nil
}

func deprecatedVersions(raw json.RawMessage) map[string]bool {
	var doc struct {
		Versions map[string]struct {
			Deprecated any `json:"deprecated"`
		} `json:"versions"`
	}
	out := map[string]bool{}
	if json.Unmarshal(raw, &doc) != nil {
		return out
	}
	for v, d := range doc.Versions {
		if s, ok := d.Deprecated.(string); ok && s != "" {
			out[v] = true
		} else if b, ok := d.Deprecated.(bool); ok && b {
			out[v] = true
		}
	}
	return out
}

// compareVersions orders two valid semver versions by precedence.
func compareVersions(a, b string) int {
	pa, pb := splitVersion(a), splitVersion(b)
	for i := 0; i < 3; i++ {
		if c := compareNumeric(pa.core[i], pb.core[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(pa.pre) == 0 && len(pb.pre) == 0:
		return 0
	case len(pa.pre) == 0:
		return 1
	case len(pb.pre) == 0:
		return -1
	}
	for i := 0; i < len(pa.pre) && i < len(pb.pre); i++ {
		x, y := pa.pre[i], pb.pre[i]
		xn, xerr := strconv.ParseUint(x, 10, 64)
		yn, yerr := strconv.ParseUint(y, 10, 64)
		switch {
		case xerr == nil && yerr == nil:
			if xn != yn {
				if xn < yn {
					return -1
				}
				return 1
			}
		case xerr == nil:
			return -1
		case yerr == nil:
			return 1
		default:
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	return compareInts(len(pa.pre), len(pb.pre))
}

type version struct {
	core [3]string
	pre  []string
}

func splitVersion(v string) version {
	v, _, _ = strings.Cut(v, "+")
	core, pre, hasPre := strings.Cut(v, "-")
	var out version
	copy(out.core[:], strings.SplitN(core, ".", 3))
	if hasPre {
		out.pre = strings.Split(pre, ".")
	}
	return out
}

func compareNumeric(a, b string) int {
	if len(a) != len(b) {
		return compareInts(len(a), len(b))
	}
	return strings.Compare(a, b)
}

func compareInts(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// isSemverRange reports whether node-semver's validRange would accept
// tag: npm refuses such tags, since "npm install pkg@<tag>" would read
// them as ranges.
func isSemverRange(tag string) bool {
	t := strings.TrimSpace(tag)
	if t == "" {
		return true // validRange("") is "*"
	}
	for _, set := range strings.Split(t, "||") {
		set = strings.TrimSpace(set)
		if set == "" {
			continue
		}
		if m := hyphenRange.FindStringSubmatch(set); m != nil {
			continue
		}
		for _, c := range strings.Fields(set) {
			if !comparator.MatchString(c) {
				return false
			}
		}
	}
	return true
}

var (
	partial     = `v?(?:\d+|[xX*])(?:\.(?:\d+|[xX*])(?:\.(?:\d+|[xX*])(?:-?[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?`
	comparator  = regexp.MustCompile(`^(?:<=?|>=?|=|~>?|\^)?` + partial + `$|^(?:<=?|>=?|=|~>?|\^)$`)
	hyphenRange = regexp.MustCompile(`^` + partial + `\s+-\s+` + partial + `$`)
)
