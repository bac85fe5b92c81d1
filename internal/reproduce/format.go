package reproduce

import (
	"fmt"
	"io"
	"strings"

	"github.com/airlockdev/airlock/internal/tardiff"
)

// Headline is the first line of a report: "reproduced: …" or "not
// reproduced: …".
func (r *Result) Headline() string {
	from := r.Source
	if r.Subdir != "" {
		from += " (" + r.Subdir + ")"
	}
	if r.Commit != "" {
		from += " at " + r.Commit
	}
	word := "reproduced"
	if !r.Reproduced {
		word = "not reproduced"
	}
	what := r.Summary()
	if r.Reproduced && !r.SameBytes {
		what += " (the compression differs)"
	}
	return fmt.Sprintf("%s: %s@%s from %s: %s", word, r.Name, r.Version, from, what)
}

// WriteText writes the report: the headline, then every difference, and
// the patches from the rebuild to the tarball.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	b.WriteString(r.Headline() + "\n")
	list := func(title string, paths []string) {
		if len(paths) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s:\n", title)
		for _, p := range paths {
			b.WriteString("  " + tardiff.Visible(p) + "\n")
		}
	}
	list("tracked by git with other contents: changed after checkout, the strongest sign of a tampered build", r.Tampered)
	if len(r.FromBuild) > 0 {
		why := "in neither git nor the rebuild: added after checkout, or made by a build package.json does not run"
		if len(r.Scripts) > 0 && !r.ScriptsRun {
			why = fmt.Sprintf("made by the build (%s did not run; --run-scripts runs them, and with them the package's code)", strings.Join(r.Scripts, ", "))
		}
		list("could not be checked: "+why, r.FromBuild)
	}
	list("only in the tarball", r.OnlyInTarball)
	list("only in the rebuild", r.OnlyInRebuild)
	if len(r.Changed) > 0 {
		var paths []string
		for _, c := range r.Changed {
			p := c.Path
			if c.RebuildMode != c.TarballMode {
				p += fmt.Sprintf(" (mode %s in the rebuild, %s in the tarball)", c.RebuildMode, c.TarballMode)
			}
			paths = append(paths, p)
		}
		list("changed", paths)
	}
	if len(r.PackageJSON) > 0 {
		b.WriteString("\npackage.json fields that differ:\n")
		for _, f := range r.PackageJSON {
			fmt.Fprintf(&b, "  %s: %s in the rebuild, %s in the tarball\n", tardiff.Visible(f.Name), orAbsent(f.Rebuild), orAbsent(f.Tarball))
		}
	}
	if !r.Git && !r.Reproduced {
		b.WriteString("\nthe source is not a git checkout: files from a build cannot be told from files changed by hand\n")
	}
	patched := false
	for _, c := range r.Changed {
		if c.Patch == "" && !c.Binary {
			continue
		}
		if !patched {
			b.WriteString("\npatch from the rebuild to the tarball:\n")
			patched = true
		}
		p := tardiff.Visible(c.Path)
		fmt.Fprintf(&b, "diff --git a/%s b/%s\n", p, p)
		if c.Binary {
			fmt.Fprintf(&b, "Binary files a/%s and b/%s differ\n", p, p)
			continue
		}
		fmt.Fprintf(&b, "--- a/%s\n+++ b/%s\n", p, p)
		for _, line := range strings.SplitAfter(c.Patch, "\n") {
			body, nl := strings.CutSuffix(line, "\n")
			b.WriteString(tardiff.Visible(body))
			if nl {
				b.WriteByte('\n')
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}
