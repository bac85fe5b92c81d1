// Package deflate is a deflate (RFC 1951) encoder tuned for npm tarballs:
// it aims at smaller output than zlib level 9, npm's setting, at several
// times zlib's speed.
//
// It finds matches with hash chains over 6-byte prefixes, plus tables of
// the last position of each 3-, 4- and 5-byte prefix for the short
// matches, and parses lazily (putting a match off for a longer one one or
// two bytes later). It then cuts the tokens into blocks where the
// statistics change (choosing the cut points on an entropy estimate and
// keeping a cut only if real Huffman codes make the blocks smaller), and
// writes each block with optimal length-limited Huffman codes, or fixed
// codes, or stored, whichever is smallest. Encoder.Thorough searches 32
// times deeper, for inputs small enough that time does not matter.
//
// The output depends only on the input: no floating point, no
// CPU-specific code paths, no concurrency. Callers that compress pieces
// in parallel get the same bytes as one core would.
package deflate

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"
)

const (
	hashBits  = 16
	hash4Bits = 17
	hash5Bits = 17
	hash3Bits = 16
	chainLen  = 6
	// chunkTokens is the granularity of block boundaries.
	chunkTokens = 512
	// noPrev in prev ends a chain: from any position, it reaches back
	// further than maxDistance.
	noPrev = 0xffff
	// stopEvery is how often, in input bytes, parse looks at Stop.
	stopEvery = 64 << 10
)

// params sets how hard the parser searches, as zlib's configuration table
// does. They are part of the output format.
type params struct {
	chain int // candidates tried per position
	good  int // after a match this long, try a quarter of them
	lazy  int // after a match this long, do not look for a longer one
	lazy2 int // after a match this long, look one byte ahead, not two
	nice  int // stop at a match this long
	far3  int // the farthest a 3-byte match may reach
}

var (
	defaultParams = params{chain: 128, good: 8, lazy: 258, nice: 258, far3: 1024, lazy2: 8}
	// thoroughParams search 32 times deeper. That pays most on many
	// small, similar files (core-js, lodash), where the longest match is
	// one of hundreds of candidates that share a prefix.
	thoroughParams = params{chain: 4096, good: 32, lazy: 258, nice: 258, far3: 1024, lazy2: 258}
)

// Encoder compresses with reusable tables. The zero value is ready to
// use; an Encoder must not be used by two goroutines at once.
type Encoder struct {
	// Thorough searches much harder for matches: two to six times
	// slower, and about 1% smaller on packages of many small files.
	// It is part of the output format, as the input is.
	Thorough bool

	// Stop, if set, is checked every 64 KiB of input: once it is true,
	// Append gives up and returns dst unchanged. A caller that started
	// work it turns out not to need can so take its core back.
	Stop *atomic.Bool

	// The tables hold positions plus base, so that entries left from an
	// earlier input, being below base, are out of the window and need no
	// clearing (which would cost more than compressing a small input).
	head  [1 << hashBits]uint32 // the last position of this hash of the first chainLen bytes
	head5 [1 << hash5Bits]uint32
	c5    int
	head4 [1 << hash4Bits]uint32
	head3 [1 << hash3Bits]uint32
	// prev is the distance back to the previous position in the chain,
	// by position mod 32 KiB; noPrev (further than a match can reach)
	// ends it. Distances, unlike positions, fit 16 bits: half the cache.
	prev [windowSize]uint16
	base int

	toks   []token
	cur    hist
	chunks []hist  // cur at every chunkTokens tokens, and at the end
	offs   []int32 // input offset at the same points
	in     int     // input offset after the last token

	hf  huffman
	dyn [2]dynamic
	w   bitWriter
	p   params
}

// Append appends to dst the deflate encoding of src[dictLen:], with
// src[:dictLen] as preset history (only its last 32 KiB matters), and
// returns the extended slice. If final, the last block is marked final;
// otherwise the output ends on a byte boundary with an empty stored block
// (a sync flush), so that another deflate stream can follow it directly.
func (e *Encoder) Append(dst, src []byte, dictLen int, final bool) []byte {
	e.p = defaultParams
	if e.Thorough {
		e.p = thoroughParams
	}
	e.reset(len(src))
	stopped := !e.parse(src, dictLen)
	e.done(len(src))
	if stopped {
		return dst
	}
	e.w = bitWriter{out: dst}
	e.writeBlocks(src, dictLen, final)
	if !final {
		e.w.bits(0, 3)
		e.w.align()
		e.w.out = append(e.w.out, 0, 0, 0xff, 0xff)
	}
	e.w.align()
	out := e.w.out
	e.w.out = nil
	return out
}

