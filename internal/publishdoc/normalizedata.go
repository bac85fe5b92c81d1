package publishdoc

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/airlockdev/airlock/internal/jsvalue"
)

// fixRepository is package-json's fixRepositoryField.
func fixRepository(data *object) error {
	if repos := data.get("repositories"); truthy(repos) {
		data.set("repository", get(repos, "0"))
	}
	repo := data.get("repository")
	if !truthy(repo) {
		return nil
	}
	if s, ok := repo.(string); ok {
		o := newObject()
		o.set("type", "git")
		o.set("url", s)
		data.set("repository", o)
		repo = o
	}
	o, ok := repo.(*object)
	if !ok || !truthy(o.get("url")) {
		return nil
	}
	hosted, err := hostedFromURL(o.get("url"))
	if err != nil || hosted == nil {
		return err
	}
	r := hosted.String()
	if hosted.representation == "shortcut" {
		r = hosted.https()
	}
	if r != o.get("url") {
		o.set("url", r)
	}
	return nil
}

var (
	depListSplit = regexp.MustCompile(`[` + jsSpace + `,]+`)
	depSpecSplit = regexp.MustCompile(`(:?[@` + jsSpace + `><=])`)
)

// fixDependencies is package-json's fixDependencies: the old string and
// array forms become objects, non-string specs are dropped, and git
// URLs of known hosts are rewritten in their canonical form.
func fixDependencies(data *object) error {
	for _, typ := range []string{"dependencies", "devDependencies", "optionalDependencies"} {
		deps := data.get(typ)
		if !truthy(deps) {
			continue
		}
		if s, ok := deps.(string); ok {
			var list []any
			for _, item := range depListSplit.Split(jsvalue.Trim(s), -1) {
				list = append(list, item)
			}
			deps = list
			data.set(typ, list)
		}
		if list, ok := deps.([]any); ok {
			o := newObject()
			for _, d := range list {
				s, ok := d.(string)
				if !ok {
					continue
				}
				parts := jsSplitCapture(depSpecSplit, jsvalue.Trim(s))
				name := parts[0]
				spec := jsvalue.Trim(strings.TrimPrefix(strings.Join(parts[1:], ""), "@"))
				o.set(name, spec)
			}
			data.set(typ, o)
		}
	}
	for _, typ := range []string{"dependencies", "devDependencies"} {
		if !data.has(typ) {
			continue
		}
		deps, ok := data.get(typ).(*object)
		if !ok {
			if !truthy(data.get(typ)) || !isObjectLike(data.get(typ)) {
				data.del(typ)
				continue
			}
			// An array that survived (only a falsy one could) is walked
			// by index like an object; none reach here in practice.
			continue
		}
		for _, name := range deps.keys() {
			if !deps.has(name) {
				continue
			}
			spec, isString := deps.get(name).(string)
			if !isString {
				deps.del(name)
				continue
			}
			hosted, err := hostedFromURL(spec)
			if err != nil {
				return err
			}
			if hosted != nil {
				if h := hosted.String(); h != "" && h != spec {
					deps.set(name, h)
				}
			}
		}
	}
	return nil
}

// jsSplitCapture is s.split(re) for a regular expression with one
// capturing group that never matches the empty string.
func jsSplitCapture(re *regexp.Regexp, s string) []string {
	if s == "" {
		return []string{""}
	}
	var out []string
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		out = append(out, s[last:m[0]])
		if m[2] >= 0 {
			out = append(out, s[m[2]:m[3]])
		} else {
			out = append(out, "")
		}
		last = m[1]
	}
	return append(out, s[last:])
}

var (
	headingOrBlank = regexp.MustCompile(`^(#|$)`)
	personName     = regexp.MustCompile(`^([^(<]+)`)
	personURL      = regexp.MustCompile(`\(([^()]+)\)`)
	personEmail    = regexp.MustCompile(`<([^<>]+)>`)
	keywordSplit   = regexp.MustCompile(`,[` + jsSpace + `]+`)
)

// extractDescription takes the first paragraph of a readme that is not
// a heading.
func extractDescription(readme string) string {
	lines := strings.Split(jsvalue.Trim(readme), "\n")
	start := 0
	for start < len(lines) && headingOrBlank.MatchString(jsvalue.Trim(lines[start])) {
		start++
	}
	end := start + 1
	for end < len(lines) && jsvalue.Trim(lines[end]) != "" {
		end++
	}
	if start >= len(lines) {
		return ""
	}
	end = min(end, len(lines))
	return jsvalue.Trim(strings.Join(lines[start:end], " "))
}

func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at >= 0 && at < strings.LastIndexByte(s, '.')
}

// concat is JavaScript's a + b where b is a string.
func concat(parts ...any) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(jsString(p))
	}
	return b.String()
}

// or is a || b.
func or(a, b any) any {
	if truthy(a) {
		return a
	}
	return b
}

// stringifyPerson turns "Name <email> (url)" or {name, email, url} into
// {name, email, url}; it fails, as npm does, on null.
func stringifyPerson(person any) (*object, error) {
	s, ok := person.(string)
	if !ok {
		if person == nil || person == undefined {
			return nil, errors.New("people fields must not contain null")
		}
		name := or(get(person, "name"), "")
		u := or(get(person, "url"), get(person, "web"))
		wrappedURL := ""
		if truthy(u) {
			wrappedURL = concat(" (", u, ")")
		}
		e := or(get(person, "email"), get(person, "mail"))
		wrappedEmail := ""
		if truthy(e) {
			wrappedEmail = concat(" <", e, ">")
		}
		s = concat(name, wrappedEmail, wrappedURL)
	}
	parsed := newObject()
	if m := personName.FindStringSubmatch(s); m != nil && jsvalue.Trim(m[0]) != "" {
		parsed.set("name", jsvalue.Trim(m[0]))
	}
	if m := personEmail.FindStringSubmatch(s); m != nil {
		parsed.set("email", m[1])
	}
	if m := personURL.FindStringSubmatch(s); m != nil {
		parsed.set("url", m[1])
	}
	return parsed, nil
}

