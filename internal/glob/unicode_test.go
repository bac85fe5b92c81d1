package glob

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"unicode"
)

// assignedInGo reports whether Go's Unicode tables know r. Node's ICU has
// a newer Unicode (17.0 in Node 20.20) than Go 1.26 (15.0): characters
// added since then are the known, accepted differences.
func assignedInGo(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z,
		unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs)
}

// TestFoldEquivalents checks that foldEquivalents and foldEqual agree:
// without the u flag on every BMP unit, with it on every code point.
func TestFoldEquivalents(t *testing.T) {
	for _, u := range []bool{false, true} {
		limit := rune(0x10000)
		if u {
			limit = unicode.MaxRune + 1
		}
		groups := map[rune][]rune{}
		if !u {
			for r := rune(0); r < limit; r++ {
				groups[canonUnit(r)] = append(groups[canonUnit(r)], r)
			}
		}
		for r := rune(0); r < limit; r++ {
			var got []rune
			foldEquivalents(r, u, func(x rune) bool { got = append(got, x); return false })
			for _, x := range got {
				if !foldEqual(r, x, u) {
					t.Fatalf("u=%v: %U is listed as equivalent to %U but foldEqual disagrees", u, x, r)
				}
			}
			want := groups[canonUnit(r)]
			if u {
				want = []rune{r}
				if !isSurrogate(r) {
					for x := unicode.SimpleFold(r); x != r; x = unicode.SimpleFold(x) {
						want = append(want, x)
					}
				}
			}
			if len(got) != len(want) {
				t.Fatalf("u=%v: %U has equivalents %U, want %U", u, r, got, want)
			}
		}
	}
}

// TestUnicodeAgainstNode compares case mapping, regexp case folding and the
// character classes behind POSIX brackets with node's, everywhere Go's
// tables know the characters involved.
func TestUnicodeAgainstNode(t *testing.T) {
	minimatchDir(t) // the same prerequisites as the other differential tests
	var pairs [][2]rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		for x := unicode.SimpleFold(r); x != r; x = unicode.SimpleFold(x) {
			pairs = append(pairs, [2]rune{r, x})
		}
	}
	sigma := []string{
		"Σ", "ΑΣ", "ΑΣΑ", "Α.Σ", "Α'Σ", "ΑΣ'", "ΑΣ'Α", "aΣ", "1Σ", "Σa", "a\u0345Σ",
		"\u0345Σ", "ΑΣ\u0301", "ΑΣ\u0301Α", "ʰΣ", "ǅΣ", "A:Σ", "A·Σ", "AΣ.b", "AΣ-b",
		"İ", "aİb", "ΑΣΣ", "Σ😀", "😀Σ", "𐐀Σ", "AΣ\u00ad", "A\u00adΣ",
	}
	data, err := json.Marshal(map[string]any{"pairs": pairs, "strings": sigma})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("testdata", "unicode.js"))
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running node: %v", err)
	}
	var ans struct {
		Canon   []rune
		Folds   [][4]json.RawMessage
		Props   map[string][][2]rune
		Lower   map[string]string
		Strings []string
	}
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatalf("decoding node's answer: %v", err)
	}

	for u, c := range ans.Canon {
		if got := canonUnit(rune(u)); got != c && assignedInGo(rune(u)) && assignedInGo(c) {
			t.Errorf("canonUnit(%U) = %U, JS %U", u, got, c)
		}
	}

	for _, f := range ans.Folds {
		var a, b rune
		var u bool
		var i *bool
		json.Unmarshal(f[0], &a)
		json.Unmarshal(f[1], &b)
		json.Unmarshal(f[2], &u)
		json.Unmarshal(f[3], &i)
		if !assignedInGo(a) || !assignedInGo(b) {
			continue
		}
		if foldEqual(a, b, true) != u {
			t.Errorf("with u, %U and %U: foldEqual %v, JS %v", a, b, !u, u)
		}
		if i != nil && foldEqual(a, b, false) != *i {
			t.Errorf("without u, %U and %U: foldEqual %v, JS %v", a, b, !*i, *i)
		}
	}

	lower := map[rune]string{}
	for k, v := range ans.Lower {
		c, _ := strconv.Atoi(k)
		lower[rune(c)] = v
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if isSurrogate(r) || !assignedInGo(r) {
			continue
		}
		want, ok := lower[r]
		if !ok {
			want = string(r)
		}
		if got := lowerJS(string(r)); got != want {
			t.Errorf("lowerJS(%q) = %q, JS %q", string(r), got, want)
		}
	}
	for i, s := range sigma {
		if got := lowerJS(s); got != ans.Strings[i] {
			t.Errorf("lowerJS(%q) = %q, JS %q", s, got, ans.Strings[i])
		}
	}

	for name, runs := range ans.Props {
		table := propertyTables[name]
		js := map[rune]bool{}
		for _, run := range runs {
			for c := run[0]; c <= run[1]; c++ {
				js[c] = true
			}
		}
		for r := rune(0); r <= unicode.MaxRune; r++ {
			// U+0295 moved from Ll to Lo in Unicode 16.
			if !assignedInGo(r) || r == 0x295 && name == "Ll" {
				continue
			}
			if unicode.Is(table, r) != js[r] {
				t.Errorf(`\p{%s} and %U: Go %v, JS %v`, name, r, !js[r], js[r])
			}
		}
	}
}