// reset makes ready for an input of n bytes.
func (e *Encoder) reset(n int) {
	if e.base == 0 || e.base+n >= 1<<30 { // int32-safe on every platform
		clear(e.head[:])
		clear(e.head4[:])
		clear(e.head5[:])
		clear(e.head3[:])
		clear(e.prev[:])
		e.base = 1
	}
	e.toks = e.toks[:0]
	e.cur = hist{}
	e.chunks = append(e.chunks[:0], hist{})
	e.offs = append(e.offs[:0], 0)
	e.in = 0
}

// done moves base past every position of an input of n bytes.
func (e *Encoder) done(n int) { e.base += n }

func load32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i : i+4]) }
func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i : i+8]) }

const prime64 = 0x9e3779b97f4a7c15

// The chains link positions with the same first chainLen bytes; the
// single-entry tables remember the last position of each 3- and 4-byte
// prefix, for the short matches, which only pay when close.
func hashChain(u uint64) uint32 { return uint32((u << (64 - 8*chainLen)) * prime64 >> (64 - hashBits)) }
func hash4(u uint64) uint32     { return uint32((u << 32) * prime64 >> (64 - hash4Bits)) }
func hash5(u uint64) uint32     { return uint32((u << 24) * prime64 >> (64 - hash5Bits)) }
func hash3(u uint64) uint32     { return uint32((u << 40) * prime64 >> (64 - hash3Bits)) }

// insert adds position p (which must have 8 bytes after it) to the hash
// tables and returns the previous positions with the same chainLen-,
// 4- and 3-byte hashes, -1 if none.
func (e *Encoder) insert(src []byte, p int) (cl, c4, c3 int) {
	u := load64(src, p)
	h := hashChain(u)
	old := e.head[h]
	e.prev[p&windowMask] = uint16(min(uint32(p+e.base)-old, noPrev))
	e.head[h] = uint32(p + e.base)
	h4 := hash4(u)
	old4 := e.head4[h4]
	e.head4[h4] = uint32(p + e.base)
	h3 := hash3(u)
	old3 := e.head3[h3]
	e.head3[h3] = uint32(p + e.base)
	h5 := hash5(u)
	e.c5 = int(e.head5[h5]) - e.base
	e.head5[h5] = uint32(p + e.base)
	return int(old) - e.base, int(old4) - e.base, int(old3) - e.base
}

// skip inserts the positions from lo to hi, which a match covers.
func (e *Encoder) skip(src []byte, lo, hi int) {
	if lo >= hi {
		return
	}
	// Locals, and a window sliding over src, let the compiler drop the
	// bounds checks and reloads in this, the hottest loop.
	head, head3, head4, head5, prev := &e.head, &e.head3, &e.head4, &e.head5, &e.prev
	p, v := lo, uint32(lo+e.base)
	for s := src[lo : hi+7]; len(s) >= 8; s = s[1:] {
		u := binary.LittleEndian.Uint64(s)
		h := hashChain(u)
		prev[p&windowMask] = uint16(min(v-head[h], noPrev))
		head[h] = v
		head4[hash4(u)] = v
		head5[hash5(u)] = v
		head3[hash3(u)] = v
		p, v = p+1, v+1
	}
}

func (e *Encoder) emit(t token, n int) {
	e.toks = append(e.toks, t)
	e.cur.add(t)
	e.in += n
	if len(e.toks)%chunkTokens == 0 {
		e.chunks = append(e.chunks, e.cur)
		e.offs = append(e.offs, int32(e.in))
	}
}

