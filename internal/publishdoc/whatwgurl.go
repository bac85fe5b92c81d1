package publishdoc

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// webURL is a URL parsed the way Node's URL class (the WHATWG URL
// Standard) parses it. hosted-git-info reads repository and dependency
// URLs with it and normalize-package-data asks URL.canParse, so matching
// npm means matching its parser, not RFC 3986.
type webURL struct {
	scheme             string
	username, password string
	host               *string // nil: no host
	port               int     // -1: none
	path               []string
	opaquePath         *string
	query, fragment    *string
}

var specialPorts = map[string]int{"ftp": 21, "file": -1, "http": 80, "https": 443, "ws": 80, "wss": 443}

func isSpecialScheme(s string) bool { _, ok := specialPorts[s]; return ok }

func (u *webURL) special() bool { return isSpecialScheme(u.scheme) }

func (u *webURL) protocol() string { return u.scheme + ":" }

func (u *webURL) hostname() string {
	if u.host == nil {
		return ""
	}
	return *u.host
}

func (u *webURL) pathname() string {
	if u.opaquePath != nil {
		return *u.opaquePath
	}
	var b strings.Builder
	for _, seg := range u.path {
		b.WriteByte('/')
		b.WriteString(seg)
	}
	return b.String()
}

func (u *webURL) hash() string {
	if u.fragment == nil || *u.fragment == "" {
		return ""
	}
	return "#" + *u.fragment
}

func (u *webURL) href() string {
	var b strings.Builder
	b.WriteString(u.scheme)
	b.WriteByte(':')
	if u.host != nil {
		b.WriteString("//")
		if u.username != "" || u.password != "" {
			b.WriteString(u.username)
			if u.password != "" {
				b.WriteByte(':')
				b.WriteString(u.password)
			}
			b.WriteByte('@')
		}
		b.WriteString(*u.host)
		if u.port >= 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(u.port))
		}
	} else if u.opaquePath == nil && len(u.path) > 1 && u.path[0] == "" {
		b.WriteString("/.")
	}
	b.WriteString(u.pathname())
	if u.query != nil {
		b.WriteByte('?')
		b.WriteString(*u.query)
	}
	if u.fragment != nil {
		b.WriteByte('#')
		b.WriteString(*u.fragment)
	}
	return b.String()
}

// canParseURL is URL.canParse(String(v)).
func canParseURL(s string) bool {
	_, ok := parseWebURL(s)
	return ok
}

type urlState int

const (
	stSchemeStart urlState = iota
	stScheme
	stNoScheme
	stSpecialAuthoritySlashes
	stSpecialAuthorityIgnoreSlashes
	stPathOrAuthority
	stAuthority
	stHost
	stPort
	stFile
	stFileSlash
	stFileHost
	stPathStart
	stPath
	stOpaquePath
	stQuery
	stFragment
)

const eof = -1

