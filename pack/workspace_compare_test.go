package pack

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
	"github.com/airlockdev/airlock/internal/workspace"
)

// The workspace fixtures in testdata/workspace/<manager> are whole
// workspaces. Each is packed by airlock and by the real manager, package
// by package, and the contents must agree: the file list, every file's
// bytes and mode, and package.json (byte for byte for yarn and npm; for
// pnpm 10, whose dependency key order depends on which lookup finishes
// first, with the keys of the dependency maps sorted on both sides).

func TestWorkspaceFixturesMatchPNPM(t *testing.T) {
	runWorkspaceFixtures(t, workspace.PNPM)
}

func TestWorkspaceFixturesMatchYarn(t *testing.T) {
	runWorkspaceFixtures(t, workspace.Yarn)
}

func TestWorkspaceFixturesMatchNPM(t *testing.T) {
	runWorkspaceFixtures(t, workspace.NPM)
}

func runWorkspaceFixtures(t *testing.T, m workspace.Manager) {
	switch m { // fail at once, not per fixture, when the tool is missing
	case workspace.PNPM:
		npmtest.PNPM(t)
	case workspace.Yarn:
		npmtest.Yarn(t)
	default:
		npmtest.NPM(t)
	}
	paths, err := filepath.Glob(filepath.Join("../testdata/workspace", string(m), "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in ../testdata/workspace/%s (err %v)", m, err)
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".txtar"), func(t *testing.T) {
			t.Parallel()
			checkWorkspaceFixture(t, npmtest.Materialize(t, p), m)
		})
	}
}

func checkWorkspaceFixture(t *testing.T, root string, m workspace.Manager) {
	dest := t.TempDir()
	res, err := PackWorkspaces(t.Context(), root, WorkspaceOptions{Options: Options{Destination: dest, IgnoreScripts: true}, Manager: m})
	if err != nil {
		t.Fatalf("PackWorkspaces: %v", err)
	}
	if len(res.Packed) == 0 {
		t.Fatal("nothing packed")
	}
	checkReleaseFile(t, res)
	if m == workspace.NPM {
		compareNPMWorkspaces(t, root, res)
		return
	}
	if m == workspace.PNPM {
		linkPNPMWorkspaces(t, res.Workspace)
	}
	for _, r := range res.Packed {
		p, ok := res.Workspace.Lookup(r.Report.Name)
		if !ok {
			t.Fatalf("packed %s, which is no workspace package", r.Report.Name)
		}
		toolDest := t.TempDir()
		var tgz string
		same := map[string]func(w, g []byte) string{"package.json": exactJSON}
		if m == workspace.PNPM {
			tgz = npmtest.PackPNPM(t, p.Dir, toolDest)
			same["package.json"] = pnpmJSON
		} else {
			tgz = npmtest.PackYarn(t, p.Dir, toolDest)
		}
		want, got := npmtest.ReadTarball(t, tgz), npmtest.ReadTarball(t, r.Tarball)
		if d := npmtest.DiffContents(want, got, same); d != "" {
			t.Errorf("%s: airlock's tarball differs from %s pack's:\n%s", r.Report.Name, m, d)
		}
	}
}

func exactJSON(w, g []byte) string {
	if bytes.Equal(w, g) {
		return ""
	}
	return "differs:\n--- want\n" + string(w) + "\n--- got\n" + string(g)
}

// pnpmJSON compares package.json with the dependency maps' keys sorted;
// it also checks airlock's JSON.stringify against pnpm's bytes.
func pnpmJSON(w, g []byte) string {
	wo, err := parseJSObject(w)
	if err != nil {
		return "pnpm's is not JSON: " + err.Error()
	}
	if back := stringifyJS(wo); !bytes.Equal(back, w) {
		return "airlock's JSON.stringify does not reproduce pnpm's bytes:\n--- pnpm\n" + string(w) + "\n--- again\n" + string(back)
	}
	gw, gg := sortDependencyKeys(w), sortDependencyKeys(g)
	return exactJSON(gw, gg)
}

func sortDependencyKeys(data []byte) []byte {
	o, err := parseJSObject(data)
	if err != nil {
		return data
	}
	for _, f := range []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"} {
		if d := o.object(f); d != nil {
			sort.Strings(d.keys)
		}
	}
	return stringifyJS(o)
}

