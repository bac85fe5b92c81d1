package pack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/airlockdev/airlock/internal/gitrepo"
	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/lifecycle"
	"github.com/airlockdev/airlock/internal/manifest"
	"github.com/airlockdev/airlock/internal/publishdoc"
)

// The checks of the pack job that look ahead: what an install of the
// published package, or the publish job, will make of the tarball.

// checkLocalSpecs refuses dependencies that only resolve in the source
// tree, as the publish job refuses them, and warns of such
// devDependencies. data is the package.json being packed (named file in
// messages), after the scripts: a prepack step may rewrite the specs.
func checkLocalSpecs(file string, data []byte, log *slog.Logger) error {
	if err := manifest.CheckLocalSpecs(data, func(w string) { log.Warn(w) }); err != nil {
		return &manifest.Error{File: file, Err: err}
	}
	return nil
}

// earlierPacks lists the selected files an earlier pack wrote: this
// package's tarballs (any version) and receipts, and the temporary files
// of a pack that was stopped. npm packs them too, so they stay selected.
func earlierPacks(files []string, name string) []string {
	prefix := strings.TrimSuffix(Filename(name, "0"), "0.tgz") // "scope-name-"
	var out []string
	for _, f := range files {
		f = strings.TrimPrefix(f, "./")
		if strings.HasPrefix(f, "node_modules/") {
			continue
		}
		b := path.Base(f)
		switch {
		case strings.HasPrefix(b, prefix) && strings.HasSuffix(b, ".tgz"),
			strings.HasSuffix(b, ".tgz"+ReceiptSuffix),
			strings.HasPrefix(b, ".airlock-pack-") && strings.HasSuffix(b, ".tgz.tmp"),
			strings.HasPrefix(b, ".airlock-receipt-") && strings.HasSuffix(b, ".tmp"):
			out = append(out, f)
		}
	}
	return out
}

