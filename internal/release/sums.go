package release

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
)

// SumsFile is the name of the checksums file, in dist/ and in release/.
const SumsFile = "SHA256SUMS"

// VersionFile is the name of the file in release/ that holds the tag of
// the release whose checksums release/SHA256SUMS records.
const VersionFile = "VERSION"

// Sums maps archive file names to their hex sha256.
type Sums map[string]string

// Format writes s as sha256sum writes it ("<hex>  <name>" a line), sorted
// by name.
func (s Sums) Format() []byte {
	var b bytes.Buffer
	for _, name := range sortedKeys(s) {
		fmt.Fprintf(&b, "%s  %s\n", s[name], name)
	}
	return b.Bytes()
}

var sumLineRE = regexp.MustCompile(`^([0-9a-f]{64}) [ *]([A-Za-z0-9._+-]+)$`)

// ParseSums reads a SHA256SUMS file in sha256sum's format (text " " or
// binary "*" marker). It refuses anything else: other hashes, names with
// folders or escapes, a name listed twice, no entry at all.
func ParseSums(data []byte) (Sums, error) {
	s := Sums{}
	text := string(data)
	if text == "" {
		return nil, errors.New("no checksums")
	}
	if !strings.HasSuffix(text, "\n") {
		return nil, errors.New("last line does not end in a newline")
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		m := sumLineRE.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("line %d: want \"<64 lower-case hex digits>  <file name>\", got %q", i+1, line)
		}
		if _, dup := s[m[2]]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice", i+1, m[2])
		}
		s[m[2]] = m[1]
	}
	return s, nil
}

// ReadSums reads and parses the SHA256SUMS file at path.
func ReadSums(path string) (Sums, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseSums(data)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return s, nil
}

var archiveRE = regexp.MustCompile(`^airlock_(.+)_([a-z]+)_([a-z0-9]+)\.(tar\.gz|zip)$`)

// releaseOf is the tag of the full release s lists: every target's archive
// of one version and nothing else.
func releaseOf(s Sums) (string, error) {
	version := ""
	for _, name := range sortedKeys(s) {
		m := archiveRE.FindStringSubmatch(name)
		if m == nil {
			return "", fmt.Errorf("%s is not a release archive", name)
		}
		if version != "" && m[1] != version {
			return "", fmt.Errorf("archives of two versions: %s and %s", version, m[1])
		}
		version = m[1]
	}
	tag := "v" + version
	if err := CheckVersion(tag); err != nil {
		return "", err
	}
	var want []string
	for _, t := range Targets {
		want = append(want, t.Archive(tag))
	}
	slices.Sort(want)
	if got := sortedKeys(s); !slices.Equal(got, want) {
		return "", fmt.Errorf("the archives are %s; a release of %s has %s", strings.Join(got, ", "), tag, strings.Join(want, ", "))
	}
	return tag, nil
}

// CheckDist verifies the folder make release wrote: SHA256SUMS lists every
// target's archive of one version, and each file has the listed digest. It
// returns the tag and the checksums.
func CheckDist(dist string) (string, Sums, error) {
	s, err := ReadSums(filepath.Join(dist, SumsFile))
	if err != nil {
		return "", nil, err
	}
	tag, err := releaseOf(s)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", filepath.Join(dist, SumsFile), err)
	}
	for _, name := range sortedKeys(s) {
		got, err := HashFile(filepath.Join(dist, name))
		if err != nil {
			return "", nil, err
		}
		if got != s[name] {
			return "", nil, fmt.Errorf("%s: sha256 %s, but %s lists %s", filepath.Join(dist, name), got, SumsFile, s[name])
		}
	}
	return tag, s, nil
}

// Record copies the checksums of a checked dist folder into the release
// folder (release/SHA256SUMS) and writes its tag to release/VERSION.
func Record(dist, releaseDir string) (string, error) {
	tag, _, err := CheckDist(dist)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(filepath.Join(dist, SumsFile))
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(releaseDir, SumsFile), data, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(releaseDir, VersionFile), []byte(tag+"\n"), 0o644); err != nil {
		return "", err
	}
	return tag, nil
}

// ReadRecorded reads the release the repository records: the tag in
// release/VERSION and the checksums in release/SHA256SUMS, which must list
// exactly that release's archives.
func ReadRecorded(releaseDir string) (string, Sums, error) {
	data, err := os.ReadFile(filepath.Join(releaseDir, VersionFile))
	if err != nil {
		return "", nil, err
	}
	tag := strings.TrimSuffix(string(data), "\n")
	if err := CheckVersion(tag); err != nil {
		return "", nil, fmt.Errorf("%s: %w", filepath.Join(releaseDir, VersionFile), err)
	}
	s, err := ReadSums(filepath.Join(releaseDir, SumsFile))
	if err != nil {
		return "", nil, err
	}
	got, err := releaseOf(s)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", filepath.Join(releaseDir, SumsFile), err)
	}
	if got != tag {
		return "", nil, fmt.Errorf("%s lists %s's archives, %s says %s", filepath.Join(releaseDir, SumsFile), got, filepath.Join(releaseDir, VersionFile), tag)
	}
	return tag, s, nil
}

// Compare checks that a rebuilt dist folder is the recorded release: the
// same tag (and tag, when not empty, is it too) and the same bytes for
// every archive.
func Compare(dist, releaseDir, tag string) error {
	recTag, rec, err := ReadRecorded(releaseDir)
	if err != nil {
		return err
	}
	if tag != "" && tag != recTag {
		return hint.With(fmt.Errorf("tag %s is not the recorded release %s", tag, recTag),
			"tag the commit whose release/VERSION names the tag (make release-record writes it)")
	}
	gotTag, got, err := CheckDist(dist)
	if err != nil {
		return err
	}
	if gotTag != recTag {
		return fmt.Errorf("%s holds %s, the recorded release is %s", dist, gotTag, recTag)
	}
	var diffs []string
	for _, name := range sortedKeys(rec) {
		if got[name] != rec[name] {
			diffs = append(diffs, fmt.Sprintf("%s: rebuilt %s, recorded %s", name, got[name], rec[name]))
		}
	}
	if len(diffs) > 0 {
		return hint.With(fmt.Errorf("the rebuilt archives differ from %s:\n  %s", filepath.Join(releaseDir, SumsFile), strings.Join(diffs, "\n  ")),
			"build with the Go go.mod names, from the tagged commit; if the source changed since the checksums were recorded, run make release and make release-record again")
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
