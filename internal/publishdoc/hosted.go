package publishdoc

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// hosted-git-info 9, as npm uses it to normalize repository URLs, derive
// bugs and homepage, and rewrite git dependency specs.

// gitHost is a parsed hosted git URL. Nil strings stand for JavaScript
// null, which templates print as "null".
type gitHost struct {
	typ            string
	user           *string
	auth           *string
	project        string
	committish     *string
	representation string
}

type hostInfo struct {
	protocols []string
	domain    string
	treepath  string
	extract   func(u *webURL) (user *string, project string, committish *string, ok bool)
}

var gitHosts = map[string]*hostInfo{
	"github": {
		protocols: []string{"git:", "http:", "git+ssh:", "git+https:", "ssh:", "https:"},
		domain:    "github.com",
		treepath:  "tree",
		extract: func(u *webURL) (*string, string, *string, bool) {
			parts := jsSplitLimit(u.pathname(), "/", 5)
			user, project, typ, committish := part(parts, 1), part(parts, 2), part(parts, 3), part(parts, 4)
			if typ != nil && *typ != "" && *typ != "tree" {
				return nil, "", nil, false
			}
			if typ == nil || *typ == "" {
				h := strings.TrimPrefix(u.hash(), "#")
				committish = &h
			}
			if project != nil && strings.HasSuffix(*project, ".git") {
				p := strings.TrimSuffix(*project, ".git")
				project = &p
			}
			if user == nil || *user == "" || project == nil || *project == "" {
				return nil, "", nil, false
			}
			return user, *project, committish, true
		},
	},
	"bitbucket": {
		protocols: []string{"git+ssh:", "git+https:", "ssh:", "https:"},
		domain:    "bitbucket.org",
		treepath:  "src",
		extract: func(u *webURL) (*string, string, *string, bool) {
			parts := jsSplitLimit(u.pathname(), "/", 4)
			user, project, aux := part(parts, 1), part(parts, 2), part(parts, 3)
			if aux != nil && *aux == "get" {
				return nil, "", nil, false
			}
			if project != nil && strings.HasSuffix(*project, ".git") {
				p := strings.TrimSuffix(*project, ".git")
				project = &p
			}
			if user == nil || *user == "" || project == nil || *project == "" {
				return nil, "", nil, false
			}
			h := strings.TrimPrefix(u.hash(), "#")
			return user, *project, &h, true
		},
	},
	"gitlab": {
		protocols: []string{"git+ssh:", "git+https:", "ssh:", "https:"},
		domain:    "gitlab.com",
		treepath:  "tree",
		extract: func(u *webURL) (*string, string, *string, bool) {
			p := u.pathname()
			if p != "" {
				p = p[1:] // a URL with a host has a path starting with "/"
			}
			if strings.Contains(p, "/-/") || strings.Contains(p, "/archive.tar.gz") {
				return nil, "", nil, false
			}
			segments := strings.Split(p, "/")
			project := segments[len(segments)-1]
			project = strings.TrimSuffix(project, ".git")
			user := strings.Join(segments[:len(segments)-1], "/")
			if user == "" || project == "" {
				return nil, "", nil, false
			}
			h := strings.TrimPrefix(u.hash(), "#")
			return &user, project, &h, true
		},
	},
	"gist": {
		protocols: []string{"git:", "git+ssh:", "git+https:", "ssh:", "https:"},
		domain:    "gist.github.com",
		extract: func(u *webURL) (*string, string, *string, bool) {
			parts := jsSplitLimit(u.pathname(), "/", 4)
			user, project, aux := part(parts, 1), part(parts, 2), part(parts, 3)
			if aux != nil && *aux == "raw" {
				return nil, "", nil, false
			}
			if project == nil || *project == "" {
				if user == nil || *user == "" {
					return nil, "", nil, false
				}
				project, user = user, nil
			}
			p := strings.TrimSuffix(*project, ".git")
			h := strings.TrimPrefix(u.hash(), "#")
			return user, p, &h, true
		},
	},
	"sourcehut": {
		protocols: []string{"git+ssh:", "https:"},
		domain:    "git.sr.ht",
		treepath:  "tree",
		extract: func(u *webURL) (*string, string, *string, bool) {
			parts := jsSplitLimit(u.pathname(), "/", 4)
			user, project, aux := part(parts, 1), part(parts, 2), part(parts, 3)
			if aux != nil && *aux == "archive" {
				return nil, "", nil, false
			}
			if project != nil && strings.HasSuffix(*project, ".git") {
				p := strings.TrimSuffix(*project, ".git")
				project = &p
			}
			if user == nil || *user == "" || project == nil || *project == "" {
				return nil, "", nil, false
			}
			h := strings.TrimPrefix(u.hash(), "#")
			return user, *project, &h, true
		},
	},
}

