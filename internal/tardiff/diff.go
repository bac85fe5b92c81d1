package tardiff

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/airlockdev/airlock/internal/bytesize"
)

// Options controls Compare.
type Options struct {
	// Patch adds a unified diff to every changed text file.
	Patch bool
	// Context is the lines of context around a patch's changes; 0
	// means 3, as git and npm diff show.
	Context int
}

// Result is what changed from one package to the other.
type Result struct {
	Old Side `json:"old"`
	New Side `json:"new"`
	// Files are the files added, removed or changed, by path.
	Files []FileChange `json:"files"`
	// Signals are sorted by severity, highest first, then by ID.
	Signals []Signal `json:"signals"`
}

// Side describes one of the packages compared.
type Side struct {
	Label        string `json:"label"`
	Name         string `json:"name"`
	Version      string `json:"version"`
	Files        int    `json:"fileCount"`
	Size         int64  `json:"size"`
	UnpackedSize int64  `json:"unpackedSize"`
	Integrity    string `json:"integrity"`
	Shasum       string `json:"shasum"`
	// Provenance is absent when it was not looked for.
	Provenance *Provenance `json:"provenance,omitempty"`
}

// The ways a file can change.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
	// ModeOnly is a file whose contents are the same and mode is not.
	ModeOnly = "mode"
)

// FileChange is one file that differs.
type FileChange struct {
	// ID is "file:" and the path: stable, like a signal's.
	ID      string `json:"id"`
	Path    string `json:"path"`
	Status  string `json:"status"`
	OldSize int64  `json:"oldSize"`
	NewSize int64  `json:"newSize"`
	// OldMode and NewMode are octal permission bits, "" for a side
	// without the file.
	OldMode string `json:"oldMode,omitempty"`
	NewMode string `json:"newMode,omitempty"`
	// Binary is true when either side is not text (or too large to
	// diff): it has no patch.
	Binary bool `json:"binary,omitempty"`
	// Patch is the unified diff of a text file, with Options.Patch.
	Patch string `json:"patch,omitempty"`
}

func modeString(m fs.FileMode) string { return fmt.Sprintf("%o", m.Perm()) }

// Compare finds what changed from old to new and the signals in it.
func Compare(old, new *Package, o Options) *Result {
	if o.Context <= 0 {
		o.Context = 3
	}
	r := &Result{Old: side(old), New: side(new), Files: []FileChange{}, Signals: []Signal{}}
	oldFiles := index(old)
	newFiles := index(new)
	changed := map[string]bool{}
	var removed []*File
	for _, n := range sortedFiles(new) {
		f := oldFiles[n.Path]
		fc := FileChange{ID: "file:" + n.Path, Path: n.Path, NewSize: n.Size, NewMode: modeString(n.Mode)}
		switch {
		case f == nil:
			fc.Status = Added
		case f.Digest != n.Digest:
			fc.Status, fc.OldSize, fc.OldMode = Changed, f.Size, modeString(f.Mode)
		case f.Mode != n.Mode:
			fc.Status, fc.OldSize, fc.OldMode = ModeOnly, f.Size, modeString(f.Mode)
		default:
			continue
		}
		if fc.Status != ModeOnly {
			changed[n.Path] = true
			fc.Binary = !diffable(n) || (f != nil && !diffable(f))
			if o.Patch && !fc.Binary {
				var a []byte
				if f != nil {
					a = f.Data
				}
				fc.Patch = Unified(a, n.Data, o.Context)
			}
		}
		r.Files = append(r.Files, fc)
	}
	for _, f := range sortedFiles(old) {
		if newFiles[f.Path] == nil {
			removed = append(removed, f)
			fc := FileChange{ID: "file:" + f.Path, Path: f.Path, Status: Removed, OldSize: f.Size, OldMode: modeString(f.Mode), Binary: !diffable(f)}
			if o.Patch && !fc.Binary {
				fc.Patch = Unified(f.Data, nil, o.Context)
			}
			r.Files = append(r.Files, fc)
		}
	}
	sort.SliceStable(r.Files, func(i, j int) bool { return r.Files[i].Path < r.Files[j].Path })

	sigs := manifestSignals(old, new, changed)
	sigs = append(sigs, contentSignals(old, new, oldFiles, removed, r.Files)...)
	sigs = append(sigs, packageSignals(old, new)...)
	sigs = append(sigs, provenanceSignals(old.Provenance, new.Provenance)...)
	sort.SliceStable(sigs, func(i, j int) bool {
		if sigs[i].Severity != sigs[j].Severity {
			return sigs[i].Severity > sigs[j].Severity
		}
		return sigs[i].ID < sigs[j].ID
	})
	r.Signals = append(r.Signals, dedupe(sigs)...)
	return r
}

