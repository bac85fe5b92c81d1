package tardiff

import (
	"bytes"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// The scanners read code as text, not as JavaScript: they look for what
// attacks have used, and count it, so that a change is judged by what it
// adds. A determined author can hide from any pattern; the point is that
// the usual tricks are seen, and that hiding takes tricks that are
// themselves signals (obfuscation, encoded data, eval).

// feature is one thing a scanner counts in a file.
type feature struct {
	count int
	line  int // first occurrence, from 1
}

// jsFeatures is what scanJS finds in a file.
type jsFeatures struct {
	childProcess, network, env, credential feature
	dynamicCode, hexIdents, charCodes      feature
	base64                                 feature
	longestLine                            int
	urls, ips                              map[string]int // value: first line
}

var (
	reChildProcess = regexp.MustCompile(`\bchild_process\b|\bspawnSync\s*\(|\bexecSync\s*\(|\bexecFile(?:Sync)?\s*\(|process\.binding\s*\(\s*['"]spawn_sync`)
	reNetwork      = regexp.MustCompile(`(?:require\s*\(\s*|from\s*|import\s*\(\s*|import\s+)['"](?:node:)?(?:https?|http2|net|dgram|tls|dns|axios|node-fetch|got|request|undici|ws|socket\.io-client)['"]|\bfetch\s*\(|\bXMLHttpRequest\b|\bnew\s+WebSocket\b|\bnavigator\.sendBeacon\b`)
	reEnv          = regexp.MustCompile(`\bprocess\s*\.\s*env\b|\bprocess\s*\[\s*['"]env['"]\s*\]`)
	reCredential   = regexp.MustCompile(`\.npmrc\b|\.yarnrc|\.ssh[/\\'"]|\bid_(?:rsa|ed25519|ecdsa)\b|\.aws[/\\'"]|\.git-credentials|\.netrc\b|\.docker[/\\]config\.json|\.kube[/\\]config|\.config[/\\]gh\b|\.pypirc|\.gnupg|\bNPM_TOKEN\b|ACTIONS_ID_TOKEN_REQUEST_(?:TOKEN|URL)`)
	reDynamicCode  = regexp.MustCompile(`(?:^|[^.\w$])(eval\s*\()|(\bnew\s+Function\s*\()|(?:^|[^.\w$])(Function\s*\(\s*['"\x60])`)
	reHexIdent     = regexp.MustCompile(`\b_0x[0-9a-fA-F]{3,}\b`)
	reCharCode     = regexp.MustCompile(`String\s*\.\s*fromCharCode\s*\(`)
	reURL          = regexp.MustCompile(`\b(?:https?|wss?|ftp)://[A-Za-z0-9.\-_~%]+(?::[0-9]+)?(?:/[^\s'"\x60<>()\[\]{}\\]*)?`)
	reIPv4         = regexp.MustCompile(`(?:^|[^0-9A-Za-z.\-_])((?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3})(?:[^0-9.]|\.[^0-9]|$)`)
	reSourceMap    = regexp.MustCompile(`^\s*//[#@]\s*sourceMappingURL=`)
)

// Thresholds below which a pattern is ordinary code.
const (
	minHexIdents   = 10   // obfuscator.io renames every identifier
	minCharCodeArg = 8    // String.fromCharCode(104, 116, 116, 112, …)
	minifiedLine   = 1000 // longest line of a minified file, in bytes
)

// lines maps byte offsets to line numbers.
type lines []int

func newLines(data []byte) lines {
	l := lines{0}
	for i, c := range data {
		if c == '\n' {
			l = append(l, i+1)
		}
	}
	return l
}

func (l lines) at(off int) int {
	return sort.Search(len(l), func(i int) bool { return l[i] > off })
}

// count counts re's matches. A match's position is its first group that
// matched, when re has groups: the context a pattern needs before a
// word is not part of it.
func count(re *regexp.Regexp, data []byte, l lines) feature {
	locs := re.FindAllSubmatchIndex(data, -1)
	if len(locs) == 0 {
		return feature{}
	}
	at := locs[0][0]
	for g := 2; g+1 < len(locs[0]); g += 2 {
		if locs[0][g] >= 0 {
			at = locs[0][g]
			break
		}
	}
	return feature{count: len(locs), line: l.at(at)}
}

func scanJS(data []byte) jsFeatures {
	l := newLines(data)
	f := jsFeatures{
		childProcess: count(reChildProcess, data, l),
		network:      count(reNetwork, data, l),
		env:          count(reEnv, data, l),
		credential:   count(reCredential, data, l),
		dynamicCode:  count(reDynamicCode, data, l),
		urls:         map[string]int{},
		ips:          map[string]int{},
	}
	if h := count(reHexIdent, data, l); h.count >= minHexIdents {
		f.hexIdents = h
	}
	for _, loc := range reCharCode.FindAllIndex(data, -1) {
		if charCodeArgs(data[loc[1]:]) >= minCharCodeArg {
			if f.charCodes.count == 0 {
				f.charCodes.line = l.at(loc[0])
			}
			f.charCodes.count++
		}
	}
	// Lines: the longest, and base64 runs outside source-map comments
	// (bundlers inline maps as base64; they are not code).
	for i := range l {
		end := len(data)
		if i+1 < len(l) {
			end = l[i+1] - 1
		}
		line := data[l[i]:end]
		if reSourceMap.Match(line) {
			continue
		}
		f.longestLine = max(f.longestLine, len(line))
		if n := base64Runs(line); n > 0 {
			if f.base64.count == 0 {
				f.base64.line = i + 1
			}
			f.base64.count += n
		}
	}
	for _, loc := range reURL.FindAllIndex(data, -1) {
		u := strings.TrimRight(string(data[loc[0]:loc[1]]), ".,;:")
		if _, ok := f.urls[u]; !ok {
			f.urls[u] = l.at(loc[0])
		}
	}
	for _, m := range reIPv4.FindAllSubmatchIndex(data, -1) {
		ip := string(data[m[2]:m[3]])
		if ordinaryIP(ip) {
			continue
		}
		if _, ok := f.ips[ip]; !ok {
			f.ips[ip] = l.at(m[2])
		}
	}
	return f
}

// minBase64 is the shortest run of base64 letters counted as encoded
// data: longer than any identifier or hash a program spells out.
const minBase64 = 1024

// base64Runs counts the runs of at least minBase64 base64 letters.
func base64Runs(line []byte) int {
	n, run := 0, 0
	for _, c := range line {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' {
			run++
			continue
		}
		if run >= minBase64 {
			n++
		}
		run = 0
	}
	if run >= minBase64 {
		n++
	}
	return n
}