// linkPNPMWorkspaces makes the node_modules links pnpm install makes for
// workspace: dependencies, where pnpm pack reads their versions.
func linkPNPMWorkspaces(t *testing.T, ws *workspace.Workspace) {
	t.Helper()
	for _, p := range ws.Packages {
		pkg, err := readPackageJSONMap(p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		manifests := []map[string]any{pkg}
		if pc, ok := pkg["publishConfig"].(map[string]any); ok {
			if d, ok := pc["directory"].(string); ok {
				if m, err := readPackageJSONMap(filepath.Join(p.Dir, d)); err == nil {
					manifests = append(manifests, m) // pnpm still reads <package>/node_modules
				}
			}
		}
		for _, field := range []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"} {
			var deps map[string]any
			for _, m := range manifests {
				if d, ok := m[field].(map[string]any); ok {
					if deps == nil {
						deps = map[string]any{}
					}
					for k, v := range d {
						deps[k] = v
					}
				}
			}
			for key, v := range deps {
				spec, _ := v.(string)
				rest, ok := strings.CutPrefix(spec, "workspace:")
				if !ok || strings.HasPrefix(rest, ".") {
					continue
				}
				target := key
				if at := strings.LastIndexByte(rest, '@'); at > 0 {
					target = rest[:at]
				}
				dep, ok := ws.Lookup(target)
				if !ok {
					continue
				}
				link := filepath.Join(p.Dir, "node_modules", filepath.FromSlash(key))
				if _, err := os.Lstat(link); err == nil {
					continue
				}
				if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
					t.Fatal(err)
				}
				rel, err := filepath.Rel(filepath.Dir(link), dep.Dir)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(rel, link); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// compareNPMWorkspaces wants airlock's tarballs byte for byte (before
// compression) as npm pack --workspaces writes them.
func compareNPMWorkspaces(t *testing.T, root string, res *WorkspaceResult) {
	t.Helper()
	npmDest := t.TempDir()
	reports := npmtest.PackNPMWorkspaces(t, root, npmDest)
	byFile := map[string]npmtest.Report{}
	for _, r := range reports {
		byFile[r.Filename] = r
	}
	for _, r := range res.Packed {
		want, ok := byFile[r.Report.Filename]
		if !ok {
			t.Errorf("npm pack --workspaces did not pack %s", r.Report.Filename)
			continue
		}
		npmtest.CompareTar(t, npmtest.Gunzip(t, filepath.Join(npmDest, want.Filename)), npmtest.Gunzip(t, r.Tarball))
		if d := npmtest.DiffReport(want, fromReport(r.Report)); d != "" {
			t.Errorf("%s: report differs from npm's:\n%s", r.Report.Name, d)
		}
	}
}

func fromReport(r Report) npmtest.Report {
	out := npmtest.Report{ID: r.ID, Name: r.Name, Version: r.Version, Size: r.Size, UnpackedSize: r.UnpackedSize,
		Shasum: r.Shasum, Integrity: r.Integrity, Filename: r.Filename, EntryCount: r.EntryCount, Bundled: r.Bundled}
	for _, f := range r.Files {
		out.Files = append(out.Files, npmtest.File{Path: f.Path, Size: f.Size, Mode: f.Mode})
	}
	return out
}

// checkReleaseFile reads release.json back and checks it lists what was
// packed, with the integrity reported.
func checkReleaseFile(t *testing.T, res *WorkspaceResult) {
	t.Helper()
	rm, err := ReadReleaseManifest(res.ReleasePath)
	if err != nil {
		t.Fatalf("reading back %s: %v", res.ReleasePath, err)
	}
	data, _ := os.ReadFile(res.ReleasePath)
	if sriOf(data) != res.ReleaseIntegrity {
		t.Errorf("ReleaseIntegrity %s is not release.json's", res.ReleaseIntegrity)
	}
	if len(rm.Packages) != len(res.Packed) {
		t.Fatalf("release.json lists %d packages, %d were packed", len(rm.Packages), len(res.Packed))
	}
	for i, p := range rm.Packages {
		r := res.Packed[i].Report
		if p.Name != r.Name || p.Integrity != r.Integrity || p.TarballPath(res.ReleasePath) != res.Packed[i].Tarball {
			t.Errorf("release.json package %d is %+v, packed %s %s %s", i, p, r.Name, r.Integrity, res.Packed[i].Tarball)
		}
	}
}
