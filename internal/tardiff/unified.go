package tardiff

import (
	"bytes"
	"fmt"
	"strings"
)

// maxEdits bounds the line diff's search: two files further apart than
// this many inserted and deleted lines (after their common start and end)
// are shown as one replacement, which is still a correct patch. The search
// costs memory in the square of it.
const maxEdits = 1000

// splitLines cuts data into lines, each with its "\n" but perhaps the
// last.
func splitLines(data []byte) []string {
	var out []string
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			out = append(out, string(data))
			break
		}
		out = append(out, string(data[:i+1]))
		data = data[i+1:]
	}
	return out
}

type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

// op is one line of an edit script: a[ai] kept or deleted, or b[bi]
// inserted.
type op struct {
	kind   opKind
	ai, bi int
}

// lineDiff returns an edit script from a to b.
func lineDiff(a, b []string) []op {
	ids := map[string]int32{}
	intern := func(ls []string) []int32 {
		out := make([]int32, len(ls))
		for i, l := range ls {
			id, ok := ids[l]
			if !ok {
				id = int32(len(ids))
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	x, y := intern(a), intern(b)
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	var ops []op
	for i := 0; i < pre; i++ {
		ops = append(ops, op{opEqual, i, i})
	}
	mid := myers(x[pre:len(x)-suf], y[pre:len(y)-suf])
	if mid == nil {
		for i := pre; i < len(x)-suf; i++ {
			ops = append(ops, op{kind: opDelete, ai: i, bi: pre})
		}
		for j := pre; j < len(y)-suf; j++ {
			ops = append(ops, op{kind: opInsert, ai: len(x) - suf, bi: j})
		}
	} else {
		for _, o := range mid {
			o.ai += pre
			o.bi += pre
			ops = append(ops, o)
		}
	}
	for i := 0; i < suf; i++ {
		ops = append(ops, op{opEqual, len(x) - suf + i, len(y) - suf + i})
	}
	return ops
}

// myers is Myers' O(ND) greedy diff, or nil when the files need more
// than maxEdits edits.
func myers(a, b []int32) []op {
	n, m := len(a), len(b)
	if n == 0 && m == 0 {
		return []op{}
	}
	limit := min(n+m, maxEdits)
	off := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int
	end := -1
	for d := 0; d <= limit && end < 0; d++ {
		trace = append(trace, append([]int(nil), v[off-d:off+d+1]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				end = d
				break
			}
		}
	}
	if end < 0 {
		return nil
	}
	var rev []op
	x, y := n, m
	for d := end; d > 0; d-- {
		vd := trace[d] // v before step d, diagonals -d..d
		at := func(k int) int { return vd[k+d] }
		k := x - y
		var pk int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		for x > px && y > py {
			x--
			y--
			rev = append(rev, op{opEqual, x, y})
		}
		if x == px {
			y--
			rev = append(rev, op{kind: opInsert, ai: x, bi: y})
		} else {
			x--
			rev = append(rev, op{kind: opDelete, ai: x, bi: y})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, op{opEqual, x, y})
	}
	out := make([]op, len(rev))
	for i := range rev {
		out[i] = rev[len(rev)-1-i]
	}
	return out
}

// Unified returns the hunks of a unified diff from a to b, as git and
// npm diff print them after the file headers ("" when they are equal),
// with context lines around each change.
func Unified(a, b []byte, context int) string {
	al, bl := splitLines(a), splitLines(b)
	ops := lineDiff(al, bl)
	var out strings.Builder
	for i := 0; i < len(ops); {
		if ops[i].kind == opEqual {
			i++
			continue
		}
		// A hunk: from context lines before this change to context
		// lines after the last change that is within 2*context of the
		// next.
		start := max(0, i-context)
		j := i
		for {
			for j < len(ops) && ops[j].kind != opEqual {
				j++
			}
			k := j
			for k < len(ops) && ops[k].kind == opEqual {
				k++
			}
			if k < len(ops) && k-j <= 2*context {
				j = k
				continue
			}
			break
		}
		stop := min(len(ops), j+context)
		writeHunk(&out, ops[start:stop], al, bl)
		i = stop
	}
	return out.String()
}

func writeHunk(w *strings.Builder, ops []op, a, b []string) {
	aStart, bStart, aLen, bLen := -1, -1, 0, 0
	for _, o := range ops {
		switch o.kind {
		case opEqual:
			if aStart < 0 {
				aStart = o.ai
			}
			if bStart < 0 {
				bStart = o.bi
			}
			aLen++
			bLen++
		case opDelete:
			if aStart < 0 {
				aStart = o.ai
			}
			aLen++
		case opInsert:
			if bStart < 0 {
				bStart = o.bi
			}
			bLen++
		}
	}
	// An empty side names the line before it, as git does.
	if aStart < 0 {
		aStart = startOf(ops, true)
	}
	if bStart < 0 {
		bStart = startOf(ops, false)
	}
	fmt.Fprintf(w, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, o := range ops {
		var line string
		var last bool
		switch o.kind {
		case opEqual, opDelete:
			line, last = a[o.ai], o.ai == len(a)-1
		case opInsert:
			line, last = b[o.bi], o.bi == len(b)-1
		}
		w.WriteByte(byte(o.kind))
		w.WriteString(line)
		if last && !strings.HasSuffix(line, "\n") {
			w.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// startOf is where an empty side of a hunk sits: the index, in that
// side's lines, of the first line after it.
func startOf(ops []op, old bool) int {
	o := ops[0]
	if old {
		return o.ai
	}
	return o.bi
}

func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