// parseWebURL runs the basic URL parser with no base URL.
func parseWebURL(input string) (*webURL, bool) {
	input = usvString(input)
	input = strings.TrimFunc(input, func(r rune) bool { return r <= 0x20 })
	input = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, input)
	cps := []rune(input)
	at := func(i int) rune {
		if i >= 0 && i < len(cps) {
			return cps[i]
		}
		return eof
	}
	remainingStarts := func(p int, s string) bool {
		rs := []rune(s)
		for k, r := range rs {
			if at(p+1+k) != r {
				return false
			}
		}
		return true
	}

	u := &webURL{port: -1}
	state := stSchemeStart
	var buf []rune
	atSignSeen, insideBrackets, passwordTokenSeen := false, false, false

	for p := 0; p <= len(cps); p++ {
		c := at(p)
		switch state {
		case stSchemeStart:
			if isASCIIAlpha(c) {
				buf = append(buf, unicode.ToLower(c))
				state = stScheme
			} else {
				state = stNoScheme
				p--
			}
		case stScheme:
			switch {
			case isASCIIAlnum(c) || c == '+' || c == '-' || c == '.':
				buf = append(buf, unicode.ToLower(c))
			case c == ':':
				u.scheme = string(buf)
				buf = buf[:0]
				switch {
				case u.scheme == "file":
					state = stFile
				case u.special():
					state = stSpecialAuthoritySlashes
				case remainingStarts(p, "/"):
					state = stPathOrAuthority
					p++
				default:
					empty := ""
					u.opaquePath = &empty
					state = stOpaquePath
				}
			default:
				buf = buf[:0]
				state = stNoScheme
				p = -1
			}
		case stNoScheme:
			return nil, false // no base URL
		case stSpecialAuthoritySlashes:
			if c == '/' && remainingStarts(p, "/") {
				state = stSpecialAuthorityIgnoreSlashes
				p++
			} else {
				state = stSpecialAuthorityIgnoreSlashes
				p--
			}
		case stSpecialAuthorityIgnoreSlashes:
			if c != '/' && c != '\\' {
				state = stAuthority
				p--
			}
		case stPathOrAuthority:
			if c == '/' {
				state = stAuthority
			} else {
				state = stPath
				p--
			}
		case stAuthority:
			switch {
			case c == '@':
				if atSignSeen {
					buf = append([]rune("%40"), buf...)
				}
				atSignSeen = true
				for _, r := range buf {
					if r == ':' && !passwordTokenSeen {
						passwordTokenSeen = true
						continue
					}
					enc := percentEncodeRune(r, inUserinfoSet)
					if passwordTokenSeen {
						u.password += enc
					} else {
						u.username += enc
					}
				}
				buf = buf[:0]
			case c == eof || c == '/' || c == '?' || c == '#' || (u.special() && c == '\\'):
				if atSignSeen && len(buf) == 0 {
					return nil, false
				}
				p -= len(buf) + 1
				buf = buf[:0]
				state = stHost
			default:
				buf = append(buf, c)
			}
		case stHost:
			switch {
			case c == ':' && !insideBrackets:
				if len(buf) == 0 {
					return nil, false
				}
				h, ok := parseHost(string(buf), !u.special())
				if !ok {
					return nil, false
				}
				u.host = &h
				buf = buf[:0]
				state = stPort
			case c == eof || c == '/' || c == '?' || c == '#' || (u.special() && c == '\\'):
				p--
				if u.special() && len(buf) == 0 {
					return nil, false
				}
				h, ok := parseHost(string(buf), !u.special())
				if !ok {
					return nil, false
				}
				u.host = &h
				buf = buf[:0]
				state = stPathStart
			default:
				if c == '[' {
					insideBrackets = true
				}
				if c == ']' {
					insideBrackets = false
				}
				buf = append(buf, c)
			}
		case stPort:
			switch {
			case c >= '0' && c <= '9':
				buf = append(buf, c)
			case c == eof || c == '/' || c == '?' || c == '#' || (u.special() && c == '\\'):
				if len(buf) > 0 {
					digits := strings.TrimLeft(string(buf), "0")
					if len(digits) > 5 {
						return nil, false
					}
					port := 0
					if digits != "" {
						port, _ = strconv.Atoi(digits)
					}
					if port > 65535 {
						return nil, false
					}
					if def, ok := specialPorts[u.scheme]; ok && def == port {
						u.port = -1
					} else {
						u.port = port
					}
					buf = buf[:0]
				}
				state = stPathStart
				p--
			default:
				return nil, false
			}
		case stFile:
			u.scheme = "file"
			empty := ""
			u.host = &empty
			if c == '/' || c == '\\' {
				state = stFileSlash
			} else {
				state = stPath
				p--
			}
		case stFileSlash:
			if c == '/' || c == '\\' {
				state = stFileHost
			} else {
				state = stPath
				p--
			}
		case stFileHost:
			if c == eof || c == '/' || c == '\\' || c == '?' || c == '#' {
				p--
				switch {
				case isWindowsDriveLetter(buf, false):
					state = stPath
				case len(buf) == 0:
					empty := ""
					u.host = &empty
					state = stPathStart
				default:
					h, ok := parseHost(string(buf), false)
					if !ok {
						return nil, false
					}
					if h == "localhost" {
						h = ""
					}
					u.host = &h
					buf = buf[:0]
					state = stPathStart
				}
			} else {
				buf = append(buf, c)
			}
		case stPathStart:
			switch {
			case u.special():
				state = stPath
				if c != '/' && c != '\\' {
					p--
				}
			case c == '?':
				empty := ""
				u.query = &empty
				state = stQuery
			case c == '#':
				empty := ""
				u.fragment = &empty
				state = stFragment
			case c != eof:
				state = stPath
				if c != '/' {
					p--
				}
			}
		case stPath:
			slash := c == '/' || (u.special() && c == '\\')
			if c == eof || slash || c == '?' || c == '#' {
				seg := string(buf)
				switch {
				case isDoubleDot(seg):
					u.shortenPath()
					if !slash {
						u.path = append(u.path, "")
					}
				case isSingleDot(seg):
					if !slash {
						u.path = append(u.path, "")
					}
				default:
					if u.scheme == "file" && len(u.path) == 0 && isWindowsDriveLetter([]rune(seg), false) {
						r := []rune(seg)
						r[1] = ':'
						seg = string(r)
					}
					u.path = append(u.path, seg)
				}
				buf = buf[:0]
				if c == '?' {
					empty := ""
					u.query = &empty
					state = stQuery
				}
				if c == '#' {
					empty := ""
					u.fragment = &empty
					state = stFragment
				}
			} else {
				buf = append(buf, []rune(percentEncodeRune(c, inPathSet))...)
			}
		case stOpaquePath:
			switch {
			case c == '?':
				empty := ""
				u.query = &empty
				state = stQuery
			case c == '#':
				empty := ""
				u.fragment = &empty
				state = stFragment
			case c != eof:
				*u.opaquePath += percentEncodeRune(c, inC0ControlSet)
			}
		case stQuery:
			if c == '#' || c == eof {
				set := inQuerySet
				if u.special() {
					set = inSpecialQuerySet
				}
				var b strings.Builder
				for _, r := range buf {
					b.WriteString(percentEncodeRune(r, set))
				}
				*u.query += b.String()
				buf = buf[:0]
				if c == '#' {
					empty := ""
					u.fragment = &empty
					state = stFragment
				}
			} else {
				buf = append(buf, c)
			}
		case stFragment:
			if c != eof {
				*u.fragment += percentEncodeRune(c, inFragmentSet)
			}
		}
	}
	return u, true
}