var gitHostsByDomain = map[string]string{
	"github.com": "github", "bitbucket.org": "bitbucket", "gitlab.com": "gitlab",
	"gist.github.com": "gist", "git.sr.ht": "sourcehut",
}

type protocolInfo struct {
	name string
	auth bool
}

var gitProtocols = map[string]protocolInfo{
	"git+ssh:":   {name: "sshurl"},
	"ssh:":       {name: "sshurl"},
	"git+https:": {name: "https", auth: true},
	"git:":       {auth: true},
	"http:":      {auth: true},
	"https:":     {auth: true},
	"git+http:":  {auth: true},
	"github:":    {name: "github"},
	"bitbucket:": {name: "bitbucket"},
	"gitlab:":    {name: "gitlab"},
	"gist:":      {name: "gist"},
	"sourcehut:": {name: "sourcehut"},
}

func part(parts []string, i int) *string {
	if i < len(parts) {
		return &parts[i]
	}
	return nil
}

// jsSplitLimit is s.split(sep, limit): unlike strings.SplitN, the rest
// of the string after the limit is dropped.
func jsSplitLimit(s, sep string, limit int) []string {
	parts := strings.Split(s, sep)
	if len(parts) > limit {
		parts = parts[:limit]
	}
	return parts
}

var jsSpaceRe = regexp.MustCompile(`[` + jsSpace + `]`)

func isGitHubShorthand(arg string) bool {
	firstHash := strings.IndexByte(arg, '#')
	firstSlash := strings.IndexByte(arg, '/')
	secondSlash := -1
	if i := strings.IndexByte(arg[firstSlash+1:], '/'); i >= 0 {
		secondSlash = firstSlash + 1 + i
	}
	firstColon := strings.IndexByte(arg, ':')
	firstSpace := -1
	if loc := jsSpaceRe.FindStringIndex(arg); loc != nil {
		firstSpace = loc[0]
	}
	firstAt := strings.IndexByte(arg, '@')

	spaceOnlyAfterHash := firstSpace == -1 || (firstHash > -1 && firstSpace > firstHash)
	atOnlyAfterHash := firstAt == -1 || (firstHash > -1 && firstAt > firstHash)
	colonOnlyAfterHash := firstColon == -1 || (firstHash > -1 && firstColon > firstHash)
	secondSlashOnlyAfterHash := secondSlash == -1 || (firstHash > -1 && secondSlash > firstHash)
	hasSlash := firstSlash > 0
	var doesNotEndWithSlash bool
	if firstHash > -1 {
		doesNotEndWithSlash = firstHash == 0 || arg[firstHash-1] != '/'
	} else {
		doesNotEndWithSlash = !strings.HasSuffix(arg, "/")
	}
	doesNotStartWithDot := !strings.HasPrefix(arg, ".")
	return spaceOnlyAfterHash && hasSlash && doesNotEndWithSlash && doesNotStartWithDot &&
		atOnlyAfterHash && colonOnlyAfterHash && secondSlashOnlyAfterHash
}

// lastIndexOfBefore is str.lastIndexOf(char, str.indexOf(beforeChar)).
func lastIndexOfBefore(s string, char, before byte) int {
	limit := strings.IndexByte(s, before)
	if limit < 0 {
		return strings.LastIndexByte(s, char)
	}
	return strings.LastIndexByte(s[:min(limit+1, len(s))], char)
}

func correctProtocol(arg string) string {
	firstColon := strings.IndexByte(arg, ':')
	proto := arg[:firstColon+1]
	if _, ok := gitProtocols[proto]; ok {
		return arg
	}
	if firstColon >= 0 && strings.HasPrefix(arg[firstColon:], "://") {
		return arg
	}
	firstAt := strings.IndexByte(arg, '@')
	if firstAt > -1 {
		if firstAt > firstColon {
			return "git+ssh://" + arg
		}
		return arg
	}
	return arg[:firstColon+1] + "//" + arg[firstColon+1:]
}

func correctURL(giturl string) string {
	firstAt := lastIndexOfBefore(giturl, '@', '#')
	lastColonBeforeHash := lastIndexOfBefore(giturl, ':', '#')
	if lastColonBeforeHash > firstAt {
		giturl = giturl[:lastColonBeforeHash] + "/" + giturl[lastColonBeforeHash+1:]
	}
	if lastIndexOfBefore(giturl, ':', '#') == -1 && !strings.Contains(giturl, "//") {
		giturl = "git+ssh://" + giturl
	}
	return giturl
}

