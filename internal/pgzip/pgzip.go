// Package pgzip writes gzip streams using several cores while staying
// deterministic: the same input gives the same bytes on every run, on
// every machine, whatever the core count or the sizes of the writes.
//
// The input is cut at fixed 1 MiB boundaries. Each block is compressed on
// its own by internal/deflate, primed with the 32 KiB before it as a
// preset dictionary, so matches still reach back across block boundaries.
// internal/deflate's output depends only on its input, and is smaller
// than zlib -9's (npm's setting) on npm packages at several times its
// speed. Every block but the last ends with a sync flush (byte-aligned,
// not final), so the blocks concatenate into one valid deflate stream.
//
// Inputs of at most 8 MiB, most packages, are compressed with
// internal/deflate's thorough search, which costs them little time and
// makes packages of many small similar files about 1% smaller. To know
// which case it is, the Writer holds back the first 8 MiB until the input
// either ends or grows past them: the choice depends on the input's
// length alone. Meanwhile it compresses the held blocks the normal way
// on the cores the writing goroutine leaves free, betting on a large
// input; if the input ends within 8 MiB, that work is stopped and thrown
// away.
package pgzip

import (
	"errors"
	"hash/crc32"
	"io"
	"runtime"
	"sync/atomic"

	"github.com/airlockdev/airlock/internal/deflate"
)

const (
	// defaultBlockSize is where the input is cut. It is part of the output
	// format: changing it changes the bytes written.
	defaultBlockSize = 1 << 20
	// dictSize is the deflate window: the most a match can reach back.
	dictSize = 32 << 10
	// smallInput is the largest input compressed thoroughly. It is part
	// of the output format.
	smallInput = 8 << 20
	// maxDefaultConcurrency caps the default so memory (about 3 MiB per
	// block in flight, and an encoder of up to 8 MiB per core) stays
	// modest on machines with many cores.
	maxDefaultConcurrency = 16
)

// header is a gzip header with no name or mtime, XFL 2 (best compression)
// and OS 255 (unknown): the same ten bytes npm writes in portable mode.
var header = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff}

// Options tunes a Writer. The zero value is ready to use. No option
// changes the bytes written.
type Options struct {
	// Concurrency is the most blocks compressed at once; 0 means
	// GOMAXPROCS, at most 16.
	Concurrency int

	// blockSize overrides defaultBlockSize so tests can cross many block
	// boundaries with little data.
	blockSize int
}

// ErrClosed is returned by Write and Close after Close.
var ErrClosed = errors.New("pgzip: writer is closed")

// Writer is an io.WriteCloser that gzips what is written to it. Close
// must be called to finish the stream. The underlying writer is only used
// from the goroutine calling Write and Close.
type Writer struct {
	w         io.Writer
	conc      int
	running   chan struct{} // a slot per block being compressed
	blockSize int

	cur     *block   // being filled
	held    []*block // full blocks kept back until the input passes smallInput or ends; some compressed ahead
	large   bool     // the input is past smallInput
	total   int64
	pending []*block // being compressed, in stream order
	free    []*block

	crc    uint32
	size   uint32 // input length mod 2^32, as gzip's ISIZE
	header bool   // the gzip header has been written
	closed bool
	err    error
}

// block is one fixed-size piece of the input with the dictionary before it.
type block struct {
	buf      []byte // dict bytes of the previous input, then the block's data
	dict     int
	final    bool
	thorough bool
	out      []byte
	done     chan struct{} // closed when out is ready; nil if not started
	stop     atomic.Bool   // stops a compression started ahead
}

// NewWriter returns a Writer that writes a gzip stream to w.
func NewWriter(w io.Writer, opts Options) *Writer {
	conc := opts.Concurrency
	if conc <= 0 {
		conc = min(runtime.GOMAXPROCS(0), maxDefaultConcurrency)
	}
	bs := opts.blockSize
	if bs <= 0 {
		bs = defaultBlockSize
	}
	return &Writer{w: w, conc: conc, blockSize: bs, running: make(chan struct{}, conc)}
}

// Write buffers p and compresses every completed block in the background.
// It blocks while Concurrency blocks are already being compressed.
func (z *Writer) Write(p []byte) (int, error) {
	if z.closed {
		return 0, ErrClosed
	}
	if z.err != nil {
		return 0, z.err
	}
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.size += uint32(len(p))
	z.total += int64(len(p))
	n := len(p)
	for len(p) > 0 {
		if z.cur == nil {
			z.cur = z.newBlock(nil)
		} else if z.data(z.cur) == z.blockSize {
			// A full block is only known not to be the last once more
			// input arrives.
			next := z.newBlock(z.cur)
			if err := z.ready(z.cur); err != nil {
				return 0, err
			}
			z.cur = next
		}
		k := min(z.blockSize-z.data(z.cur), len(p))
		z.cur.buf = append(z.cur.buf, p[:k]...)
		p = p[k:]
	}
	return n, nil
}