// normalizeData is package-json's normalizeData, once
// normalize-package-data: only the steps that change the document
// (license and typo checks only warn).
func normalizeData(data *object) error {
	// description
	if d := data.get("description"); truthy(d) {
		if _, ok := d.(string); !ok {
			data.del("description")
		}
	}
	if readme := data.get("readme"); truthy(readme) && !truthy(data.get("description")) && readme != noReadme {
		s, ok := readme.(string)
		if !ok {
			return fmt.Errorf(`"readme" must be a string, found %s`, describe(readme))
		}
		data.set("description", extractDescription(s))
	}
	if data.get("description") == undefined {
		data.del("description")
	}

	// modules
	if truthy(data.get("modules")) {
		data.del("modules")
	}

	// files
	if files := data.get("files"); truthy(files) {
		if list, ok := files.([]any); !ok {
			data.del("files")
		} else {
			kept := []any{}
			for _, f := range list {
				if s, ok := f.(string); ok && s != "" {
					kept = append(kept, f)
				}
			}
			data.set("files", kept)
		}
	}

	// man
	if s, ok := data.get("man").(string); ok && s != "" {
		data.set("man", []any{s})
	}

	// bugs
	repoURL := get(data.get("repository"), "url")
	if bugs := data.get("bugs"); !truthy(bugs) && truthy(repoURL) {
		hosted, err := hostedFromURL(repoURL)
		if err != nil {
			return err
		}
		if hosted != nil {
			if b, ok := hosted.bugs(); ok && b != "" {
				o := newObject()
				o.set("url", b)
				data.set("bugs", o)
			}
		}
	} else if truthy(bugs) {
		if s, ok := bugs.(string); ok {
			if isEmail(s) {
				o := newObject()
				o.set("email", s)
				data.set("bugs", o)
			} else if canParseURL(s) {
				o := newObject()
				o.set("url", s)
				data.set("bugs", o)
			}
		} else {
			if o, ok := bugs.(*object); ok {
				for _, k := range o.keys() {
					if (k == "web" || k == "name") && o.has(k) {
						o.set("url", o.get(k))
						o.del(k)
					}
				}
			}
			old := bugs
			nb := newObject()
			data.set("bugs", nb)
			if u := get(old, "url"); truthy(u) && canParseURL(jsString(u)) {
				nb.set("url", u)
			}
			if e := get(old, "email"); truthy(e) {
				if s, ok := e.(string); ok && isEmail(s) {
					nb.set("email", e)
				}
			}
		}
		if b := data.get("bugs"); !truthy(get(b, "email")) && !truthy(get(b, "url")) {
			data.del("bugs")
		}
	}

	// keywords
	if s, ok := data.get("keywords").(string); ok {
		data.set("keywords", stringsToAny(jsSplit(keywordSplit, s)))
	}
	if kw := data.get("keywords"); truthy(kw) {
		if list, ok := kw.([]any); !ok {
			data.del("keywords")
		} else {
			kept := []any{}
			for _, k := range list {
				if s, ok := k.(string); ok && s != "" {
					kept = append(kept, k)
				}
			}
			data.set("keywords", kept)
		}
	}

	// bundleDependencies
	if bd := data.get("bundleDependencies"); truthy(bd) {
		if list, ok := bd.([]any); !ok {
			data.del("bundleDependencies")
		} else {
			kept := []any{}
			for _, item := range list {
				s, ok := item.(string)
				if !ok || s == "" {
					continue
				}
				if !truthy(data.get("dependencies")) {
					data.set("dependencies", newObject())
				}
				if deps, ok := data.get("dependencies").(*object); ok && !deps.has(s) {
					deps.set(s, "*")
				}
				kept = append(kept, item)
			}
			data.set("bundleDependencies", kept)
		}
	}

	// homepage
	if !truthy(data.get("homepage")) && truthy(data.get("repository")) && truthy(repoURL) {
		hosted, err := hostedFromURL(repoURL)
		if err != nil {
			return err
		}
		if hosted != nil {
			data.set("homepage", hosted.docs())
		}
	}
	if hp := data.get("homepage"); truthy(hp) {
		if s, ok := hp.(string); !ok {
			data.del("homepage")
		} else if !canParseURL(s) {
			data.set("homepage", "http://"+s)
		}
	}

	// readme
	if !truthy(data.get("readme")) {
		data.set("readme", noReadme)
	}

	// people
	if a := data.get("author"); truthy(a) {
		p, err := stringifyPerson(a)
		if err != nil {
			return err
		}
		data.set("author", p)
	}
	for _, set := range []string{"maintainers", "contributors"} {
		list, ok := data.get(set).([]any)
		if !ok {
			continue
		}
		people := make([]any, len(list))
		for i, item := range list {
			p, err := stringifyPerson(item)
			if err != nil {
				return err
			}
			people[i] = p
		}
		data.set(set, people)
	}
	return nil
}

// jsSplit is s.split(re) for a regular expression without groups that
// never matches the empty string.
func jsSplit(re *regexp.Regexp, s string) []string {
	if s == "" {
		return []string{""}
	}
	return re.Split(s, -1)
}
