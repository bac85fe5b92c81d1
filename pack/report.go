package pack

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/airlockdev/airlock/internal/tarball"
)

var bundledName = regexp.MustCompile(`^node_modules/((?:@[^/]+/)?[^/]+)`)

// fillContents derives the file list, sizes and bundled names from the
// entries written, as npm derives them by listing its own tarball.
func fillContents(rep *Report, entries []tarball.Entry) {
	rep.Files = make([]File, 0, len(entries))
	rep.Bundled = []string{}
	seen := map[string]bool{}
	for _, e := range entries {
		rep.EntryCount++
		rep.UnpackedSize += e.Size
		p := strings.TrimPrefix(e.Path, "package/")
		if strings.HasPrefix(p, "node_modules/") && p != "node_modules/" {
			if m := bundledName.FindStringSubmatch(p); m != nil && !seen[m[1]] {
				seen[m[1]] = true
				rep.Bundled = append(rep.Bundled, m[1])
			}
		}
		rep.Files = append(rep.Files, File{Path: p, Size: e.Size, Mode: e.Mode})
	}
	sortReportFiles(rep.Files)
}

// npm lists files whose first character is unchanged by upper-casing
// first, each group in "en" collation with case sensitivity and numeric
// ordering.
var (
	reportCollatorMu sync.Mutex
	reportCollator   = collate.New(language.English, collate.Loose)
	upper            = cases.Upper(language.Und)
)

func sortReportFiles(files []File) {
	isUpper := func(p string) bool {
		r, size := utf8.DecodeRuneInString(p)
		if size == 0 || r > 0xFFFF {
			// JavaScript's charAt sees half a surrogate pair, which
			// upper-cases to itself.
			return true
		}
		c := p[:size]
		return upper.String(c) == c
	}
	var uppers, others []File
	for _, f := range files {
		if isUpper(f.Path) {
			uppers = append(uppers, f)
		} else {
			others = append(others, f)
		}
	}
	reportCollatorMu.Lock()
	defer reportCollatorMu.Unlock()
	var buf collate.Buffer
	keys := make(map[string][]byte, len(files))
	for _, f := range files {
		keys[f.Path] = append([]byte(nil), reportCollator.KeyFromString(&buf, numericKey(f.Path))...)
		buf.Reset()
	}
	for _, group := range [][]File{uppers, others} {
		sort.SliceStable(group, func(i, j int) bool {
			a, b := group[i].Path, group[j].Path
			if c := bytes.Compare(keys[a], keys[b]); c != 0 {
				return c < 0
			}
			return compareCase(a, b) < 0
		})
	}
	copy(files, uppers)
	copy(files[len(uppers):], others)
}

// compareCaseNumeric follows ICU's sensitivity "case" with numeric
// ordering: base letters and numbers first, then case, lower before upper.
func compareCaseNumeric(a, b string) int {
	if c := reportCollator.CompareString(numericKey(a), numericKey(b)); c != 0 {
		return c
	}
	return compareCase(a, b)
}

// compareCase breaks ties on case, lower case first.
func compareCase(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	for i := 0; i < len(ra) && i < len(rb); i++ {
		la, lb := isUpperRune(ra[i]), isUpperRune(rb[i])
		if la != lb {
			if la {
				return 1
			}
			return -1
		}
	}
	return 0
}

func isUpperRune(r rune) bool {
	s := string(r)
	return strings.ToLower(s) != s
}

// numericKey rewrites each run of ASCII digits so that comparing digits
// one by one orders runs by value, as ICU's numeric collation does:
// leading zeros dropped, then the run prefixed with its length.
func numericKey(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		run := strings.TrimLeft(s[i:j], "0")
		if run == "" {
			run = "0"
		}
		fmt.Fprintf(&b, "%04d%s", len(run), run)
		i = j
	}
	return b.String()
}