func (u *webURL) shortenPath() {
	if u.scheme == "file" && len(u.path) == 1 && isWindowsDriveLetter([]rune(u.path[0]), true) {
		return
	}
	if len(u.path) > 0 {
		u.path = u.path[:len(u.path)-1]
	}
}

func isASCIIAlpha(c rune) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isASCIIAlnum(c rune) bool { return isASCIIAlpha(c) || c >= '0' && c <= '9' }

func isWindowsDriveLetter(r []rune, normalized bool) bool {
	if len(r) != 2 || !isASCIIAlpha(r[0]) {
		return false
	}
	return r[1] == ':' || (!normalized && r[1] == '|')
}

func isSingleDot(s string) bool { return s == "." || strings.EqualFold(s, "%2e") }

func isDoubleDot(s string) bool {
	switch strings.ToLower(s) {
	case "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}

func inC0ControlSet(r rune) bool { return r < 0x20 || r > 0x7e }

func inFragmentSet(r rune) bool {
	return inC0ControlSet(r) || r == ' ' || r == '"' || r == '<' || r == '>' || r == '`'
}

func inQuerySet(r rune) bool {
	return inC0ControlSet(r) || r == ' ' || r == '"' || r == '#' || r == '<' || r == '>'
}

func inSpecialQuerySet(r rune) bool { return inQuerySet(r) || r == '\'' }

// inPathSet is the path percent-encode set as Node 20 applies it (without
// the later addition of "^").
func inPathSet(r rune) bool {
	return inQuerySet(r) || r == '?' || r == '`' || r == '{' || r == '}'
}

func inUserinfoSet(r rune) bool {
	return inPathSet(r) || r == '/' || r == ':' || r == ';' || r == '=' || r == '@' ||
		(r >= '[' && r <= '^') || r == '|'
}

func percentEncodeRune(r rune, set func(rune) bool) string {
	if !set(r) {
		return string(r)
	}
	var b strings.Builder
	var tmp [4]byte
	n := utf8.EncodeRune(tmp[:], r)
	for _, c := range tmp[:n] {
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&0xf])
	}
	return b.String()
}

