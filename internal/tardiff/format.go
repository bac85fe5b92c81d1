package tardiff

import (
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/airlockdev/airlock/internal/bytesize"
)

// WriteText writes r as the report airlock diff prints: a headline with
// the signal counts, the size of the change, every signal, and every file
// changed.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s@%s → %s@%s: %s\n", r.Old.Name, r.Old.Version, r.New.Name, r.New.Version, Summary(r.Signals))
	writeSizes(&b, r)
	fmt.Fprintf(&b, "provenance: %s\n", provenanceLine(r.Old.Provenance, r.New.Provenance))
	if len(r.Signals) > 0 {
		b.WriteString("\nsignals:\n")
		WriteSignals(&b, r.Signals)
	}
	if len(r.Files) > 0 {
		b.WriteString("\nfiles:\n")
		writeFileLines(&b, r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteFiles writes the size of the change and the files changed.
func WriteFiles(w io.Writer, r *Result) error {
	var b strings.Builder
	writeSizes(&b, r)
	writeFileLines(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFileLines(b *strings.Builder, r *Result) {
	for _, f := range r.Files {
		b.WriteString("  " + fileLine(f) + "\n")
	}
}

func writeSizes(b *strings.Builder, r *Result) {
	var added, removed, changed, mode int
	for _, f := range r.Files {
		switch f.Status {
		case Added:
			added++
		case Removed:
			removed++
		case Changed:
			changed++
		case ModeOnly:
			mode++
		}
	}
	fmt.Fprintf(b, "files: %d → %d (%d added, %d removed, %d changed", r.Old.Files, r.New.Files, added, removed, changed)
	if mode > 0 {
		fmt.Fprintf(b, ", %d mode only", mode)
	}
	fmt.Fprintf(b, "); unpacked %s → %s; tarball %s → %s\n", bytesize.String(r.Old.UnpackedSize), bytesize.String(r.New.UnpackedSize), bytesize.String(r.Old.Size), bytesize.String(r.New.Size))
}

// WriteSignals writes one line per signal: severity, message, [ID].
func WriteSignals(w io.Writer, sigs []Signal) {
	var b strings.Builder
	for _, s := range sigs {
		fmt.Fprintf(&b, "  %-6s  %s  [%s]\n", s.Severity, Visible(s.Message), Visible(s.ID))
	}
	io.WriteString(w, b.String())
}

func fileLine(f FileChange) string {
	switch f.Status {
	case Added:
		return fmt.Sprintf("A  %s  (%s)", Visible(f.Path), bytesize.String(f.NewSize))
	case Removed:
		return fmt.Sprintf("D  %s  (%s)", Visible(f.Path), bytesize.String(f.OldSize))
	case ModeOnly:
		return fmt.Sprintf("m  %s  (mode %s → %s)", Visible(f.Path), f.OldMode, f.NewMode)
	}
	s := fmt.Sprintf("M  %s  (%s → %s", Visible(f.Path), bytesize.String(f.OldSize), bytesize.String(f.NewSize))
	if f.OldMode != f.NewMode {
		s += fmt.Sprintf(", mode %s → %s", f.OldMode, f.NewMode)
	}
	return s + ")"
}

func provenanceLine(old, new *Provenance) string {
	if old == nil || new == nil {
		return "not compared"
	}
	one := func(p *Provenance) string {
		switch {
		case !p.Found:
			return "none"
		case !p.Verified:
			return "does not verify"
		}
		return fmt.Sprintf("%s, %s", shown(p.Repository), shown(p.Workflow))
	}
	o, n := one(old), one(new)
	if o == n {
		return "same: " + n
	}
	return o + " → " + n
}

// WriteNames writes the paths of the files that differ, one a line, as
// npm diff --diff-name-only prints them (see WritePatch).
func WriteNames(w io.Writer, r *Result) error {
	var b strings.Builder
	for _, f := range r.Files {
		b.WriteString(f.Path + "\n")
	}
	_, err := io.WriteString(w, npmOutput(b.String()))
	return err
}

// WritePatch writes a git-style patch of every file that differs, byte
// for byte as npm 11's npm diff prints it when the files are text
// without control or invisible characters: npm's headers and index line
// (the two versions), jsdiff's hunks, one tab dropped at the end of each
// line, the whole trimmed and ended by one newline, and CRLF printed as
// LF. Files are in r.Files' order; npm's is TarOrder's. Files with a
// binary extension (npm's list), and files that are not text or too
// large to diff, get only the ---/+++ lines.
//
// Unlike npm, lines are written so that a terminal shows what they hold:
// control characters (but tab, and a CR that ends a line) and invisible
// or bidirectional characters appear as escapes (\x1b, <U+202E>), so such
// a patch is for reading, not for git apply; and nothing is redacted
// (npm's output hides UUIDs, npm tokens and URL passwords).
func WritePatch(w io.Writer, r *Result) error {
	var b strings.Builder
	for _, f := range r.Files {
		a, bb := "a/"+f.Path, "b/"+f.Path
		fmt.Fprintf(&b, "diff --git %s %s\n", a, bb)
		switch {
		case f.Status == Added:
			fmt.Fprintf(&b, "new file mode 100%s\n", f.NewMode)
		case f.Status == Removed:
			fmt.Fprintf(&b, "deleted file mode 100%s\n", f.OldMode)
		case f.OldMode != f.NewMode:
			fmt.Fprintf(&b, "old mode 100%s\nnew mode 100%s\n", f.OldMode, f.NewMode)
		}
		mode := ""
		if f.OldMode == f.NewMode {
			mode = "100" + f.NewMode
		}
		fmt.Fprintf(&b, "index v%s..v%s %s\n", r.Old.Version, r.New.Version, mode)
		if binaryExtension(f.Path) || f.Binary {
			fmt.Fprintf(&b, "--- %s\n+++ %s\n", a, bb)
			continue
		}
		// jsdiff's file headers end in a tab (the empty header), which
		// npm drops with one tab at the end of every other line.
		p := fmt.Sprintf("--- %s\t\n+++ %s\t\n", a, bb) + f.Patch
		b.WriteString(strings.ReplaceAll(p, "\t\n", "\n"))
	}
	_, err := io.WriteString(w, npmOutput(b.String()))
	return err
}

// npmOutput is s as npm prints a command's result: trimmed as
// JavaScript trims, CRLF as LF, one newline after it. Each line is shown
// with Visible, where npm strips some control characters.
func npmOutput(s string) string {
	s = strings.TrimFunc(s, jsSpace)
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString(Visible(strings.TrimSuffix(line, "\r")))
		b.WriteByte('\n')
	}
	return b.String()
}

// jsSpace is what JavaScript's String.prototype.trim removes: white
// space and line terminators. It is not unicode.IsSpace: U+FEFF is in,
// U+0085 is out.
func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// TarOrder returns files in the order npm diff lists them: the order of
// old's tarball, then the files only new has, in new's order.
func TarOrder(files []FileChange, old, new *Package) []FileChange {
	rank := map[string]int{}
	for _, p := range []*Package{old, new} {
		for _, f := range p.Files {
			if _, ok := rank[f.Path]; !ok {
				rank[f.Path] = len(rank)
			}
		}
	}
	out := slices.Clone(files)
	slices.SortStableFunc(out, func(a, b FileChange) int { return rank[a.Path] - rank[b.Path] })
	return out
}

// binaryExtension reports whether npm diff prints no patch for p: its
// extension, as libnpmdiff takes it (a name that starts with a dot is
// all extension), is in the binary-extensions package's list (3.1.0).
func binaryExtension(p string) bool {
	base := path.Base(p)
	ext := strings.TrimPrefix(path.Ext(base), ".")
	if strings.HasPrefix(base, ".") {
		ext = base[1:]
	}
	return binaryExtensions[ext]
}

var binaryExtensions = func() map[string]bool {
	m := map[string]bool{}
	for _, e := range strings.Fields(`3dm 3ds 3g2 3gp 7z a aac adp afdesign afphoto afpub ai aif aiff alz ape apk
		appimage ar arj asf au avi bak baml bh bin bk bmp btif bz2 bzip2 cab caf cgm class cmx cpio cr2 cr3
		cur dat dcm deb dex djvu dll dmg dng doc docm docx dot dotm dra DS_Store dsk dts dtshd dvb dwg dxf
		ecelp4800 ecelp7470 ecelp9600 egg eol eot epub exe f4v fbs fh fla flac flatpak fli flv fpx fst fvt
		g3 gh gif graffle gz gzip h261 h263 h264 icns ico ief img ipa iso jar jpeg jpg jpgv jpm jxr key ktx
		lha lib lvp lz lzh lzma lzo m3u m4a m4v mar mdi mht mid midi mj2 mka mkv mmr mng mobi mov movie mp3
		mp4 mp4a mpeg mpg mpga mxu nef npx numbers nupkg o odp ods odt oga ogg ogv otf ott pages pbm pcx pdb
		pdf pea pgm pic png pnm pot potm potx ppa ppam ppm pps ppsm ppsx ppt pptm pptx psd pya pyc pyo pyv
		qt rar ras raw resources rgb rip rlc rmf rmvb rpm rtf rz s3m s7z scpt sgi shar snap sil sketch slk
		smv snk so stl suo sub swf tar tbz tbz2 tga tgz thmx tif tiff tlz ttc ttf txz udf uvh uvi uvm uvp
		uvs uvu viv vob war wav wax wbmp wdp weba webm webp whl wim wm wma wmv wmx woff woff2 wrm wvx xbm
		xif xla xlam xls xlsb xlsm xlsx xlt xltm xltx xm xmind xpi xpm xwd xz z zip zipx`) {
		m[e] = true
	}
	return m
}()

// Visible escapes what a terminal would not show as it is: control
// characters but tab, invalid UTF-8, and format characters (bidi
// controls, zero-width characters, tags) and the other invisible
// characters scanUnicode counts.
func Visible(s string) string {
	clean := true
	for _, r := range s {
		if r != '\t' && (r < ' ' || r == 0x7f || r >= 0x80 && hidden(r)) {
			clean = false
			break
		}
	}
	if clean && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteRune(r)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && hidden(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func hidden(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Cc, r) || r == 0x115f || r == 0x1160 || r == 0x3164 || r == 0xffa0 ||
		r >= 0xe0100 && r <= 0xe01ef || r == 0x2028 || r == 0x2029
}