// dedupe keeps the first signal of each ID: the most severe, as sorted.
func dedupe(sigs []Signal) []Signal {
	seen := map[string]bool{}
	out := sigs[:0]
	for _, s := range sigs {
		if !seen[s.ID] {
			seen[s.ID] = true
			out = append(out, s)
		}
	}
	return out
}

func side(p *Package) Side {
	return Side{Label: p.Label, Name: p.Manifest.Name, Version: p.Manifest.Version, Files: len(p.Files), Size: p.Size,
		UnpackedSize: p.UnpackedSize, Integrity: p.Integrity, Shasum: p.Shasum, Provenance: p.Provenance}
}

func index(p *Package) map[string]*File {
	m := make(map[string]*File, len(p.Files))
	for i := range p.Files {
		m[p.Files[i].Path] = &p.Files[i]
	}
	return m
}

func sortedFiles(p *Package) []*File {
	out := make([]*File, len(p.Files))
	for i := range p.Files {
		out[i] = &p.Files[i]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// diffable is a text file held whole.
func diffable(f *File) bool { return !f.Partial && isText(f.Data) }

// contentSignals looks into every added or changed file.
func contentSignals(old, new *Package, oldFiles map[string]*File, removed []*File, changes []FileChange) []Signal {
	var out []Signal
	newFiles := index(new)
	bins := map[string]bool{}
	for _, t := range new.Manifest.Bin {
		bins[strings.TrimPrefix(t, "./")] = true
	}
	// URLs and addresses already in the old code, in the files that
	// changed or went (code moves between files).
	knownURL, knownIP := map[string]bool{}, map[string]bool{}
	remember := func(f *File) {
		if f != nil && !f.Partial && isText(f.Data) && isJS(f.Path, f.Data) {
			js := scanJS(f.Data)
			for u := range js.urls {
				knownURL[u] = true
			}
			for ip := range js.ips {
				knownIP[ip] = true
			}
		}
	}
	for _, f := range removed {
		remember(f)
	}
	for _, c := range changes {
		if c.Status == Changed {
			remember(oldFiles[c.Path])
		}
	}
	for _, c := range changes {
		n := newFiles[c.Path]
		if n == nil {
			continue
		}
		o := oldFiles[c.Path]
		if c.Status == ModeOnly {
			if o.Mode&0o111 == 0 && n.Mode&0o111 != 0 {
				out = append(out, Signal{ID: signalID(KindExecutable, n.Path), Kind: KindExecutable, Severity: Low, File: n.Path,
					Old: modeString(o.Mode), New: modeString(n.Mode), Message: fmt.Sprintf("%s became executable (%s, was %s)", n.Path, modeString(n.Mode), modeString(o.Mode))})
			}
			continue
		}
		out = append(out, fileSignals(o, n, bins[n.Path], knownURL, knownIP)...)
	}
	return out
}

func fileSignals(o, n *File, isBin bool, knownURL, knownIP map[string]bool) []Signal {
	var out []Signal
	sig := func(kind string, sev Severity, line int, format string, args ...any) {
		out = append(out, Signal{ID: signalID(kind, n.Path), Kind: kind, Severity: sev, File: n.Path, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	where := func(line int) string {
		if line > 0 {
			return fmt.Sprintf("%s:%d", n.Path, line)
		}
		return n.Path
	}
	isNew := o == nil
	if kind := binaryKind(n.Path, n.Data); kind != "" {
		was := ""
		if o != nil {
			was = binaryKind(o.Path, o.Data)
		}
		sev, what := High, "new"
		if kind == "wasm" {
			sev = Medium
		}
		if was == kind {
			sev, what = Medium, "changed"
		}
		k := KindNativeBinary
		if kind == "wasm" {
			k = KindWasm
		}
		sig(k, sev, 0, "%s: %s %s binary (%s): machine code cannot be reviewed; it runs when the package loads it", n.Path, what, kind, bytesize.String(n.Size))
		if n.Partial {
			return out
		}
	}
	if n.Partial {
		sig(KindUnscanned, Medium, 0, "%s: %s bytes, too large to scan or diff", n.Path, bytesize.String(n.Size))
		return out
	}
	if !isText(n.Data) {
		return out
	}
	var ou unicodeFeatures
	if o != nil && !o.Partial {
		ou = scanUnicode(o.Data)
	}
	nu := scanUnicode(n.Data)
	switch {
	case nu.bidi.count > ou.bidi.count || nu.hidden.count > ou.hidden.count:
		line := nu.bidi.line
		if nu.bidi.count <= ou.bidi.count || (nu.hidden.count > ou.hidden.count && nu.hidden.line < line) {
			line = nu.hidden.line
		}
		sig(KindInvisibleUnicode, High, line, "%s: invisible or bidirectional characters: the text does not read as it runs (bidi controls in %s, was %d; tag characters, variation selectors and fillers in %s, was %d)",
			where(line), countWord(nu.bidi.count), ou.bidi.count, countWord(nu.hidden.count), ou.hidden.count)
	case nu.zeroWidth.count > ou.zeroWidth.count:
		sig(KindInvisibleUnicode, Medium, nu.zeroWidth.line, "%s: zero-width characters in %s, was %d", where(nu.zeroWidth.line), countWord(nu.zeroWidth.count), ou.zeroWidth.count)
	}
	if !isJS(n.Path, n.Data) && !isBin {
		return out
	}
	var oj jsFeatures
	if o != nil && !o.Partial && isText(o.Data) {
		oj = scanJS(o.Data)
	}
	nj := scanJS(n.Data)
	cmp := func(kind string, sev Severity, nf, of feature, what string) bool {
		if nf.count <= of.count {
			return false
		}
		if isNew {
			sig(kind, sev, nf.line, "%s: %s (%s, in a new file)", where(nf.line), what, countWord(nf.count))
		} else {
			sig(kind, sev, nf.line, "%s: %s (%s, was %d)", where(nf.line), what, countWord(nf.count), of.count)
		}
		return true
	}
	if nj.longestLine >= minifiedLine && oj.longestLine < minifiedLine {
		sig(KindMinified, Medium, 0, "%s: minified (a %d-byte line): it cannot be reviewed as source; compare it with a build from the source", n.Path, nj.longestLine)
	}
	obf := cmp(KindObfuscated, High, nj.hexIdents, oj.hexIdents, "_0x identifiers, the mark of an obfuscator")
	if !obf {
		cmp(KindObfuscated, High, nj.charCodes, oj.charCodes, "String.fromCharCode with long runs of numbers, which spells out hidden text")
	}
	cmp(KindEncodedData, Medium, nj.base64, oj.base64, "long base64 runs, which can hide code or data")
	cmp(KindDynamicCode, High, nj.dynamicCode, oj.dynamicCode, "eval or new Function, which run code made from strings")
	cmp(KindChildProcess, High, nj.childProcess, oj.childProcess, "starts processes (child_process)")
	net := cmp(KindNetwork, Medium, nj.network, oj.network, "uses the network (http, https, net, dgram, tls, dns, fetch, WebSocket)")
	env := cmp(KindEnv, Low, nj.env, oj.env, "reads environment variables (process.env)")
	cred := cmp(KindCredentialFile, High, nj.credential, oj.credential, "names credential files or tokens (.npmrc, .ssh, .aws, NPM_TOKEN, …)")
	if net && (env || cred) {
		sig(KindExfiltration, High, nj.network.line, "%s: newly reads %s and uses the network, the shape of credential theft", n.Path, map[bool]string{true: "credentials", false: "the environment"}[cred])
	}
	if urls := newValues(nj.urls, knownURL); len(urls) > 0 {
		sig(KindURL, Low, nj.urls[urls[0]], "%s: new URLs: %s", where(nj.urls[urls[0]]), list(urls))
	}
	if ips := newValues(nj.ips, knownIP); len(ips) > 0 {
		sig(KindIPAddress, Medium, nj.ips[ips[0]], "%s: new IP addresses: %s", where(nj.ips[ips[0]]), list(ips))
	}
	return out
}

// newValues lists the values of found not in known, by first line.
func newValues(found map[string]int, known map[string]bool) []string {
	var out []string
	for v := range found {
		if !known[v] {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if found[out[i]] != found[out[j]] {
			return found[out[i]] < found[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

func list(vs []string) string {
	const most = 5
	shownVs := make([]string, 0, most)
	for _, v := range vs[:min(len(vs), most)] {
		shownVs = append(shownVs, shown(v))
	}
	s := strings.Join(shownVs, ", ")
	if len(vs) > most {
		s += fmt.Sprintf(" and %d more", len(vs)-most)
	}
	return s
}

func countWord(n int) string {
	if n == 1 {
		return "1 place"
	}
	return fmt.Sprintf("%d places", n)
}

// packageSignals compare the packages as wholes: name, version, size.
func packageSignals(old, new *Package) []Signal {
	var out []Signal
	om, nm := old.Manifest, new.Manifest
	if om.Name != nm.Name {
		out = append(out, Signal{ID: KindName, Kind: KindName, Severity: Medium, Field: "name", Old: om.Name, New: nm.Name,
			Message: fmt.Sprintf("these are different packages: %s and %s", om.Name, nm.Name)})
	}
	switch versionStep(om.Version, nm.Version) {
	case "backwards":
		out = append(out, Signal{ID: KindVersionBackwards, Kind: KindVersionBackwards, Severity: Medium, Field: "version", Old: om.Version, New: nm.Version,
			Message: fmt.Sprintf("the version goes backwards: %s after %s", nm.Version, om.Version)})
	case "skip":
		out = append(out, Signal{ID: KindVersionSkip, Kind: KindVersionSkip, Severity: Low, Field: "version", Old: om.Version, New: nm.Version,
			Message: fmt.Sprintf("the version skips: %s after %s", nm.Version, om.Version)})
	}
	grewSize := new.UnpackedSize > 2*old.UnpackedSize && new.UnpackedSize-old.UnpackedSize > 1<<20
	grewFiles := len(new.Files) > 2*len(old.Files) && len(new.Files)-len(old.Files) >= 50
	if grewSize || grewFiles {
		out = append(out, Signal{ID: KindSize, Kind: KindSize, Severity: Low,
			Old: fmt.Sprintf("%d files, %s", len(old.Files), bytesize.String(old.UnpackedSize)), New: fmt.Sprintf("%d files, %s", len(new.Files), bytesize.String(new.UnpackedSize)),
			Message: fmt.Sprintf("the package grew: %d files and %s unpacked, was %d files and %s", len(new.Files), bytesize.String(new.UnpackedSize), len(old.Files), bytesize.String(old.UnpackedSize))})
	}
	return out
}