// charCodeArgs counts the numeric arguments at the start of a call's
// argument list: "104, 0x74, 116)" is 3.
func charCodeArgs(rest []byte) int {
	n := 0
	for i := 0; i < len(rest) && i < 1<<16; {
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == '\n' || rest[i] == '\r') {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == 'x' || rest[j] == 'X' || rest[j] >= 'a' && rest[j] <= 'f' || rest[j] >= 'A' && rest[j] <= 'F') {
			j++
		}
		if j == i || rest[i] < '0' || rest[i] > '9' {
			return n
		}
		n++
		for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t' || rest[j] == '\n' || rest[j] == '\r') {
			j++
		}
		if j >= len(rest) || rest[j] != ',' {
			return n
		}
		i = j + 1
	}
	return n
}

// ordinaryIP is an address that points nowhere outside: unspecified,
// loopback, broadcast and private ranges. Cloud metadata (169.254.x) is
// not ordinary: code that asks it for credentials is what an attack does.
func ordinaryIP(ip string) bool {
	switch {
	case ip == "0.0.0.0", ip == "255.255.255.255", ip == "255.255.255.0",
		strings.HasPrefix(ip, "127."), strings.HasPrefix(ip, "10."),
		strings.HasPrefix(ip, "192.168."), strings.HasPrefix(ip, "0."):
		return true
	case strings.HasPrefix(ip, "172."):
		var second int
		for _, c := range strings.SplitN(ip, ".", 3)[1] {
			second = second*10 + int(c-'0')
		}
		return second >= 16 && second <= 31
	}
	return false
}