func percentDecode(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && hexVal(s[i+1]) >= 0 && hexVal(s[i+2]) >= 0 {
			b = append(b, byte(hexVal(s[i+1])<<4|hexVal(s[i+2])))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return b
}

func isForbiddenHost(r rune) bool {
	switch r {
	case 0, '\t', '\n', '\r', ' ', '#', '/', ':', '<', '>', '?', '@', '[', '\\', ']', '^', '|':
		return true
	}
	return false
}

func isForbiddenDomain(r rune) bool {
	return isForbiddenHost(r) || r <= 0x1f || r == '%' || r == 0x7f
}

// parseHost is the host parser; the result is the serialized host.
func parseHost(input string, opaque bool) (string, bool) {
	if strings.HasPrefix(input, "[") {
		if !strings.HasSuffix(input, "]") || len(input) < 2 {
			return "", false
		}
		addr, ok := parseIPv6(input[1 : len(input)-1])
		if !ok {
			return "", false
		}
		return "[" + serializeIPv6(addr) + "]", true
	}
	if opaque {
		for _, r := range input {
			if isForbiddenHost(r) {
				return "", false
			}
		}
		var b strings.Builder
		for _, r := range input {
			b.WriteString(percentEncodeRune(r, inC0ControlSet))
		}
		return b.String(), true
	}
	domain := decodeUTF8(percentDecode(input))
	ascii, ok := domainToASCII(domain)
	if !ok || ascii == "" {
		return "", false
	}
	for _, r := range ascii {
		if isForbiddenDomain(r) {
			return "", false
		}
	}
	if endsInNumber(ascii) {
		return parseIPv4(ascii)
	}
	return ascii, true
}

// domainToASCII approximates UTS #46 ToASCII as URL parsing uses it:
// ASCII domains are lower-cased; others get a small part of the mapping
// (case folding, full-width forms, ideographic dots, ignored code points)
// and Punycode. Full IDNA mapping and validation are not implemented.
func domainToASCII(domain string) (string, bool) {
	mapped := strings.Map(func(r rune) rune {
		switch {
		case r == 0x3002 || r == 0xff0e || r == 0xff61:
			return '.'
		case r >= 0xff01 && r <= 0xff5e:
			r -= 0xfee0
		case r == 0xad || r == 0x200b || r == 0x2060 || r == 0xfeff || (r >= 0xfe00 && r <= 0xfe0f):
			return -1
		}
		return unicode.ToLower(r)
	}, domain)
	labels := strings.Split(mapped, ".")
	for i, l := range labels {
		ascii := true
		for j := 0; j < len(l); j++ {
			if l[j] >= 0x80 {
				ascii = false
				break
			}
		}
		if ascii {
			if strings.HasPrefix(l, "xn--") {
				if _, ok := punyDecode(l[4:]); !ok {
					return "", false
				}
			}
			continue
		}
		enc, ok := punyEncode(l)
		if !ok {
			return "", false
		}
		labels[i] = "xn--" + enc
	}
	return strings.Join(labels, "."), true
}

func endsInNumber(s string) bool {
	parts := strings.Split(s, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" {
		allDigits := true
		for i := 0; i < len(last); i++ {
			if last[i] < '0' || last[i] > '9' {
				allDigits = false
				break
			}
		}
		if allDigits {
			return true
		}
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4Number returns the value (capped above 2^32) of one part.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	radix := uint64(10)
	if len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X") {
		radix, s = 16, s[2:]
	} else if len(s) >= 2 && s[0] == '0' {
		radix, s = 8, s[1:]
	}
	if s == "" {
		return 0, true
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := uint64(hexVal(s[i]))
		if hexVal(s[i]) < 0 || d >= radix {
			return 0, false
		}
		if n <= 1<<40 {
			n = n*radix + d
		}
	}
	return n, true
}

func parseIPv4(s string) (string, bool) {
	parts := strings.Split(s, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return "", false
	}
	nums := make([]uint64, len(parts))
	for i, part := range parts {
		n, ok := parseIPv4Number(part)
		if !ok {
			return "", false
		}
		nums[i] = n
	}
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return "", false
		}
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return "", false
	}
	addr := last
	for i, n := range nums[:len(nums)-1] {
		addr += n << (8 * (3 - i))
	}
	return strconv.Itoa(int(addr>>24)) + "." + strconv.Itoa(int(addr>>16&0xff)) + "." +
		strconv.Itoa(int(addr>>8&0xff)) + "." + strconv.Itoa(int(addr&0xff)), true
}

