package tardiff

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
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
	fmt.Fprintf(b, "); unpacked %s → %s; tarball %s → %s\n", sizeString(r.Old.UnpackedSize), sizeString(r.New.UnpackedSize), sizeString(r.Old.Size), sizeString(r.New.Size))
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
		return fmt.Sprintf("A  %s  (%s)", Visible(f.Path), sizeString(f.NewSize))
	case Removed:
		return fmt.Sprintf("D  %s  (%s)", Visible(f.Path), sizeString(f.OldSize))
	case ModeOnly:
		return fmt.Sprintf("m  %s  (mode %s → %s)", Visible(f.Path), f.OldMode, f.NewMode)
	}
	s := fmt.Sprintf("M  %s  (%s → %s", Visible(f.Path), sizeString(f.OldSize), sizeString(f.NewSize))
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

// WriteNames writes the paths of the files that differ, one a line.
func WriteNames(w io.Writer, r *Result) error {
	var b strings.Builder
	for _, f := range r.Files {
		b.WriteString(Visible(f.Path) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WritePatch writes a git-style patch of every file that differs, with
// npm diff's index line (the two versions). Lines are written so that a
// terminal shows what they hold: control characters (but tab) and
// invisible or bidirectional characters appear as escapes (\x1b,
// <U+202E>), so such a patch is for reading, not for git apply.
func WritePatch(w io.Writer, r *Result) error {
	var b strings.Builder
	for _, f := range r.Files {
		fmt.Fprintf(&b, "diff --git a/%s b/%s\n", Visible(f.Path), Visible(f.Path))
		switch {
		case f.Status == Added:
			fmt.Fprintf(&b, "new file mode 100%s\n", f.NewMode)
		case f.Status == Removed:
			fmt.Fprintf(&b, "deleted file mode 100%s\n", f.OldMode)
		case f.OldMode != f.NewMode:
			fmt.Fprintf(&b, "old mode 100%s\nnew mode 100%s\n", f.OldMode, f.NewMode)
		}
		if f.Status == ModeOnly {
			continue
		}
		fmt.Fprintf(&b, "index v%s..v%s", r.Old.Version, r.New.Version)
		if f.Status == Changed && f.OldMode == f.NewMode {
			fmt.Fprintf(&b, " 100%s", f.NewMode)
		}
		b.WriteString("\n")
		from, to := "a/"+Visible(f.Path), "b/"+Visible(f.Path)
		if f.Status == Added {
			from = "/dev/null"
		}
		if f.Status == Removed {
			to = "/dev/null"
		}
		if f.Binary {
			fmt.Fprintf(&b, "Binary files %s and %s differ\n", from, to)
			continue
		}
		fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, to)
		for _, line := range strings.SplitAfter(f.Patch, "\n") {
			body, nl := strings.CutSuffix(line, "\n")
			b.WriteString(Visible(body))
			if nl {
				b.WriteByte('\n')
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

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
