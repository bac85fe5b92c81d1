package tardiff

import (
	"bytes"
	"fmt"
	"strings"
)

// maxEdits bounds the line diff's search: two files further apart than
// this many inserted and deleted lines are shown as one replacement
// (after their common start and end), which is still a correct patch but
// not the one npm diff prints. The search costs time and memory in the
// square of it.
const maxEdits = 4000

// maxWork bounds the search's steps (lines compared and diagonals
// tried), for files long and alike enough that following their common
// runs again and again would cost more than the square of maxEdits.
const maxWork = 1 << 26

// splitLines cuts data into lines, each with its "\n" but perhaps the
// last: the tokens of jsdiff's diffLines, which npm diff uses.
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

// run is count lines kept, deleted or inserted, in a chain from the last
// run back to the first.
type run struct {
	kind  opKind
	count int
	prev  *run
}

// reach is the furthest reach of the search on one diagonal (old line
// index minus new line index); ok is false where jsdiff holds undefined.
type reach struct {
	ok     bool
	oldPos int // index of the last old line reached, -1 before the first
	last   *run
}

// lineDiff returns the runs of an edit script from a to b: the one
// jsdiff 8's Myers search picks among the shortest, so that the hunks
// are the ones npm diff prints. It mirrors that search step by step,
// with its preference for deletions on ties, its pruning of paths that
// left the edit graph and its bounds on the diagonals worth trying.
func lineDiff(a, b []string) []run {
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
	if rs, ok := myers(x, y); ok {
		return rs
	}
	return replacement(x, y)
}

// myers is jsdiff's search; false when the files need more than
// maxEdits edits or maxWork steps.
func myers(x, y []int32) ([]run, bool) {
	oldLen, newLen := len(x), len(y)
	work := 0
	// common follows diagonal diag from p as far as the lines agree and
	// returns the new line index reached.
	common := func(p *reach, diag int) int {
		oldPos := p.oldPos
		newPos := oldPos - diag
		n := 0
		for newPos+1 < newLen && oldPos+1 < oldLen && x[oldPos+1] == y[newPos+1] {
			oldPos++
			newPos++
			n++
		}
		work += n + 1
		if n > 0 {
			p.last = &run{kind: opEqual, count: n, prev: p.last}
		}
		p.oldPos = oldPos
		return newPos
	}
	step := func(p reach, kind opKind, oldInc int) reach {
		if l := p.last; l != nil && l.kind == kind {
			return reach{ok: true, oldPos: p.oldPos + oldInc, last: &run{kind: kind, count: l.count + 1, prev: l.prev}}
		}
		return reach{ok: true, oldPos: p.oldPos + oldInc, last: &run{kind: kind, count: 1, prev: p.last}}
	}

	first := reach{ok: true, oldPos: -1}
	if newPos := common(&first, 0); first.oldPos+1 >= oldLen && newPos+1 >= newLen {
		return runs(first.last), true
	}
	limit := min(oldLen+newLen, maxEdits)
	off := limit + 2
	best := make([]reach, 2*off+1) // by diagonal + off
	best[off] = first
	minDiag, maxDiag := -off, off
	for d := 1; d <= limit && work <= maxWork; d++ {
		for diag := max(minDiag, -d); diag <= min(maxDiag, d); diag += 2 {
			del, ins := best[off+diag-1], best[off+diag+1]
			if del.ok {
				best[off+diag-1] = reach{}
			}
			canIns := false
			if ins.ok {
				newPos := ins.oldPos - diag
				canIns = 0 <= newPos && newPos < newLen
			}
			canDel := del.ok && del.oldPos+1 < oldLen
			if !canIns && !canDel {
				best[off+diag] = reach{}
				continue
			}
			var p reach
			if !canDel || (canIns && del.oldPos < ins.oldPos) {
				p = step(ins, opInsert, 0)
			} else {
				p = step(del, opDelete, 1)
			}
			newPos := common(&p, diag)
			if p.oldPos+1 >= oldLen && newPos+1 >= newLen {
				return runs(p.last), true
			}
			best[off+diag] = p
			if p.oldPos+1 >= oldLen {
				maxDiag = min(maxDiag, diag-1)
			}
			if newPos+1 >= newLen {
				minDiag = max(minDiag, diag+1)
			}
		}
	}
	return nil, false
}