// missingTargets describes "main" and "bin" targets the tarball lacks.
//
// "main" is resolved as Node's require resolves a package folder: the
// path itself, then with .js, .json or .node added, then index.js,
// index.json or index.node inside it. Node's deprecated last resort, the
// package's own index.js, does not count. A "bin" target must be in the
// tarball as written (npm links it as is); a folder counts when it holds
// a file.
func missingTargets(m *manifest.Manifest, files []File) []string {
	have := make(map[string]bool, len(files))
	dirs := map[string]bool{}
	for _, f := range files {
		have[f.Path] = true
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var out []string
	if main, ok := m.Raw["main"].(string); ok && main != "" && !mainFound(main, have) {
		out = append(out, fmt.Sprintf(`"main" is %q, which is not in the tarball: require(%q) will fail; build it before packing (in a prepack script, say) or fix "main" in package.json`, main, m.Name))
	}
	names := make([]string, 0, len(m.Bin))
	for n := range m.Bin {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := strings.TrimSuffix(m.Bin[n], "/")
		if have[t] || dirs[t] {
			continue
		}
		out = append(out, fmt.Sprintf(`"bin" %q points to %q, which is not in the tarball: the command will not work once installed; build it before packing (in a prepack script, say) or fix "bin" in package.json`, n, m.Bin[n]))
	}
	return out
}

func mainFound(main string, have map[string]bool) bool {
	if strings.HasPrefix(main, "/") {
		return false
	}
	p := path.Clean(main)
	if p == ".." || strings.HasPrefix(p, "../") {
		return false
	}
	var tries []string
	if p != "." {
		tries = append(tries, p, p+".js", p+".json", p+".node")
	}
	for _, idx := range []string{"index.js", "index.json", "index.node"} {
		tries = append(tries, path.Join(p, idx))
	}
	for _, t := range tries {
		if have[t] {
			return true
		}
	}
	return false
}

// publishCheck runs the publish job's inspection, with its default
// limits, on the tarball while it is written, so a dry run is checked too.
// It reads the tar stream on its way into the compressor rather than
// inflating the .tgz again: the same checks but those of the gzip layer,
// which is airlock's own (round-trip tested against Go's inflater, and
// inspected again by publish), and inflating costs a core time.
// The compression ratio is the one limit checked afterwards, from the
// sizes: the publish job measures it against the whole file's size, which
// is not known until the end.
type publishCheck struct {
	ctx  context.Context
	pw   *io.PipeWriter
	done chan error
}

// ratioGrace is inspect's: the ratio limit applies past this many
// unpacked bytes. TestPackWarnsOfWhatPublishRefuses keeps the two in step.
const ratioGrace = 4 << 20

func startPublishCheck(ctx context.Context) *publishCheck {
	pr, pw := io.Pipe()
	c := &publishCheck{ctx: ctx, pw: pw, done: make(chan error, 1)}
	go func() {
		_, _, err := inspect.TarKeeping(ctx, pr, inspect.DefaultLimits(), publishdoc.Wants)
		io.Copy(io.Discard, pr) // the writer never blocks on a finished check
		c.done <- err
	}()
	return c
}

func (c *publishCheck) Write(p []byte) (int, error) { return c.pw.Write(p) }

// finish ends the check. With err nil the tarball is complete and the
// refusal, if any, is returned; otherwise the check is abandoned.
func (c *publishCheck) finish(err error, unpacked, compressed int64) error {
	if err != nil {
		c.pw.CloseWithError(err)
		<-c.done
		return nil
	}
	c.pw.Close()
	if err := <-c.done; err != nil {
		if c.ctx.Err() != nil {
			return nil // stopped, not refused
		}
		return err
	}
	lim := inspect.DefaultLimits()
	if unpacked > ratioGrace && float64(unpacked) > lim.MaxRatio*float64(compressed) {
		return hint.With(&inspect.EntryError{
			Reason: fmt.Sprintf("compression ratio above %g: %d bytes unpacked from %d", lim.MaxRatio, unpacked, compressed),
			Err:    inspect.ErrLimit,
		}, limitAdvice)
	}
	return nil
}

const limitAdvice = "the limits protect the publish job from decompression bombs; a real package this big usually includes files by mistake: check the \"files\" field and .npmignore"

// refusalWarning words a refusal of the publish job as a warning.
func refusalWarning(err error) string {
	msg := "airlock publish will refuse this tarball: " + err.Error()
	if h := hint.Of(err); h != "" {
		msg += "; " + h
	}
	if errors.Is(err, inspect.ErrLimit) {
		msg += "; if it is right, raise the limit in the publish job (airlock publish --max-entries, --max-entry-size, --max-unpacked-size, --max-ratio)"
	}
	return msg
}

// gitState is what the receipt says of the source checkout.
type gitState struct {
	commit string
	// dirty is nil when unknown (no git program, or git failed).
	dirty *bool
}

// readGit finds the commit dir is at and whether the checkout differs from
// it: a tracked file changed in the index or the worktree, anywhere in
// the checkout (a build may read it), or an untracked file selected for
// packing. Ignored files, such as build output, do not count.
func readGit(ctx context.Context, dir string, files []string, env []string, log *slog.Logger) gitState {
	v := loadGit(ctx, dir, env, log)
	st, changed := v.stateOf(dir, files)
	v.warnDirty(changed, log)
	return st
}

// gitView is what git says of a checkout: its commit, and its changes
// when git could tell (changes nil otherwise).
type gitView struct {
	commit  string
	changes *gitrepo.Changes
}

func loadGit(ctx context.Context, dir string, env []string, log *slog.Logger) *gitView {
	commit, err := gitrepo.Head(dir)
	if err != nil {
		if !errors.Is(err, gitrepo.ErrNotRepository) {
			log.Debug("no git commit for the receipt", "err", err)
		}
		return &gitView{}
	}
	v := &gitView{commit: commit}
	c, err := gitrepo.Status(ctx, dir, env)
	switch {
	case errors.Is(err, gitrepo.ErrNoGit):
		log.Debug("git is not on PATH, so the receipt does not say whether the checkout is dirty (no gitDirty)")
	case err != nil:
		log.Warn("could not tell whether the git checkout has changes, so the receipt leaves gitDirty out; fix what git reports to record it", "err", err)
	default:
		v.changes = c
	}
	return v
}

// stateOf is the receipt's view for files packed from dir, and the
// changes that make it dirty.
func (v *gitView) stateOf(dir string, files []string) (gitState, []string) {
	st := gitState{commit: v.commit}
	if v.commit == "" || v.changes == nil {
		return st, nil
	}
	c := v.changes
	changed := append([]string(nil), c.Tracked...)
	rel, err := filepath.Rel(c.Top, dir)
	if err != nil {
		rel = "."
	}
	rel = filepath.ToSlash(rel)
	selected := make(map[string]bool, len(files))
	for _, f := range files {
		selected[path.Join(rel, strings.TrimPrefix(f, "./"))] = true
	}
	for _, u := range c.Untracked {
		if selected[u] {
			changed = append(changed, u)
		}
	}
	dirty := len(changed) > 0
	st.dirty = &dirty
	return st, changed
}

func (v *gitView) warnDirty(changed []string, log *slog.Logger) {
	if len(changed) > 0 {
		log.Warn(fmt.Sprintf("the git checkout differs from commit %.12s, so the tarball may not be rebuilt from it (the receipt says gitDirty: true); commit the changes before packing, and list files the build makes in .gitignore", v.commit),
			"changed", changed[0], "count", len(changed))
	}
}

// scriptHint attaches advice to a failed lifecycle script.
func scriptHint(err error, tarball string) error {
	var se *lifecycle.ScriptError
	if !errors.As(err, &se) {
		return err
	}
	var advice string
	switch {
	case se.Signal != 0:
		advice = "something stopped the script from outside: running out of memory or a job timeout are the usual causes; its output is above"
	case se.Event == "postpack":
		advice = fmt.Sprintf("postpack runs after the tarball is written: %s is there, but no CI outputs were written; fix the script (its output is above) and pack again", tarball)
	case se.ExitCode == 127:
		advice = "exit code 127 is the shell's \"command not found\": install the package's dependencies before packing (npm ci), so that node_modules/.bin is on the script's PATH, or fix the command's name; the output is above"
	default:
		advice = "the script's output is above: fix the script and pack again; if an earlier step of the job already built the package, --ignore-scripts packs without running prepublishOnly, prepack, prepare or postpack"
	}
	return hint.With(err, advice)
}
