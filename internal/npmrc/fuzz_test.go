package npmrc

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse checks properties of the .npmrc parser: it never panics, it
// is deterministic, every setting's line is in the file, and a key=value
// line of plain ASCII reads back as exactly that key and value.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, errA := Parse(data, "f")
		b, errB := Parse(data, "f")
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			t.Fatalf("Parse is not deterministic on %q", data)
		}
		if errA != nil && !strings.HasPrefix(errA.Error(), "f:") {
			t.Fatalf("error %q does not name the file", errA)
		}
		lines := 1 + bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r"))
		for _, s := range a {
			if s.Line < 1 || s.Line > lines {
				t.Fatalf("setting %q on line %d of a %d-line input", s.Key, s.Line, lines)
			}
		}

		key, val := plainPair(data)
		if key == "" || val == "" {
			return
		}
		got, err := Parse([]byte(key+"="+val+"\n"), "f")
		if err != nil {
			t.Fatal(err)
		}
		want := []Setting{{Key: key, Value: str(val), Line: 1}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s=%s read back as %#v", key, val, got)
		}
	})
}

// plainPair derives a key and a value from data using only characters
// that ini gives no meaning to.
func plainPair(data []byte) (string, string) {
	var plain []byte
	for _, c := range data {
		if c > ' ' && c < 0x7f && !strings.ContainsRune(`=;#[]"'\`, rune(c)) {
			plain = append(plain, c)
		}
	}
	key, val := string(plain[:len(plain)/2]), string(plain[len(plain)/2:])
	switch val {
	case "true", "false", "null":
		return "", ""
	}
	if key == "__proto__" {
		return "", ""
	}
	return key, val
}

// fuzzSeeds is the committed seed corpus, also run through npm's ini by
// TestParseMatchesNPM.
var fuzzSeeds = loadSeeds()

func loadSeeds() []string {
	paths, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	var out []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		lines := strings.SplitN(string(data), "\n", 3)
		if len(lines) < 2 || lines[0] != "go test fuzz v1" {
			continue
		}
		lit := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		if s, err := strconv.Unquote(lit); err == nil {
			out = append(out, s)
		}
	}
	return out
}