func parseIPv6(s string) ([8]uint16, bool) {
	var addr [8]uint16
	in := []rune(s)
	at := func(i int) rune {
		if i < len(in) {
			return in[i]
		}
		return eof
	}
	piece, compress, p := 0, -1, 0
	if at(p) == ':' {
		if at(p+1) != ':' {
			return addr, false
		}
		p += 2
		piece++
		compress = piece
	}
	for at(p) != eof {
		if piece == 8 {
			return addr, false
		}
		if at(p) == ':' {
			if compress != -1 {
				return addr, false
			}
			p++
			piece++
			compress = piece
			continue
		}
		value, length := 0, 0
		for length < 4 && at(p) != eof && at(p) < 0x80 && hexVal(byte(at(p))) >= 0 {
			value = value*16 + hexVal(byte(at(p)))
			p++
			length++
		}
		if at(p) == '.' {
			if length == 0 {
				return addr, false
			}
			p -= length
			if piece > 6 {
				return addr, false
			}
			numbersSeen := 0
			for at(p) != eof {
				ipv4Piece := -1
				if numbersSeen > 0 {
					if at(p) == '.' && numbersSeen < 4 {
						p++
					} else {
						return addr, false
					}
				}
				if !(at(p) >= '0' && at(p) <= '9') {
					return addr, false
				}
				for at(p) >= '0' && at(p) <= '9' {
					n := int(at(p) - '0')
					switch ipv4Piece {
					case -1:
						ipv4Piece = n
					case 0:
						return addr, false
					default:
						ipv4Piece = ipv4Piece*10 + n
					}
					if ipv4Piece > 255 {
						return addr, false
					}
					p++
				}
				addr[piece] = addr[piece]*0x100 + uint16(ipv4Piece)
				numbersSeen++
				if numbersSeen == 2 || numbersSeen == 4 {
					piece++
				}
			}
			if numbersSeen != 4 {
				return addr, false
			}
			break
		} else if at(p) == ':' {
			p++
			if at(p) == eof {
				return addr, false
			}
		} else if at(p) != eof {
			return addr, false
		}
		addr[piece] = uint16(value)
		piece++
	}
	if compress != -1 {
		swaps := piece - compress
		piece = 7
		for piece != 0 && swaps > 0 {
			addr[piece], addr[compress+swaps-1] = addr[compress+swaps-1], addr[piece]
			piece--
			swaps--
		}
	} else if piece != 8 {
		return addr, false
	}
	return addr, true
}

