package npmrc

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"
)

var slashedProtocols = map[string]bool{"http:": true, "https:": true, "ftp:": true, "gopher:": true, "file:": true}

// legacyHref is what nopt's url type does with a value: Node's legacy
// url.parse, valid only if it finds a host, normalized to its href
// (scheme and host lower-cased, "/" for an empty path). It follows
// url.parse closely (TestURLsMatchNode); it refuses non-ASCII hosts,
// which url.parse would punycode.
func legacyHref(raw string) (string, bool) {
	rest := strings.TrimFunc(raw, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v' || r == 0xa0 || r == 0xfeff
	})
	if q := strings.IndexAny(rest, "?#"); q >= 0 {
		rest = strings.ReplaceAll(rest[:q], `\`, "/") + rest[q:]
	} else {
		rest = strings.ReplaceAll(rest, `\`, "/")
	}
	i := 0
	for i < len(rest) && (isAlnum(rest[i]) || rest[i] == '.' || rest[i] == '+' || rest[i] == '-') {
		i++
	}
	proto, lowerProto := "", ""
	if i > 0 && i < len(rest) && rest[i] == ':' {
		proto, lowerProto = rest[:i+1], strings.ToLower(rest[:i+1])
		rest = rest[i+1:]
	}
	if lowerProto == "javascript:" {
		return "", false
	}
	slashes := strings.HasPrefix(rest, "//")
	if slashes && proto == "" && !legacyHostPattern(rest) {
		return "", false // a path like //host/x has no host for url.parse
	}
	if slashes {
		rest = rest[2:]
	}
	if !slashes && (proto == "" || slashedProtocols[proto]) {
		return "", false
	}
	hostEnd, atSign, nonHost := -1, -1, -1
	for j := 0; j < len(rest) && hostEnd < 0; j++ {
		switch rest[j] {
		case '\t', '\n', '\r', ' ', '"', '%', '\'', ';', '<', '>', '\\', '^', '`', '{', '|', '}':
			if nonHost < 0 {
				nonHost = j
			}
		case '#', '/', '?':
			if nonHost < 0 {
				nonHost = j
			}
			hostEnd = j
		case '@':
			atSign, nonHost = j, -1
		}
	}
	auth, start := "", 0
	if atSign >= 0 {
		var ok bool
		if auth, ok = decodeURIComponent(rest[:atSign]); !ok {
			return "", false // url.parse throws
		}
		start = atSign + 1
	}
	var host string
	if nonHost < 0 {
		host, rest = rest[start:], ""
	} else {
		host, rest = rest[start:nonHost], rest[nonHost:]
	}
	port := ""
	if c := strings.LastIndexByte(host, ':'); c >= 0 && allDigits(host[c+1:]) {
		port, host = host[c+1:], host[:c]
	}
	hostname := host
	if !(strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]")) {
		parts := strings.Split(host, ".")
		for pi, part := range parts {
			n := 0
			for n < len(part) && n < 63 && (isAlnum(part[n]) || part[n] == '+' || part[n] == '_' || part[n] == '-') {
				n++
			}
			if n == len(part) {
				continue
			}
			if part[n] >= 0x80 {
				return "", false // url.parse would punycode it
			}
			notHost := append([]string{part[n:]}, parts[pi+1:]...)
			hostname = strings.Join(append(parts[:pi:pi], part[:n]), ".")
			rest = "/" + strings.Join(notHost, ".") + rest
			break
		}
	}
	if len(hostname) > 255 {
		hostname = ""
	}
	hostname = strings.ToLower(hostname)
	if port != "" {
		hostname += ":" + port
	}
	if hostname == "" {
		return "", false
	}
	if strings.HasPrefix(hostname, "[") && rest != "" && rest[0] != '/' {
		rest = "/" + rest
	}
	var b strings.Builder
	for j := 0; j < len(rest); j++ {
		switch c := rest[j]; c {
		case ' ', '"', '\'', '<', '>', '`', '\t', '\r', '\n', '{', '}', '|', '\\', '^':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	pathname, hash, _ := strings.Cut(b.String(), "#")
	if strings.Contains(b.String(), "#") {
		hash = "#" + hash
	}
	search := ""
	if q := strings.IndexByte(pathname, '?'); q >= 0 {
		pathname, search = pathname[:q], pathname[q:]
	}
	if slashedProtocols[lowerProto] && pathname == "" {
		pathname = "/"
	}
	if auth != "" {
		auth = encodeAuth(auth) + "@"
	}
	sep := ""
	if slashes || slashedProtocols[lowerProto] {
		sep = "//"
		if pathname != "" && pathname[0] != '/' {
			pathname = "/" + pathname
		}
	}
	return lowerProto + sep + auth + hostname + pathname + search + hash, true
}

// legacyHostPattern is url.parse's /^\/\/[^@/]+@[^@/]+/.
func legacyHostPattern(s string) bool {
	s = s[2:]
	at := strings.IndexAny(s, "@/")
	return at > 0 && s[at] == '@' && at+1 < len(s) && s[at+1] != '@' && s[at+1] != '/'
}

func decodeURIComponent(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
		b = append(b, byte(n))
		i += 2
	}
	if !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

// encodeAuth is how url.format escapes user information:
// encodeURIComponent, but keeping ':'.
func encodeAuth(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || strings.IndexByte("-_.!~*'():", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var specialSchemes = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21", "file": ""}

// hostPath returns the host (with a non-default port) and path of a URL as
// WHATWG's URL parser, which npm uses to match credentials, gives them.
// It handles the URLs registries use and refuses, rather than guesses,
// those whose hosts need IDNA or IPv4 number normalization.
func hostPath(raw string) (host, path string, ok bool) {
	s := strings.TrimFunc(raw, func(r rune) bool { return r <= ' ' })
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || !isAlpha(s[0]) {
		return "", "", false
	}
	scheme := strings.ToLower(s[:colon])
	for i := 0; i < len(scheme); i++ {
		if !(isAlnum(scheme[i]) || scheme[i] == '+' || scheme[i] == '-' || scheme[i] == '.') {
			return "", "", false
		}
	}
	defPort, special := specialSchemes[scheme]
	if !special || scheme == "file" {
		return "", "", false
	}
	rest := s[colon+1:]
	if q := strings.IndexAny(rest, "?#"); q >= 0 {
		rest = rest[:q]
	}
	rest = strings.ReplaceAll(rest, `\`, "/")
	rest = strings.TrimLeft(rest, "/")
	authority, p, _ := strings.Cut(rest, "/")
	p = "/" + p
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	h, port := authority, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 || end+1 < len(h) && h[end+1] != ':' {
			return "", "", false
		}
		ip := net.ParseIP(h[1:end])
		if ip == nil || strings.Contains(h, ".") {
			return "", "", false // IPv4-mapped forms serialize differently
		}
		h, port = "["+ip.String()+"]", strings.TrimPrefix(h[end+1:], ":")
	} else if c := strings.IndexByte(h, ':'); c >= 0 {
		h, port = h[:c], h[c+1:]
	}
	if port != "" {
		if !allDigits(port) {
			return "", "", false
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return "", "", false
		}
		port = strconv.FormatUint(n, 10)
	}
	if h == "" || !plainHost(h) {
		return "", "", false
	}
	host = strings.ToLower(h)
	if port != "" && port != defPort {
		host += ":" + port
	}
	return host, normalizePath(p), true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// plainHost accepts ASCII DNS names and bracketed IPv6, and refuses
// what WHATWG would rewrite: percent-escapes, non-ASCII (IDNA) and
// all-numeric last labels (IPv4 number forms other than dotted decimal).
func plainHost(h string) bool {
	if strings.HasPrefix(h, "[") {
		return true // checked by net.ParseIP
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(isAlnum(c) || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if c := last[0]; c >= '0' && c <= '9' {
		if len(labels) != 4 {
			return false
		}
		for _, l := range labels {
			n, err := strconv.ParseUint(l, 10, 8)
			if err != nil || (len(l) > 1 && l[0] == '0') || n > 255 {
				return false
			}
		}
	}
	return true
}

// normalizePath resolves dot segments and percent-encodes the characters
// WHATWG encodes in a path.
func normalizePath(p string) string {
	segs := strings.Split(p[1:], "/")
	var out []string
	for i, s := range segs {
		last := i == len(segs)-1
		switch strings.ToLower(s) {
		case ".", "%2e":
			if last {
				out = append(out, "")
			}
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	var b strings.Builder
	for _, c := range []byte("/" + strings.Join(out, "/")) {
		if c <= 0x20 || c >= 0x7f || strings.IndexByte("\"<>`{}", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// nerfDart is @npmcli/config's nerf-dart: "//host[:port]/path/" with the
// last path segment dropped, the key prefix credentials are stored under.
func nerfDart(raw string) (string, bool) {
	host, p, ok := hostPath(raw)
	if !ok {
		return "", false
	}
	return "//" + host + p[:strings.LastIndexByte(p, '/')+1], true
}

// redactURL removes user information from a URL for messages.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authority, tail, _ := strings.Cut(rest, "/")
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return raw
	}
	out := scheme + "://***@" + authority[at+1:]
	if len(rest) > len(authority) {
		out += "/" + tail
	}
	return out
}

// whatwgValid reports whether WHATWG's URL parser (new URL) accepts s,
// which npm requires of the registry setting when it validates config. It
// follows the parser for special schemes (http, https, ws, wss, ftp) and
// accepts any other scheme, which the parser treats leniently.
func whatwgValid(s string) bool {
	if _, _, ok := hostPath(s); ok {
		return true
	}
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || !isAlpha(s[0]) {
		return false
	}
	for i := 0; i < colon; i++ {
		if !(isAlnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.') {
			return false
		}
	}
	scheme := strings.ToLower(s[:colon])
	if scheme == "file" {
		return true
	}
	if _, special := specialSchemes[scheme]; !special {
		return opaqueAuthorityValid(s[colon+1:])
	}
	rest := strings.TrimLeft(strings.ReplaceAll(s[colon+1:], `\`, "/"), "/")
	authority := rest
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		authority = rest[:end]
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || net.ParseIP(host[1:end]) == nil || strings.Contains(host[1:end], "%") {
			return false
		}
		host, port = host[:end+1], host[end+1:]
		if port != "" && port[0] != ':' {
			return false
		}
		port = strings.TrimPrefix(port, ":")
	} else {
		if c := strings.IndexByte(host, ':'); c >= 0 {
			host, port = host[:c], host[c+1:]
		}
		decoded, ok := percentDecode(host)
		if !ok {
			return false
		}
		host = decoded
		if host == "" || strings.ContainsAny(host, "\x00\t\n\r #/:<>?@[\\]^|%\x7f") {
			return false
		}
		for i := 0; i < len(host); i++ {
			if host[i] < 0x20 {
				return false
			}
		}
		if !validIPv4Ending(host) {
			return false
		}
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 64)
		if err != nil || !allDigits(port) || n > 65535 {
			return false
		}
	}
	return true
}

// percentDecode decodes %XX sequences and keeps a % that starts none, as
// WHATWG does; the result must be UTF-8.
func percentDecode(s string) (string, bool) {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b = append(b, byte(n))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b), utf8.Valid(b)
}

// validIPv4Ending applies WHATWG's rule that a host whose last label is a
// number must be a valid IPv4 address (in any of its number forms).
func validIPv4Ending(host string) bool {
	labels := strings.Split(host, ".")
	if len(labels) > 1 && labels[len(labels)-1] == "" {
		labels = labels[:len(labels)-1]
	}
	last := labels[len(labels)-1]
	if !isIPv4Number(last) {
		return true
	}
	if len(labels) > 4 {
		return false
	}
	for i, l := range labels {
		n, ok := ipv4Number(l)
		if !ok {
			return false
		}
		if i < len(labels)-1 && n > 255 {
			return false
		}
		if i == len(labels)-1 && n >= 1<<(8*(5-len(labels))) {
			return false
		}
	}
	return true
}

func isIPv4Number(l string) bool {
	if l == "" {
		return false
	}
	if allDigits(l) {
		return true
	}
	_, ok := ipv4Number(l)
	return ok
}

func ipv4Number(l string) (uint64, bool) {
	base := 10
	switch {
	case len(l) >= 2 && (l[:2] == "0x" || l[:2] == "0X"):
		l, base = l[2:], 16
	case len(l) > 1 && l[0] == '0':
		l, base = l[1:], 8
	}
	if l == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(l, base, 64)
	return n, err == nil
}

// opaqueAuthorityValid checks the authority of a non-special URL, if it
// has one ("scheme://host:port/..."): an opaque host and a numeric port.
func opaqueAuthorityValid(rest string) bool {
	if !strings.HasPrefix(rest, "//") {
		return true
	}
	authority := rest[2:]
	if end := strings.IndexAny(authority, "/?#"); end >= 0 {
		authority = authority[:end]
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || net.ParseIP(host[1:end]) == nil || strings.Contains(host[1:end], "%") {
			return false
		}
		host, port = "", host[end+1:]
		if port != "" && port[0] != ':' {
			return false
		}
		port = strings.TrimPrefix(port, ":")
	} else if c := strings.IndexByte(host, ':'); c >= 0 {
		host, port = host[:c], host[c+1:]
	}
	if strings.ContainsAny(host, "\x00\t\n\r #/:<>?@[\\]^|") {
		return false
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 64)
		if err != nil || !allDigits(port) || n > 65535 {
			return false
		}
	}
	return true
}
