package pack_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
	"github.com/airlockdev/airlock/pack"
)

// published are real packages with layouts the fixtures cannot match for
// size or history. Versions and integrities are pinned; tarballs are
// cached under $AIRLOCK_TEST_CACHE (or the user cache folder).
var published = []struct {
	name, version, integrity string
	why                      string
}{
	{"@babel/core", "7.26.0", "sha512-i1SLeK+DzNnQ3LL/CswPCa/E5u4lh1k6IAEphON8F+cXt0t9euTshDru0q7/IqMa1PMPz5RnHuHscF8/ZJsStg==",
		"scoped; compiled lib/ with source maps, no files field"},
	{"@types/node", "22.10.1", "sha512-qKgsUwfHZV2WCWLAnVP1JqnpE6Im6h3Y0+fYgMTasNQ7V++CBX5OT1as0g0f+OyubbFqhf6XVNIsmN4IIhEgGQ==",
		"scoped; tarball rooted at node/ with directory entries; .d.ts only"},
	{"typescript", "5.7.2", "sha512-i5t66RHxDvVN40HfDd1PsEThGNnlMCMT3jMUuoh9/0TaqWevNontacunWyN02LA9/fIbEWlcHZcgTKb9QoaLfg==",
		`files with negations ("!lib/enu", "!**/.gitattributes"); ./-prefixed bin; 22 MB unpacked`},
	{"lodash", "4.17.21", "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==",
		"1,054 files in one folder"},
	{"rxjs", "7.8.1", "sha512-AA3TVj+0A2iuIoQkWEK/tqFjBq2j+6PO6Y0zJcvzLAFhEFIO3HL0vls9hWLncZbAAbK0mar7oZ4V079I/qPMxg==",
		`2,277 files; files with extglobs ("dist/cjs/**/!(*.tsbuildinfo)")`},
	{"core-js", "3.39.0", "sha512-raM0ew0/jJUqkJ0E6e8UDtl+y/7ktFivgWvqw8dNSQeNWoSDLvQ1H/RN3aPXB9tBd4/FhyR4RDPGhsNIMsAn7g==",
		"3,557 files; README.md in subfolders"},
	{"npm", "10.9.2", "sha512-iriPEPIkoMYUy3F6f3wwSZAU93E0Eg6cHwIR6jzzOXWSy+SD/rOODEs74cVONHKSx2obXtuUoyidVEhISrisgQ==",
		"66 bundleDependencies (scoped ones too) with their node_modules; workspaces field; files with trailing slashes; bin"},
	{"npm", "6.14.18", "sha512-p3SjqSchSuNQUqbJBgwdv0L3O6bKkaSfQrQzJsskNpNKLg0g37c5xTXFV0SqTlX9GWvoGxBELVJMRWq0J8oaLA==",
		"bundled deps nested several node_modules deep, .npmignore files inside bundled deps, LICENCE spelling, paths over 100 bytes"},
	{"semver", "7.6.3", "sha512-oVekP1cKtI+CTDvHWYFUcMtsK/00wmAEfyqKfNdARm8u1wNVhSgaX7A8d4UuIlUI5e84iEwOhs7ZPYRmzU9U6A==",
		"bin object to bin/semver.js (executable on disk, not by the bin rule); files with trailing slashes"},
	{"rimraf", "5.0.10", "sha512-l0OE8wL34P4nJH/H2ffoaniAokM2qSmrtXHmlpvYr5AVVX8msAyW0l8NVJFDxlSK4u3Uh/f41cQheDVdnYijwQ==",
		"bin as a ./-prefixed string into dist/esm"},
	{"bufferutil", "4.0.8", "sha512-4T53u4PdgsXqKaIctwF8ifXlRTTmEPJ8iEPWFdGZvcf7sbwYo6FKFEX9eNNAnzFZ7EzJAQ3CJeOtCRA4rDp7Pw==",
		"native addon: binding.gyp, C sources, prebuilt binaries"},
	{"node-addon-api", "8.3.0", "sha512-8VOpLHFrOQlAH+qA0ZzuGRlALRA6/LVh8QJldbrC4DY0hXoMP0l4Acq8TzFC018HztWiRqyCEj2aTWY2UvnJUg==",
		`native addon headers; files with braces ("*.{c,h,gyp,gypi}"); LICENSE.md`},
	{"bcrypt", "5.1.1", "sha512-AGBHOG5hPYZ5Xl9KXzU5iKq9516yEmvCKDg3ecP5kX2aB6UqTeXZxk2ELnDgDm6BQSMlLt9rDB4LoSMx0rYwww==",
		"native addon sources, no files field, an executable non-bin file"},
	{"sqlite3", "5.1.7", "sha512-GGIyOiFaG+TUra3JIfkI/zGP8yZYLPQ0pl1bH+ODjiX57sPhrLU5sQJn1y9bDKZUFYkX1crlrPfSYt0BKKdkog==",
		`native addon with vendored deps/ (a multi-megabyte source tarball); files "lib/*.js"`},
	{"node-pty", "1.0.0", "sha512-wtBMWWS7dFZm/VgqElrTvtfMq4GzJ6+edFI0Y0zyzygUSZMgZdraDUMUhCIvkjhJjme15qWmbyJbtAx4ot4uZA==",
		"native addon with deps/winpty sources and a nested LICENSE"},
	{"chalk", "5.3.0", "sha512-dLitG79d+GV1Nb/VYcCDFivJeK1hiukt9QjRNVOsUtTy1rR1YJsmpGGTZ3qJos+uw7WmWF4wUwBd9jxjocFC2w==",
		`lower-case "license" and "readme.md"; files with a negated file`},
	{"express", "4.21.1", "sha512-YSFlK1Ee0/GC8QaO91tHcDxJiE/X4FbpAyQWkxAvG6AXCuR65YzK8ua6D9hvi/TzUfZMpc+BwuM1IPw8fmQBiQ==",
		`"Readme.md" and "History.md"; files naming single files and lib/`},
	{"qs", "6.13.0", "sha512-+38qI9SOr8tfZ4QmJNplMUxqjbe7LKvvZgWdExBOmd+egZTtjLB67Gu0HRX3u/XOq7UU2Nx6nsjvS16Z9uwfpg==",
		"LICENSE.md; dotfiles (.editorconfig, .eslintrc) and no files field"},
	{"debug", "2.6.9", "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==",
		"ships its .npmignore, which then applies when repacking"},
	{"yargs", "17.7.2", "sha512-7dSzzRQ++CKnNI/krKnYRV7JKKPUXMEh61soaHKg9mrWEhzFWhFnxPxGl+69cD1Ou63C13NUPCnmIcrvqCuM6w==",
		`files with "helpers/*" and negated globs ("!*.d.ts", "!**/*.d.ts"); locales/`},
	{"ws", "8.18.0", "sha512-8VbfWfHLbbwu3+N6OKsOMpBdT4kXPDDB9cJk2bJ6mh9ucxdlnNvH1e+roYkKmN9Nxw2yjz7VzeO9oOz2zJ04Pw==",
		`files with "lib/*.js" and single files`},
	{"node-gyp", "10.2.0", "sha512-sp3FonBAaFe4aYTcFdZUn2NYkbP7xroPGYvQmP4Nl5PxamznItBnNCgjrVTKrEfQynInMsJvZrdmqUnysCJ8rw==",
		"bin string; vendored gyp with many executable Python files and several LICENSE variants"},
	{"uuid", "9.0.1", "sha512-b+1eJOlsR9K8HJpow9Ok3fiWOWSIcIzXodvv0rQjVoOVNpWMpxf1wZNpt4y9h10odCNrqnYp1OBzRktckBe3sA==",
		"bin into dist/bin with no extension; LICENSE.md, CONTRIBUTING.md named in files"},
	{"moment", "2.30.1", "sha512-uEmtNhbDOrWPFS+hdjFCBfy9f2YoyzRpwcl+DqpC6taX21FzsTLQVbMV/W7PzNSX6x/bhC1zA3c2UQ5NzH6how==",
		"539 files across locale/, min/, dist/; no files field"},
	{"@esbuild/linux-x64", "0.24.0", "sha512-vbutsFqQ+foy3wSSbmjBXXIJ6PL3scghJoM8zCL142cGaZKAdCZHyf+Bpu/MmX9zT9Q0zFBVKb36Ma5Fzfa8xA==",
		"scoped; a 10 MB executable that is not a bin entry"},
}