func serializeIPv6(addr [8]uint16) string {
	// The first longest run of two or more zero pieces is compressed.
	best, bestLen := -1, 1
	for i := 0; i < 8; {
		if addr[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && addr[j] == 0 {
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
		i = j
	}
	var b strings.Builder
	ignore0 := false
	for i := 0; i < 8; i++ {
		if ignore0 && addr[i] == 0 {
			continue
		}
		ignore0 = false
		if i == best {
			if i == 0 {
				b.WriteString("::")
			} else {
				b.WriteString(":")
			}
			ignore0 = true
			continue
		}
		b.WriteString(strconv.FormatUint(uint64(addr[i]), 16))
		if i != 7 {
			b.WriteByte(':')
		}
	}
	return b.String()
}

// Punycode (RFC 3492).
const (
	punyBase        = 36
	punyTMin        = 1
	punyTMax        = 26
	punySkew        = 38
	punyDamp        = 700
	punyInitialBias = 72
	punyInitialN    = 128
)

func punyAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= punyDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((punyBase-punyTMin)*punyTMax)/2 {
		delta /= punyBase - punyTMin
		k += punyBase
	}
	return k + (punyBase-punyTMin+1)*delta/(delta+punySkew)
}

func punyDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func punyEncode(s string) (string, bool) {
	rs := []rune(s)
	var out []byte
	for _, r := range rs {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	h := b
	if b > 0 {
		out = append(out, '-')
	}
	n, delta, bias := punyInitialN, 0, punyInitialBias
	for h < len(rs) {
		m := rune(0x7fffffff)
		for _, r := range rs {
			if int(r) >= n && r < m {
				m = r
			}
		}
		if (int(m)-n)*(h+1) > 1<<30-delta {
			return "", false
		}
		delta += (int(m) - n) * (h + 1)
		n = int(m)
		for _, r := range rs {
			if int(r) < n {
				delta++
			}
			if int(r) == n {
				q := delta
				for k := punyBase; ; k += punyBase {
					t := k - bias
					if t < punyTMin {
						t = punyTMin
					} else if t > punyTMax {
						t = punyTMax
					}
					if q < t {
						break
					}
					out = append(out, punyDigit(t+(q-t)%(punyBase-t)))
					q = (q - t) / (punyBase - t)
				}
				out = append(out, punyDigit(q))
				bias = punyAdapt(delta, h+1, h == b)
				delta = 0
				h++
			}
		}
		delta++
		n++
	}
	return string(out), true
}

func punyDecode(s string) (string, bool) {
	var out []rune
	b := strings.LastIndexByte(s, '-')
	if b > 0 {
		for i := 0; i < b; i++ {
			if s[i] >= 0x80 {
				return "", false
			}
			out = append(out, rune(s[i]))
		}
		b++
	} else {
		b = 0
	}
	n, i, bias := punyInitialN, 0, punyInitialBias
	for pos := b; pos < len(s); {
		oldi, w := i, 1
		for k := punyBase; ; k += punyBase {
			if pos >= len(s) {
				return "", false
			}
			c := s[pos]
			pos++
			var digit int
			switch {
			case c >= '0' && c <= '9':
				digit = int(c-'0') + 26
			case c >= 'a' && c <= 'z':
				digit = int(c - 'a')
			case c >= 'A' && c <= 'Z':
				digit = int(c - 'A')
			default:
				return "", false
			}
			if digit > (1<<30-i)/w {
				return "", false
			}
			i += digit * w
			t := k - bias
			if t < punyTMin {
				t = punyTMin
			} else if t > punyTMax {
				t = punyTMax
			}
			if digit < t {
				break
			}
			w *= punyBase - t
		}
		bias = punyAdapt(i-oldi, len(out)+1, oldi == 0)
		n += i / (len(out) + 1)
		i %= len(out) + 1
		if n > unicode.MaxRune {
			return "", false
		}
		out = append(out[:i], append([]rune{rune(n)}, out[i:]...)...)
		i++
	}
	return string(out), true
}
