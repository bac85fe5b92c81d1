package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readArchive reads a .tar.gz or .zip written by WriteTarGz or WriteZip
// back into Files, in archive order, checking the fixed metadata on the
// way.
func readArchive(t *testing.T, path string) []File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".zip") {
		return readZip(t, data)
	}
	return readTarGz(t, data)
}

func readTarGz(t *testing.T, data []byte) []File {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" || zr.Comment != "" || zr.Extra != nil || zr.OS != 255 {
		t.Errorf("gzip header carries a time, name, comment, extra or OS: %+v", zr.Header)
	}
	tr := tar.NewReader(zr)
	var files []File
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "root" || hdr.Gname != "root" ||
			!hdr.ModTime.Equal(ModTime) || hdr.Format != tar.FormatUSTAR || len(hdr.PAXRecords) > 0 {
			t.Errorf("%s: header %+v: want a USTAR regular file of 0/0 root/root at %s", hdr.Name, hdr, ModTime)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, File{Name: hdr.Name, Mode: fs.FileMode(hdr.Mode), Data: body})
	}
	return files
}

func readZip(t *testing.T, data []byte) []File {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var files []File
	for _, f := range zr.File {
		if !f.Modified.Equal(ModTime) || f.Method != zip.Deflate || f.Comment != "" {
			t.Errorf("%s: modified %s, method %d, comment %q", f.Name, f.Modified, f.Method, f.Comment)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, File{Name: f.Name, Mode: f.Mode(), Data: body})
	}
	return files
}

func writeArchive(t *testing.T, write func(io.Writer, []File) error, files []File) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b, files); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var sampleFiles = []File{
	{Name: "airlock", Mode: 0o755, Data: bytes.Repeat([]byte("\x7fELF binary "), 5000)},
	{Name: "README.md", Mode: 0o644, Data: []byte("# airlock\n")},
	{Name: "LICENSE", Mode: 0o644, Data: []byte("Apache License\n")},
	{Name: "empty", Mode: 0o644},
}

func TestArchivesAreDeterministic(t *testing.T) {
	reversed := []File{sampleFiles[3], sampleFiles[2], sampleFiles[1], sampleFiles[0]}
	for name, write := range map[string]func(io.Writer, []File) error{"tar.gz": WriteTarGz, "zip": WriteZip} {
		a := writeArchive(t, write, sampleFiles)
		b := writeArchive(t, write, reversed)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the order files are given in changes the bytes", name)
		}
		var got []File
		if name == "zip" {
			got = readZip(t, a)
		} else {
			got = readTarGz(t, a)
		}
		want := []string{"LICENSE", "README.md", "airlock", "empty"} // byte order
		if len(got) != len(want) {
			t.Fatalf("%s: %d entries, want %d", name, len(got), len(want))
		}
		for i, f := range got {
			var in File
			for _, s := range sampleFiles {
				if s.Name == f.Name {
					in = s
				}
			}
			if f.Name != want[i] || f.Mode != in.Mode || !bytes.Equal(f.Data, in.Data) {
				t.Errorf("%s: entry %d is %s %v (%d bytes), want %s %v (%d bytes)", name, i, f.Name, f.Mode, len(f.Data), want[i], in.Mode, len(in.Data))
			}
		}
	}
}

func TestArchivesRefuseBadEntries(t *testing.T) {
	for _, files := range [][]File{
		{{Name: "bin/airlock", Mode: 0o755}},
		{{Name: `..\airlock`, Mode: 0o755}},
		{{Name: "", Mode: 0o644}},
		{{Name: "..", Mode: 0o644}},
		{{Name: "setuid", Mode: 0o4755}},
		{{Name: "writable", Mode: 0o666}},
		{{Name: "a", Mode: 0o644}, {Name: "a", Mode: 0o644}},
	} {
		for name, write := range map[string]func(io.Writer, []File) error{"tar.gz": WriteTarGz, "zip": WriteZip} {
			if err := write(io.Discard, files); err == nil {
				t.Errorf("%s accepted %+v", name, files)
			}
		}
	}
}

func TestTargetNames(t *testing.T) {
	for _, tc := range []struct {
		target       Target
		archive, bin string
	}{
		{Target{"linux", "amd64"}, "airlock_0.1.0_linux_amd64.tar.gz", "airlock"},
		{Target{"darwin", "arm64"}, "airlock_0.1.0_darwin_arm64.tar.gz", "airlock"},
		{Target{"windows", "arm64"}, "airlock_0.1.0_windows_arm64.zip", "airlock.exe"},
	} {
		if got := tc.target.Archive("v0.1.0"); got != tc.archive {
			t.Errorf("%s: archive %s, want %s", tc.target, got, tc.archive)
		}
		if got := tc.target.Binary(); got != tc.bin {
			t.Errorf("%s: binary %s, want %s", tc.target, got, tc.bin)
		}
	}
	if _, err := ParseTarget("plan9/amd64"); err == nil {
		t.Error("ParseTarget accepted plan9/amd64")
	}
	if got, err := ParseTarget("windows/amd64"); err != nil || got != (Target{"windows", "amd64"}) {
		t.Errorf("ParseTarget(windows/amd64) = %v, %v", got, err)
	}
}

func TestCheckVersion(t *testing.T) {
	for _, v := range []string{"v0.1.0", "v1.2.3", "v10.20.30", "v1.2.3-rc.1", "v1.2.3-test.1"} {
		if err := CheckVersion(v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, v := range []string{"", "1.2.3", "v1.2", "v01.2.3", "v1.2.3+build", "v1.2.3/../x", "v1.2.3 ", "latest", "v1.2.3-"} {
		if err := CheckVersion(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}

// TestVersionPatternEverywhere: install.sh and the release workflow refuse
// the same tags as CheckVersion.
func TestVersionPatternEverywhere(t *testing.T) {
	for _, f := range []string{"install.sh", ".github/workflows/release.yml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), versionPattern) {
			t.Errorf("%s does not check tags with %s", f, versionPattern)
		}
	}
}