// isJS reports whether a file is code Node.js or a bundler would run:
// by extension (type declarations excepted), or a node shebang.
func isJS(p string, data []byte) bool {
	base := path.Base(p)
	for _, dts := range []string{".d.ts", ".d.mts", ".d.cts"} {
		if strings.HasSuffix(base, dts) {
			return false
		}
	}
	switch path.Ext(base) {
	case ".js", ".cjs", ".mjs", ".jsx", ".ts", ".tsx", ".mts", ".cts":
		return true
	}
	if bytes.HasPrefix(data, []byte("#!")) {
		first, _, _ := bytes.Cut(data, []byte("\n"))
		return bytes.Contains(first, []byte("node"))
	}
	return false
}

// isText is git's test, with UTF-8 added: no NUL in the first 8000
// bytes, and valid UTF-8 (a file cut short may end inside a character).
func isText(data []byte) bool {
	head := data[:min(len(data), 8000)]
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	for i := 0; i < 4 && !utf8.Valid(head) && len(head) > 0; i++ {
		head = head[:len(head)-1]
	}
	return utf8.Valid(head)
}

// binaryKind names native code by its magic number, or by .node, or ""
// for anything else; "wasm" for WebAssembly.
func binaryKind(p string, data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x7fELF")):
		return "ELF"
	case bytes.HasPrefix(data, []byte("\x00asm")):
		return "wasm"
	case isPE(data):
		return "PE"
	}
	if len(data) >= 4 {
		switch m := uint32(data[0])<<24 | uint32(data[1])<<16 | uint32(data[2])<<8 | uint32(data[3]); m {
		case 0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe:
			return "Mach-O"
		case 0xcafebabe:
			// A fat Mach-O counts its architectures; a Java class file
			// has its version there, far above any architecture count.
			if len(data) >= 8 && uint32(data[4])<<24|uint32(data[5])<<16|uint32(data[6])<<8|uint32(data[7]) < 32 {
				return "Mach-O"
			}
		}
	}
	switch path.Ext(p) {
	case ".node":
		return "Node.js addon"
	case ".wasm":
		return "wasm"
	}
	return ""
}

// isPE checks the MZ header and the PE signature it points at.
func isPE(data []byte) bool {
	if len(data) < 0x40 || data[0] != 'M' || data[1] != 'Z' {
		return false
	}
	off := int(data[0x3c]) | int(data[0x3d])<<8 | int(data[0x3e])<<16 | int(data[0x3f])<<24
	if off < 0x40 || off+4 > len(data) {
		// The signature is beyond the head that was kept: trust MZ and a
		// plausible offset.
		return off >= 0x40 && off < 1<<20 && len(data) >= HeadSize
	}
	return string(data[off:off+4]) == "PE\x00\x00"
}

// unicodeFeatures counts the characters that change how text reads
// without being seen.
type unicodeFeatures struct {
	// bidi are the embedding, override and isolate controls of
	// "Trojan Source"; hidden are tag characters, variation selectors
	// of the supplement and Hangul fillers, which can carry a whole
	// program invisibly; zeroWidth are the zero-width spaces, joiners
	// outside emoji, and invisible operators.
	bidi, hidden, zeroWidth feature
}

func scanUnicode(data []byte) unicodeFeatures {
	var u unicodeFeatures
	line := 1
	add := func(f *feature) {
		if f.count == 0 {
			f.line = line
		}
		f.count++
	}
	for i := 0; i < len(data); {
		c := data[i]
		if c < 0x80 {
			if c == '\n' {
				line++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			add(&u.bidi)
		case r >= 0xe0000 && r <= 0xe007f, r >= 0xe0100 && r <= 0xe01ef,
			r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0:
			add(&u.hidden)
		case r == 0x200b, r == 0x200c, r == 0x2060, r >= 0x2061 && r <= 0x2064, r == 0x180e,
			r == 0xfeff && i > 0:
			add(&u.zeroWidth)
		}
		i += size
	}
	return u
}
