package tardiff

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// apply applies the hunks Unified wrote to a, as patch(1) would, and
// fails on any hunk that does not fit exactly.
func apply(a []byte, hunks string) ([]byte, error) {
	src := splitLines(a)
	var out []string
	pos := 0
	lines := strings.SplitAfter(hunks, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i := 0; i < len(lines); {
		h := lines[i]
		var aStart, aLen, bStart, bLen int
		if !strings.HasPrefix(h, "@@ -") {
			return nil, fmt.Errorf("line %d: not a hunk header: %q", i, h)
		}
		parts := strings.Fields(h)
		aStart, aLen = parseRange(parts[1][1:])
		bStart, bLen = parseRange(parts[2][1:])
		_ = bStart
		from := aStart - 1
		if aLen == 0 {
			from = aStart
		}
		if from < pos || from > len(src) {
			return nil, fmt.Errorf("hunk %q starts at %d, position %d of %d", h, from, pos, len(src))
		}
		out = append(out, src[pos:from]...)
		pos = from
		i++
		gotA, gotB := 0, 0
		for i < len(lines) && !strings.HasPrefix(lines[i], "@@ ") {
			l := lines[i]
			i++
			body := l[1:]
			if i < len(lines) && lines[i] == "\\ No newline at end of file\n" {
				body = strings.TrimSuffix(body, "\n")
				i++
			}
			switch l[0] {
			case ' ', '-':
				if pos >= len(src) || src[pos] != body {
					return nil, fmt.Errorf("hunk %q: context or deletion %q does not match", h, body)
				}
				if l[0] == ' ' {
					out = append(out, body)
					gotB++
				}
				pos++
				gotA++
			case '+':
				out = append(out, body)
				gotB++
			default:
				return nil, fmt.Errorf("bad line %q", l)
			}
		}
		if gotA != aLen || gotB != bLen {
			return nil, fmt.Errorf("hunk %q counts %d,%d lines, has %d,%d", h, aLen, bLen, gotA, gotB)
		}
	}
	out = append(out, src[pos:]...)
	return []byte(strings.Join(out, "")), nil
}

func parseRange(s string) (start, n int) {
	a, b, ok := strings.Cut(s, ",")
	start, _ = strconv.Atoi(a)
	n = 1
	if ok {
		n, _ = strconv.Atoi(b)
	}
	return start, n
}

func TestUnified(t *testing.T) {
	for _, tc := range []struct {
		name, a, b, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"new file", "", "x\ny\n", "@@ -0,0 +1,2 @@\n+x\n+y\n"},
		{"deleted", "x\n", "", "@@ -1,1 +0,0 @@\n-x\n"},
		{"no newline", "a\nb", "a\nc", "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
		{"newline added", "a", "a\n", "@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+a\n"},
		{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "1\nX\n3\n4\n5\n6\n7\n8\n9\n10\nY\n12\n",
			"@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n"},
		{"joined hunks", "1\n2\n3\n4\n5\n6\n7\n8\n", "1\nX\n3\n4\n5\n6\nY\n8\n",
			"@@ -1,8 +1,8 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n-7\n+Y\n 8\n"},
		{"insert in middle", "a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nd\nNEW\ne\nf\ng\n", "@@ -2,6 +2,7 @@\n b\n c\n d\n+NEW\n e\n f\n g\n"},
		// Which of the shortest scripts: jsdiff's ties, as npm diff
		// prints them (checked with jsdiff 8.0.4).
		{"repeated lines", "x\nx\nx\ny\nx\nx\n", "x\ny\nx\nx\nx\nx\n", "@@ -1,6 +1,6 @@\n x\n+y\n x\n x\n-y\n x\n x\n"},
		{"reversed", "a\nb\nc\n", "c\nb\na\n", "@@ -1,3 +1,3 @@\n-a\n-b\n c\n+b\n+a\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Unified([]byte(tc.a), []byte(tc.b), 3)
			if got != tc.want {
				t.Errorf("Unified:\n%s\nwant:\n%s", got, tc.want)
			}
			back, err := apply([]byte(tc.a), got)
			if err != nil || string(back) != tc.b {
				t.Errorf("applying the patch: %q, %v; want %q", back, err, tc.b)
			}
		})
	}
}

// TestUnifiedBeyondSearch: files too different for the search still get
// a correct patch.
func TestUnifiedBeyondSearch(t *testing.T) {
	var a, b bytes.Buffer
	for i := range 3000 {
		fmt.Fprintf(&a, "a%d\n", i)
		fmt.Fprintf(&b, "b%d\n", i)
	}
	p := Unified(a.Bytes(), b.Bytes(), 3)
	back, err := apply(a.Bytes(), p)
	if err != nil || !bytes.Equal(back, b.Bytes()) {
		t.Fatalf("applying: %v", err)
	}
}

// FuzzUnified: the patch of any two inputs applies to the old one and
// gives the new one, and it is one of the shortest (as npm diff's is)
// wherever the search stays within maxEdits.
func FuzzUnified(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), []byte("a\nc\nd"), 3)
	f.Add([]byte(""), []byte("\n\n"), 0)
	f.Add([]byte("\x00\xff\n\r\n"), []byte("\r\n\x00"), 1)
	f.Fuzz(func(t *testing.T, a, b []byte, context int) {
		context = context%5 + 1
		if context < 1 {
			context = -context + 1
		}
		p := Unified(a, b, context)
		if bytes.Equal(a, b) != (p == "") {
			t.Fatalf("equal inputs %v, patch %q", bytes.Equal(a, b), p)
		}
		back, err := apply(a, p)
		if err != nil {
			t.Fatalf("patch does not apply: %v\n%s", err, p)
		}
		if !bytes.Equal(back, b) {
			t.Fatalf("patch gives %q, want %q", back, b)
		}
		al, bl := splitLines(a), splitLines(b)
		if len(al)+len(bl) > maxEdits || len(al)*len(bl) > 1<<20 {
			return
		}
		edits := 0
		for _, l := range strings.SplitAfter(p, "\n") {
			if strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
				edits++
			}
		}
		if want := len(al) + len(bl) - 2*lcs(al, bl); edits != want {
			t.Fatalf("patch has %d edits, the shortest %d:\n%s", edits, want, p)
		}
	})
}

// lcs is the length of the longest common subsequence of a and b.
func lcs(a, b []string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			default:
				cur[j+1] = max(cur[j], prev[j+1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
