package stage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/manifest"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/internal/semver"
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
	release, ok := semver.Parse(version)
	if !ok {
		return nil // a number above 2^53-1: npm refuses the version itself
	}
	var highest string
	var top semver.Version
	for v := range pk.Versions {
		if manifest.ValidateVersion(v) != nil || manifest.IsPrerelease(v) || deprecated[v] {
			continue
		}
		pv, ok := semver.Parse(v)
		if !ok {
			continue
		}
		if highest == "" || pv.Compare(top) > 0 {
			highest, top = v, pv
		}
	}
	if highest != "" && top.Compare(release) >= 0 {
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

// isSemverRange reports whether node-semver's validRange would accept
// tag: npm refuses such tags, since "npm install pkg@<tag>" would read
// them as ranges.
func isSemverRange(tag string) bool {
	_, ok := semver.ParseRange(tag)
	return ok
}