// Close compresses what is left, waits for every block, and writes the
// gzip trailer. It does not close the underlying writer.
func (z *Writer) Close() error {
	if z.closed {
		return ErrClosed
	}
	z.closed = true
	if z.err != nil {
		return z.err
	}
	if z.cur == nil {
		z.cur = z.newBlock(nil) // empty input still needs a final block
	}
	last := z.cur
	z.cur = nil
	last.final = true
	thorough := z.total <= smallInput
	if thorough {
		// The blocks compressed ahead were compressed for nothing.
		for _, b := range z.held {
			if b.done != nil {
				b.stop.Store(true)
			}
		}
		for _, b := range z.held {
			if b.done != nil {
				<-b.done
				b.done = nil
				b.stop.Store(false)
			}
		}
	}
	for _, b := range z.held {
		b.thorough = thorough
		if err := z.dispatch(b, false); err != nil {
			return err
		}
	}
	z.held = z.held[:0]
	last.thorough = thorough
	if len(z.pending) == 0 {
		// One block in all (any small package): compress it right here,
		// with no goroutine to start or wait for.
		compress(last)
		z.pending = append(z.pending, last)
	} else if err := z.dispatch(last, true); err != nil {
		return err
	}
	for len(z.pending) > 0 {
		if err := z.flushOne(); err != nil {
			return err
		}
	}
	var trailer [8]byte
	putLE32(trailer[:4], z.crc)
	putLE32(trailer[4:], z.size)
	if _, err := z.w.Write(trailer[:]); err != nil {
		z.err = err
		return err
	}
	return nil
}

func (z *Writer) data(b *block) int { return len(b.buf) - b.dict }

// newBlock starts a block whose dictionary is the last 32 KiB of input
// before it, which prev (dictionary included) ends with.
func (z *Writer) newBlock(prev *block) *block {
	var b *block
	if n := len(z.free); n > 0 {
		b, z.free = z.free[n-1], z.free[:n-1]
	} else {
		b = &block{}
	}
	b.buf, b.dict, b.final, b.thorough, b.out = b.buf[:0], 0, false, false, b.out[:0]
	if prev != nil {
		// The input is past one block, so this one will likely fill up:
		// allocate it whole rather than through append's doublings. The
		// first block grows as needed, keeping small inputs small.
		if n := min(len(prev.buf), dictSize) + z.blockSize; cap(b.buf) < n {
			b.buf = make([]byte, 0, n)
		}
		// Deflate never grows data by more than a few bytes per 64 KiB.
		if n := z.blockSize + z.blockSize/64 + 1024; cap(b.out) < n {
			b.out = make([]byte, 0, n)
		}
		tail := prev.buf[max(0, len(prev.buf)-dictSize):]
		b.buf = append(b.buf, tail...)
		b.dict = len(tail)
	}
	return b
}

// ready dispatches a full block that is not the last, or holds it back
// while the input may still end within smallInput.
func (z *Writer) ready(b *block) error {
	if !z.large && z.total > smallInput {
		z.large = true
		for _, h := range z.held {
			if err := z.dispatch(h, false); err != nil {
				return err
			}
		}
		z.held = z.held[:0]
	}
	if !z.large {
		z.held = append(z.held, b)
		z.ahead()
		return nil
	}
	return z.dispatch(b, false)
}

// ahead starts compressing held blocks the normal way, which they will
// need if the input passes smallInput, while fewer than Concurrency-1 of
// them are being compressed: the writing goroutine keeps a core.
func (z *Writer) ahead() {
	busy := 0
	for _, b := range z.held {
		if b.done != nil && !finished(b) {
			busy++
		}
	}
	for _, b := range z.held {
		if busy >= z.conc-1 {
			return
		}
		if b.done == nil {
			z.start(b)
			busy++
		}
	}
}

// dispatch starts compressing b, first writing out finished blocks and
// waiting while 2×Concurrency blocks are queued. At most Concurrency are
// compressed at once; the others wait their turn with their data ready,
// so that a core freed by a block that finishes early finds the next one
// rather than idling while the oldest block is awaited.
func (z *Writer) dispatch(b *block, final bool) error {
	for len(z.pending) >= 2*z.conc || len(z.pending) > 0 && finished(z.pending[0]) {
		if err := z.flushOne(); err != nil {
			return err
		}
	}
	z.pending = append(z.pending, b)
	if b.done == nil { // not compressed ahead
		b.final = final
		z.start(b)
	}
	return nil
}

// start compresses b in the background.
func (z *Writer) start(b *block) {
	b.done = make(chan struct{})
	go func() {
		z.running <- struct{}{}
		compress(b)
		<-z.running
		close(b.done)
	}()
}

func finished(b *block) bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// flushOne waits for the oldest pending block and writes it out.
func (z *Writer) flushOne() error {
	b := z.pending[0]
	if b.done != nil {
		<-b.done
	}
	z.pending = z.pending[1:]
	var err error
	if !z.header {
		z.header = true
		_, err = z.w.Write(header)
	}
	if err == nil {
		_, err = z.w.Write(b.out)
	}
	b.done = nil
	z.free = append(z.free, b)
	if err != nil {
		z.err = err
	}
	return err
}

// idle keeps encoders (about 1 MiB of tables, and up to 7 MiB of token
// buffers) for reuse across blocks and Writers. Unlike a sync.Pool it is
// not emptied by garbage collection, so memory stays flat however long
// the input.
var idle = make(chan *deflate.Encoder, maxDefaultConcurrency)

// compress deflates b.buf after the dictionary into b.out. Its output
// depends only on the dictionary, the data and whether b is final.
func compress(b *block) {
	var e *deflate.Encoder
	select {
	case e = <-idle:
	default:
		e = new(deflate.Encoder)
	}
	e.Thorough = b.thorough
	e.Stop = &b.stop
	b.out = e.Append(b.out[:0], b.buf, b.dict, b.final)
	e.Stop = nil
	select {
	case idle <- e:
	default:
	}
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