func parseGitURL(giturl string) (*webURL, bool) {
	withProtocol := correctProtocol(giturl)
	if u, ok := parseWebURL(withProtocol); ok {
		return u, true
	}
	return parseWebURL(correctURL(withProtocol))
}

// objectPrototypeKeys are the names a plain JavaScript object answers
// without owning them; hosted-git-info looks host names up in one.
var objectPrototypeKeys = map[string]bool{
	"constructor": true, "__proto__": true, "toString": true, "toLocaleString": true,
	"valueOf": true, "hasOwnProperty": true, "isPrototypeOf": true,
	"propertyIsEnumerable": true, "__defineGetter__": true, "__defineSetter__": true,
	"__lookupGetter__": true, "__lookupSetter__": true,
}

var gitShortcuts = map[string]string{
	"github:": "github", "bitbucket:": "bitbucket", "gitlab:": "gitlab", "gist:": "gist", "sourcehut:": "sourcehut",
}

// hostedFromURL is hosted-git-info's fromUrl(giturl): nil if giturl is
// not a string or not a known host. The error is for URLs on which
// hosted-git-info throws (a host named like an Object.prototype member),
// which makes npm fail.
func hostedFromURL(v any) (*gitHost, error) {
	giturl, ok := v.(string)
	if !ok || giturl == "" {
		return nil, nil
	}
	if isGitHubShorthand(giturl) {
		giturl = "github:" + giturl
	}
	parsed, ok := parseGitURL(giturl)
	if !ok {
		return nil, nil
	}
	proto := parsed.protocol()
	shortcut := gitShortcuts[proto]
	hostname := parsed.hostname()
	if strings.HasPrefix(hostname, "www.") {
		hostname = hostname[4:]
	}
	name := shortcut
	if name == "" {
		name = gitHostsByDomain[hostname]
		if name == "" && objectPrototypeKeys[hostname] {
			return nil, fmt.Errorf("hosted-git-info fails on %q: TypeError: Cannot read properties of undefined (reading 'protocols')", giturl)
		}
	}
	if name == "" {
		return nil, nil
	}
	info := gitHosts[name]
	var auth *string
	if gitProtocols[proto].auth && (parsed.username != "" || parsed.password != "") {
		a := parsed.username
		if parsed.password != "" {
			a += ":" + parsed.password
		}
		auth = &a
	}
	h := &gitHost{typ: name, auth: auth}
	if shortcut != "" {
		pathname := strings.TrimPrefix(parsed.pathname(), "/")
		if i := strings.IndexByte(pathname, '@'); i > -1 {
			pathname = pathname[i+1:]
		}
		project := pathname
		if i := strings.LastIndexByte(pathname, '/'); i > -1 {
			user, ok := decodeURIComponent(pathname[:i])
			if !ok {
				return nil, nil
			}
			if user != "" {
				h.user = &user
			}
			project = pathname[i+1:]
		}
		if h.project, ok = decodeURIComponent(project); !ok {
			return nil, nil
		}
		h.project = strings.TrimSuffix(h.project, ".git")
		if parsed.hash() != "" {
			c, ok := decodeURIComponent(parsed.hash()[1:])
			if !ok {
				return nil, nil
			}
			h.committish = &c
		}
		h.representation = "shortcut"
		return h, nil
	}
	if !containsString(info.protocols, proto) {
		return nil, nil
	}
	user, project, committish, ok := info.extract(parsed)
	if !ok {
		return nil, nil
	}
	if user != nil && *user != "" {
		u, ok := decodeURIComponent(*user)
		if !ok {
			return nil, nil
		}
		h.user = &u
	} else if user != nil {
		h.user = lit("") // "" && decode(...) is ""
	}
	if h.project, ok = decodeURIComponent(project); !ok {
		return nil, nil
	}
	c := "undefined" // decodeURIComponent(undefined)
	if committish != nil {
		if c, ok = decodeURIComponent(*committish); !ok {
			return nil, nil
		}
	}
	h.committish = &c
	h.representation = gitProtocols[proto].name
	if h.representation == "" {
		h.representation = strings.TrimSuffix(proto, ":")
	}
	return h, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func str(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

func truthyStr(p *string) bool { return p != nil && *p != "" }

// maybeJoin is hosted-git-info's: the joined parts, or "" if any is
// empty or null.
func maybeJoin(parts ...*string) string {
	var b strings.Builder
	for _, p := range parts {
		if !truthyStr(p) {
			return ""
		}
		b.WriteString(*p)
	}
	return b.String()
}

func lit(s string) *string { return &s }

func maybeEncode(p *string) *string {
	if !truthyStr(p) {
		return lit("")
	}
	return lit(encodeURIComponent(*p))
}

func (h *gitHost) domain() string { return gitHosts[h.typ].domain }

func (h *gitHost) https() string {
	switch h.typ {
	case "gist":
		return "git+https://" + h.domain() + "/" + h.project + ".git" + maybeJoin(lit("#"), h.committish)
	case "sourcehut":
		return "https://" + h.domain() + "/" + str(h.user) + "/" + h.project + maybeJoin(lit("#"), h.committish)
	}
	return "git+https://" + maybeJoin(h.auth, lit("@")) + h.domain() + "/" + str(h.user) + "/" + h.project + ".git" + maybeJoin(lit("#"), h.committish)
}

func (h *gitHost) sshurl() string {
	if h.typ == "gist" {
		return "git+ssh://git@" + h.domain() + "/" + h.project + ".git" + maybeJoin(lit("#"), h.committish)
	}
	return "git+ssh://git@" + h.domain() + "/" + str(h.user) + "/" + h.project + ".git" + maybeJoin(lit("#"), h.committish)
}

func (h *gitHost) git() (string, bool) {
	switch h.typ {
	case "github":
		return "git://" + maybeJoin(h.auth, lit("@")) + h.domain() + "/" + str(h.user) + "/" + h.project + ".git" + maybeJoin(lit("#"), h.committish), true
	case "gist":
		return "git://" + h.domain() + "/" + h.project + ".git" + maybeJoin(lit("#"), h.committish), true
	}
	return "", false
}

func (h *gitHost) shortcut() string {
	if h.typ == "gist" {
		return h.typ + ":" + h.project + maybeJoin(lit("#"), h.committish)
	}
	return h.typ + ":" + str(h.user) + "/" + h.project + maybeJoin(lit("#"), h.committish)
}

// String is toString(): the URL in the form it was given in.
func (h *gitHost) String() string {
	switch h.representation {
	case "shortcut":
		return h.shortcut()
	case "https":
		return h.https()
	case "git":
		if s, ok := h.git(); ok {
			return s
		}
	}
	return h.sshurl()
}

// bugs is bugs(); ok is false for hosts without an issue tracker.
func (h *gitHost) bugs() (string, bool) {
	switch h.typ {
	case "gist":
		return "https://" + h.domain() + "/" + h.project, true
	case "sourcehut":
		return "", false
	}
	return "https://" + h.domain() + "/" + str(h.user) + "/" + h.project + "/issues", true
}

func (h *gitHost) docs() string {
	if h.typ == "gist" {
		return "https://" + h.domain() + "/" + h.project + maybeJoin(lit("/"), maybeEncode(h.committish))
	}
	tree := gitHosts[h.typ].treepath
	return "https://" + h.domain() + "/" + str(h.user) + "/" + h.project +
		maybeJoin(lit("/"), lit(tree), lit("/"), maybeEncode(h.committish)) + "#readme"
}

// decodeURIComponent is JavaScript's: ok is false where it throws
// URIError (a bad escape, or escaped bytes that are not UTF-8).
func decodeURIComponent(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	escaped := func(i int) (byte, bool) {
		if i+2 >= len(s) || s[i] != '%' || hexVal(s[i+1]) < 0 || hexVal(s[i+2]) < 0 {
			return 0, false
		}
		return byte(hexVal(s[i+1])<<4 | hexVal(s[i+2])), true
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '%' {
			b.WriteByte(s[i])
			i++
			continue
		}
		c, ok := escaped(i)
		if !ok {
			return "", false
		}
		i += 3
		if c < 0x80 {
			b.WriteByte(c)
			continue
		}
		var n int
		switch {
		case c&0xe0 == 0xc0:
			n = 2
		case c&0xf0 == 0xe0:
			n = 3
		case c&0xf8 == 0xf0:
			n = 4
		default:
			return "", false
		}
		seq := []byte{c}
		for k := 1; k < n; k++ {
			c, ok := escaped(i)
			if !ok || c&0xc0 != 0x80 {
				return "", false
			}
			seq = append(seq, c)
			i += 3
		}
		if r, size := utf8.DecodeRune(seq); size != len(seq) || (r == utf8.RuneError && size < 3) {
			return "", false
		}
		b.Write(seq)
	}
	return b.String(), true
}

// encodeURIComponent is JavaScript's, for strings without lone
// surrogates.
func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&0xf])
	}
	return b.String()
}
