package pack

import (
	"bytes"
	"path"
	"sort"
	"strings"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// npm orders tarball entries for compressibility: by extension, then base
// name, then full path, each compared with the "en" locale collation
// (String.prototype.localeCompare), case-insensitively for the first two.
var (
	collatorMu sync.Mutex
	collator   = collate.New(language.English)
)

func sortPackOrder(files []string) {
	type key struct{ ext, base, full string }
	keys := make(map[string]key, len(files))
	for _, f := range files {
		keys[f] = key{strings.ToLower(jsExtname(f)), strings.ToLower(path.Base(f)), f}
	}
	collatorMu.Lock()
	defer collatorMu.Unlock()
	var buf collate.Buffer
	sortKeys := make(map[string][3][]byte, len(files))
	for f, k := range keys {
		sortKeys[f] = [3][]byte{
			append([]byte(nil), collator.KeyFromString(&buf, k.ext)...),
			append([]byte(nil), collator.KeyFromString(&buf, k.base)...),
			append([]byte(nil), collator.KeyFromString(&buf, k.full)...),
		}
		buf.Reset()
	}
	sort.SliceStable(files, func(i, j int) bool {
		a, b := sortKeys[files[i]], sortKeys[files[j]]
		for n := 0; n < 3; n++ {
			if c := compareBytes(a[n], b[n]); c != 0 {
				return c < 0
			}
		}
		return false
	})
}

func compareBytes(a, b []byte) int { return bytes.Compare(a, b) }

// jsExtname is Node's path.posix.extname for a file path: the base name
// from its last dot, except for a leading dot (".npmrc") and "..".
func jsExtname(p string) string {
	base := path.Base(p)
	i := strings.LastIndexByte(base, '.')
	if i <= 0 || base == ".." {
		return ""
	}
	return base[i:]
}