// TestPublishedPackagesMatchNPM repacks real published packages with npm
// and with airlock and wants the same tarball and report.
func TestPublishedPackagesMatchNPM(t *testing.T) {
	sizes := &sizeTable{}
	t.Cleanup(func() { sizes.log(t) })
	for _, p := range published {
		pub := npmtest.Published{Name: p.name, Version: p.version, Integrity: p.integrity}
		t.Run(pub.String(), func(t *testing.T) {
			t.Parallel()
			t.Log(p.why)
			dir := npmtest.Extract(t, npmtest.Fetch(t, pub))
			checkAgainstNPM(t, dir)
			sizes.check(t, pub.String(), dir)
		})
	}
}

// sizeTable collects airlock's .tgz size against npm's per package.
type sizeTable struct {
	mu   sync.Mutex
	rows []sizeRow
}

type sizeRow struct {
	name       string
	ours, npms int64
}

// check packs dir with npm and with airlock and fails t if airlock's
// .tgz is larger: every byte of it is downloaded by every install.
func (s *sizeTable) check(t *testing.T, name, dir string) {
	t.Helper()
	_, npmTgz := npmtest.Pack(t, dir, t.TempDir())
	st, err := os.Stat(npmTgz)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pack.Pack(context.Background(), dir, pack.Options{Destination: t.TempDir(), IgnoreScripts: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Size > st.Size() {
		t.Errorf("airlock's tarball is %d bytes, npm's %d (%+.3f%%): it must be no larger",
			res.Report.Size, st.Size(), 100*(float64(res.Report.Size)/float64(st.Size())-1))
	}
	s.mu.Lock()
	s.rows = append(s.rows, sizeRow{name, res.Report.Size, st.Size()})
	s.mu.Unlock()
}

// log reports every package's ratio, the worst (largest) first.
func (s *sizeTable) log(t *testing.T) {
	ratio := func(r sizeRow) float64 { return float64(r.ours)/float64(r.npms) - 1 }
	sort.Slice(s.rows, func(i, j int) bool { return ratio(s.rows[i]) > ratio(s.rows[j]) })
	for _, r := range s.rows {
		t.Logf("%-28s airlock %10d  npm %10d  %+.3f%%", filepath.ToSlash(r.name), r.ours, r.npms, 100*ratio(r))
	}
}
