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
	type keyed struct {
		path string
		keys [3][]byte // collation keys of the extension, base name and path
	}
	collatorMu.Lock()
	var buf collate.Buffer
	entries := make([]keyed, len(files))
	for i, f := range files {
		// One key buffer for the three: they are sliced from it, and
		// copied out before the buffer is reused.
		ext := collator.KeyFromString(&buf, strings.ToLower(jsExtname(f)))
		base := collator.KeyFromString(&buf, strings.ToLower(path.Base(f)))
		full := collator.KeyFromString(&buf, f)
		all := make([]byte, 0, len(ext)+len(base)+len(full))
		all = append(append(append(all, ext...), base...), full...)
		entries[i] = keyed{f, [3][]byte{all[:len(ext)], all[len(ext) : len(ext)+len(base)], all[len(ext)+len(base):]}}
		buf.Reset()
	}
	collatorMu.Unlock()
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := &entries[i].keys, &entries[j].keys
		for n := 0; n < 3; n++ {
			if c := compareBytes(a[n], b[n]); c != 0 {
				return c < 0
			}
		}
		return false
	})
	for i := range entries {
		files[i] = entries[i].path
	}
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
