package tardiff

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
)

// A fixture is a txtar archive: old/... and new/... are the two
// packages' files; "setup" lines change them (mode PATH OCTAL, hex PATH
// HEX, fill PATH BYTES, files PREFIX COUNT, limit maxfile N, provenance
// old|new key=value...); "want" lines are signal IDs with their severity
// ("ID high"), IDs that must not appear ("!ID"), and "max SEVERITY", the
// highest any signal may have.

type fixture struct {
	name     string
	old, new map[string]*fixtureFile
	oldProv  *Provenance
	newProv  *Provenance
	limits   Limits
	want     map[string]Severity
	wantNot  []string
	max      *Severity
}

type fixtureFile struct {
	data []byte
	mode int64
}

func loadFixture(t *testing.T, file string) *fixture {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{name: filepath.Base(file), old: map[string]*fixtureFile{}, new: map[string]*fixtureFile{}, want: map[string]Severity{}}
	side := func(p string) (map[string]*fixtureFile, string) {
		if rest, ok := strings.CutPrefix(p, "old/"); ok {
			return fx.old, rest
		}
		if rest, ok := strings.CutPrefix(p, "new/"); ok {
			return fx.new, rest
		}
		t.Fatalf("%s: %q is neither old/ nor new/", file, p)
		return nil, ""
	}
	var setup, want []byte
	for _, f := range ar.Files {
		switch f.Name {
		case "setup":
			setup = f.Data
		case "want":
			want = f.Data
		default:
			m, p := side(f.Name)
			m[p] = &fixtureFile{data: f.Data, mode: 0o644}
		}
	}
	for _, line := range strings.Split(string(setup), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch fields[0] {
		case "mode":
			m, p := side(fields[1])
			mode, _ := strconv.ParseInt(fields[2], 8, 64)
			m[p].mode = mode
		case "hex":
			m, p := side(fields[1])
			data, err := hex.DecodeString(strings.Join(fields[2:], ""))
			if err != nil {
				t.Fatal(err)
			}
			m[p] = &fixtureFile{data: data, mode: 0o644}
		case "fill":
			m, p := side(fields[1])
			n, _ := strconv.Atoi(fields[2])
			m[p] = &fixtureFile{data: bytes.Repeat([]byte("lorem ipsum\n"), n/12+1)[:n], mode: 0o644}
		case "files":
			m, p := side(fields[1])
			n, _ := strconv.Atoi(fields[2])
			for i := range n {
				m[fmt.Sprintf("%s%d.txt", p, i)] = &fixtureFile{data: []byte("x\n"), mode: 0o644}
			}
		case "limit":
			n, _ := strconv.ParseInt(fields[2], 10, 64)
			fx.limits.MaxFile = n
		case "provenance":
			p := &Provenance{}
			for _, kv := range fields[2:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "found":
					p.Found = v == "true"
				case "verified":
					p.Verified = v == "true"
				case "repository":
					p.Repository = v
				case "workflow":
					p.Workflow = v
				case "issuer":
					p.Issuer = v
				case "runner":
					p.Runner = v
				case "error":
					p.Error = v
				default:
					t.Fatalf("%s: provenance key %q", file, k)
				}
			}
			if fields[1] == "old" {
				fx.oldProv = p
			} else {
				fx.newProv = p
			}
		default:
			t.Fatalf("%s: unknown setup %q", file, line)
		}
	}
	for _, line := range strings.Split(string(want), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0 || strings.HasPrefix(fields[0], "#"):
		case fields[0] == "max":
			s, err := ParseSeverity(fields[1])
			if err != nil {
				t.Fatal(err)
			}
			fx.max = &s
		case strings.HasPrefix(fields[0], "!"):
			fx.wantNot = append(fx.wantNot, fields[0][1:])
		case len(fields) == 2:
			s, err := ParseSeverity(fields[1])
			if err != nil {
				t.Fatal(err)
			}
			fx.want[fields[0]] = s
		default:
			t.Fatalf("%s: want line %q", file, line)
		}
	}
	return fx
}

// tarball packs files as npm does: package/ prefix, sorted, gzip.
func tarball(t testing.TB, files map[string]*fixtureFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	mtime := time.Date(1985, 10, 26, 8, 15, 0, 0, time.UTC)
	for _, n := range names {
		f := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + n, Mode: f.mode, Size: int64(len(f.data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

func (fx *fixture) compare(t *testing.T, o Options) *Result {
	t.Helper()
	old, err := Read(t.Context(), "old.tgz", tarball(t, fx.old), fx.limits)
	if err != nil {
		t.Fatalf("reading old: %v", err)
	}
	new, err := Read(t.Context(), "new.tgz", tarball(t, fx.new), fx.limits)
	if err != nil {
		t.Fatalf("reading new: %v", err)
	}
	old.Provenance, new.Provenance = fx.oldProv, fx.newProv
	return Compare(old, new, o)
}

func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("../../testdata/tardiff/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	kinds := map[string]bool{}
	for _, file := range files {
		fx := loadFixture(t, file)
		t.Run(strings.TrimSuffix(fx.name, ".txtar"), func(t *testing.T) {
			r := fx.compare(t, Options{Patch: true})
			got := map[string]Signal{}
			for _, s := range r.Signals {
				got[s.ID] = s
			}
			var report strings.Builder
			WriteSignals(&report, r.Signals)
			for id, sev := range fx.want {
				s, ok := got[id]
				switch {
				case !ok:
					t.Errorf("no signal %s; got:\n%s", id, report.String())
				case s.Severity != sev:
					t.Errorf("%s is %s, want %s", id, s.Severity, sev)
				}
				kinds[strings.SplitN(id, ":", 2)[0]] = true
			}
			for _, id := range fx.wantNot {
				if _, ok := got[id]; ok {
					t.Errorf("unexpected signal %s; got:\n%s", id, report.String())
				}
			}
			if fx.max != nil {
				for _, s := range r.Signals {
					if s.Severity > *fx.max {
						t.Errorf("signal above %s: %s %s: %s", *fx.max, s.Severity, s.ID, s.Message)
					}
				}
			}
		})
	}
	// Every kind has a fixture that finds it.
	for _, k := range allKinds {
		if !kinds[k] {
			t.Errorf("no fixture finds a %s signal", k)
		}
	}
}

var allKinds = []string{
	KindInstallScript, KindInstallScriptRemoved, KindImplicitInstallScript, KindInstallScriptFile,
	KindBinAdded, KindBinChanged, KindBinRemoved, KindDependencyAdded, KindDependencyChanged,
	KindDependencyRemoved, KindDependencySource, KindDependencyAlias, KindBundledDependency,
	KindEntryPoint, KindFilesField, KindNativeBinary, KindWasm, KindMinified, KindObfuscated,
	KindEncodedData, KindDynamicCode, KindChildProcess, KindNetwork, KindEnv, KindExfiltration,
	KindCredentialFile, KindURL, KindIPAddress, KindInvisibleUnicode, KindUnscanned, KindExecutable,
	KindSize, KindVersionBackwards, KindVersionSkip, KindName, KindProvenanceMissing,
	KindProvenanceInvalid, KindProvenanceRepository, KindProvenanceWorkflow, KindProvenanceBuilder,
	KindProvenanceAdded,
}