// runs turns the chain ending at last into a slice, first run first.
func runs(last *run) []run {
	var out []run
	for r := last; r != nil; r = r.prev {
		out = append(out, run{kind: r.kind, count: r.count})
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// replacement is the script for files too far apart to search: their
// common start, every other old line deleted and new line inserted, and
// their common end.
func replacement(x, y []int32) []run {
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	var out []run
	for _, r := range []run{{opEqual, pre, nil}, {opDelete, len(x) - pre - suf, nil}, {opInsert, len(y) - pre - suf, nil}, {opEqual, suf, nil}} {
		if r.count > 0 {
			out = append(out, r)
		}
	}
	return out
}

// Unified returns the hunks of a unified diff from a to b ("" when they
// are equal), with context lines around each change, as jsdiff's
// structuredPatch and formatPatch write them for npm diff: counts always
// given ("@@ -1,1 +1,1 @@"), a start one lower for an empty side, and
// "\ No newline at end of file" after a last line without one. Lines are
// as the files hold them.
func Unified(a, b []byte, context int) string {
	al, bl := splitLines(a), splitLines(b)
	rs := lineDiff(al, bl)
	var out strings.Builder
	var hunk []string // lines of the open hunk, with their "\n"
	oldStart, newStart := 0, 0
	oldLine, newLine := 1, 1
	ai, bi := 0, 0 // next line of each file
	for i, r := range rs {
		if r.kind != opEqual {
			if oldStart == 0 {
				oldStart, newStart = oldLine, newLine
				if i > 0 && context > 0 {
					n := min(context, rs[i-1].count)
					for _, l := range al[ai-n : ai] {
						hunk = append(hunk, " "+l)
					}
					oldStart -= n
					newStart -= n
				}
			}
			if r.kind == opDelete {
				for _, l := range al[ai : ai+r.count] {
					hunk = append(hunk, "-"+l)
				}
				ai += r.count
				oldLine += r.count
			} else {
				for _, l := range bl[bi : bi+r.count] {
					hunk = append(hunk, "+"+l)
				}
				bi += r.count
				newLine += r.count
			}
			continue
		}
		if oldStart != 0 {
			// Equal lines between two changes join their hunks when
			// few enough; the last run of equal lines never does.
			if r.count <= 2*context && i < len(rs)-1 {
				for _, l := range bl[bi : bi+r.count] {
					hunk = append(hunk, " "+l)
				}
			} else {
				n := min(r.count, context)
				for _, l := range bl[bi : bi+n] {
					hunk = append(hunk, " "+l)
				}
				writeHunk(&out, oldStart, oldLine-oldStart+n, newStart, newLine-newStart+n, hunk)
				oldStart, newStart, hunk = 0, 0, hunk[:0]
			}
		}
		ai += r.count
		bi += r.count
		oldLine += r.count
		newLine += r.count
	}
	if oldStart != 0 {
		writeHunk(&out, oldStart, oldLine-oldStart, newStart, newLine-newStart, hunk)
	}
	return out.String()
}

func writeHunk(w *strings.Builder, oldStart, oldLines, newStart, newLines int, lines []string) {
	if oldLines == 0 {
		oldStart--
	}
	if newLines == 0 {
		newStart--
	}
	fmt.Fprintf(w, "@@ -%d,%d +%d,%d @@\n", oldStart, oldLines, newStart, newLines)
	for _, l := range lines {
		w.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			w.WriteString("\n\\ No newline at end of file\n")
		}
	}
}