// parse turns src[start:] into tokens, lazily: a match is put off for a
// longer one starting one byte later, or two bytes later if that one is
// longer by two or more. It returns false if Stop cut it short.
func (e *Encoder) parse(src []byte, start int) bool {
	end := len(src)
	hashEnd := end - 7 // positions with 8 bytes to hash
	for p := max(0, start-windowSize); p < start && p < hashEnd; p++ {
		e.insert(src, p)
	}
	e.in = start
	e.offs[0] = int32(start)
	lazy, lazy2 := e.p.lazy, e.p.lazy2
	// find inserts p, which must be the next position to insert, and
	// returns the longest match there longer than atLeast.
	find := func(p, atLeast int) (int, int) {
		if p >= hashEnd {
			return 0, 0
		}
		cl, c4, c3 := e.insert(src, p)
		return e.longest(src, p, cl, c4, c3, atLeast)
	}
	pos := start
	check := pos + stopEvery
	for pos < end {
		if pos >= check {
			if e.Stop != nil && e.Stop.Load() {
				return false
			}
			check = pos + stopEvery
		}
		n, d := find(pos, 0)
		if n == 0 {
			e.emit(token(src[pos]), 1)
			pos++
			continue
		}
		for n < lazy {
			if n2, d2 := find(pos+1, n); n2 > 0 {
				e.emit(token(src[pos]), 1)
				pos++
				n, d = n2, d2
				continue
			}
			if n >= lazy2 {
				break
			}
			n3, d3 := find(pos+2, n+1)
			if n3 == 0 {
				// pos+2 is inserted: the match covers it.
				e.emit(match(n, d), n)
				e.skip(src, pos+3, min(pos+n, hashEnd))
				pos += n
				n = -1
				break
			}
			e.emit(token(src[pos]), 1)
			e.emit(token(src[pos+1]), 1)
			pos += 2
			n, d = n3, d3
		}
		if n < 0 {
			continue
		}
		// pos and pos+1 (if n < lazy) are inserted.
		e.emit(match(n, d), n)
		first := pos + 1
		if n < lazy {
			first = pos + 2
		}
		e.skip(src, first, min(pos+n, hashEnd))
		pos += n
	}
	if len(e.toks)%chunkTokens != 0 {
		e.chunks = append(e.chunks, e.cur)
		e.offs = append(e.offs, int32(e.in))
	}
	return true
}

// longest returns the longest match at pos longer than atLeast, or 0.
// cl, c4 and c3 are the last earlier positions with the same chain,
// 4-byte and 3-byte hashes.
func (e *Encoder) longest(src []byte, pos, cl, c4, c3, atLeast int) (length, dist int) {
	maxLen := min(maxMatch, len(src)-pos)
	best := max(atLeast, minMatch-1)
	minPos := max(pos-maxDistance, 0)
	if best < minMatch && c3 >= minPos && pos-c3 <= e.p.far3 &&
		src[c3] == src[pos] && src[c3+1] == src[pos+1] && src[c3+2] == src[pos+2] {
		best, dist = minMatch, pos-c3
	}
	nice := min(e.p.nice, maxLen)
	cur := src[pos+4 : pos+maxLen]
	first := load32(src, pos)
	if best < nice && c4 >= minPos && load32(src, c4) == first {
		if n := 4 + matchLen(src[c4+4:], cur); n > best {
			best, dist = n, pos-c4
		}
	}
	// The last 5-byte match is often the last 4-byte one, already tried.
	if c5 := e.c5; best < nice && c5 != c4 && c5 >= minPos && load32(src, c5) == first {
		if n := 4 + matchLen(src[c5+4:], cur); n > best {
			best, dist = n, pos-c5
		}
	}
	if best < nice {
		tries := e.p.chain
		if atLeast >= e.p.good {
			tries >>= 2
		}
		tail := max(best, 3) - 3
		want := load32(src, pos+tail)
		for c := cl; ; {
			if c, tries = e.candidate(src, c, minPos, tries, tail, want, first); c < 0 {
				break
			}
			if n := 4 + matchLen(src[c+4:], cur); n > best {
				best, dist = n, pos-c
				if n >= nice {
					break
				}
				tail = n - 3
				want = load32(src, pos+tail)
			}
			c, tries = c-int(e.prev[c&windowMask]), tries-1
		}
	}
	if best <= atLeast || best < minMatch {
		return 0, 0
	}
	return best, dist
}

// candidate follows the chain from c for at most tries positions and
// returns the first that could beat the best match so far (its bytes at
// tail and its first four bytes are the wanted ones) with the tries left
// counting it, or -1. It is the innermost loop: kept apart from longest
// so that its few variables all stay in registers.
//
//go:noinline
func (e *Encoder) candidate(src []byte, c, minPos, tries, tail int, want, first uint32) (int, int) {
	prev := &e.prev
	for ; c >= minPos && tries > 0; tries-- {
		if load32(src, c+tail) == want && load32(src, c) == first {
			return c, tries
		}
		c -= int(prev[c&windowMask])
	}
	return -1, 0
}

// matchLen returns how many leading bytes of b a starts with; a must be
// at least as long as b.
func matchLen(a, b []byte) int {
	a = a[:len(b)]
	n := 0
	for len(a) >= 8 && len(b) >= 8 {
		if x := binary.LittleEndian.Uint64(a) ^ binary.LittleEndian.Uint64(b); x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		a, b = a[8:], b[8:]
		n += 8
	}
	for i := range b {
		if i >= len(a) || a[i] != b[i] {
			return n + i
		}
	}
	return n + len(b)
}
