package npmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Registry is where published packages are fetched from.
const Registry = "https://registry.npmjs.org"

// Published is a package version on the registry with the dist.integrity
// its tarball must have, pinned so a cached or downloaded tarball is
// checked without asking the registry.
type Published struct {
	Name, Version, Integrity string
}

func (p Published) String() string { return p.Name + "@" + p.Version }

// CacheDir is where downloaded tarballs are kept between runs:
// $AIRLOCK_TEST_CACHE, or airlock-test in the user's cache folder.
func CacheDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("AIRLOCK_TEST_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("finding a cache folder for downloaded packages: %v\nhint: set AIRLOCK_TEST_CACHE", err)
	}
	return filepath.Join(d, "airlock-test")
}

// Fetch returns the path of p's tarball in the cache, downloading it first
// if it is missing or does not match p.Integrity.
func Fetch(t testing.TB, p Published) string {
	t.Helper()
	dir := filepath.Join(CacheDir(t), "npm")
	file := filepath.Join(dir, strings.ReplaceAll(p.Name, "/", "+")+"-"+p.Version+".tgz")
	if data, err := os.ReadFile(file); err == nil && checkIntegrity(data, p.Integrity) == nil {
		return file
	}
	var data []byte
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 2 * time.Second)
		}
		if data, err = download(t.Context(), p); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("fetching %s: %v", p, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		t.Fatal(err)
	}
	return file
}

func download(ctx context.Context, p Published) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	metaURL := Registry + "/" + strings.Replace(p.Name, "/", "%2F", 1) + "/" + p.Version
	meta, err := get(ctx, metaURL)
	if err != nil {
		return nil, fmt.Errorf("reading metadata: %w", err)
	}
	var doc struct {
		Dist struct {
			Tarball   string `json:"tarball"`
			Integrity string `json:"integrity"`
		} `json:"dist"`
	}
	if err := json.Unmarshal(meta, &doc); err != nil {
		return nil, fmt.Errorf("decoding metadata: %w", err)
	}
	if doc.Dist.Tarball == "" || doc.Dist.Integrity == "" {
		return nil, errors.New("metadata has no dist.tarball or dist.integrity")
	}
	if doc.Dist.Integrity != p.Integrity {
		return nil, fmt.Errorf("registry says dist.integrity is %s, the test pins %s", doc.Dist.Integrity, p.Integrity)
	}
	data, err := get(ctx, doc.Dist.Tarball)
	if err != nil {
		return nil, fmt.Errorf("downloading tarball: %w", err)
	}
	if err := checkIntegrity(data, doc.Dist.Integrity); err != nil {
		return nil, fmt.Errorf("downloaded tarball: %w", err)
	}
	return data, nil
}

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: registry answered %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// checkIntegrity checks data against the sha512 in an SRI string.
func checkIntegrity(data []byte, sri string) error {
	for _, h := range strings.Fields(sri) {
		algo, digest, _ := strings.Cut(h, "-")
		if algo != "sha512" {
			continue
		}
		sum := sha512.Sum512(data)
		if got := base64.StdEncoding.EncodeToString(sum[:]); got != digest {
			return fmt.Errorf("integrity mismatch: want sha512-%s, got sha512-%s", digest, got)
		}
		return nil
	}
	return fmt.Errorf("integrity %q has no sha512 digest", sri)
}

// Extract unpacks the gzipped package tarball at tgz into a new temporary
// directory and returns it. Like npm it drops the first path component
// (usually package/) and skips links; files and folders get the modes
// recorded in the tarball.
func Extract(t testing.TB, tgz string) string {
	t.Helper()
	dir := t.TempDir()
	if err := extract(dir, tgz); err != nil {
		t.Fatalf("extracting %s: %v", tgz, err)
	}
	return dir
}

func extract(dir, tgz string) error {
	data, err := os.ReadFile(tgz)
	if err != nil {
		return err
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	var dirModes []func() error
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		_, name, ok := strings.Cut(name, "/")
		if !ok || name == "" {
			continue
		}
		p, err := within(dir, name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := mkdirAll(dir, p); err != nil {
				return err
			}
			mode := fs.FileMode(h.Mode).Perm() | 0o700
			dirModes = append(dirModes, func() error { return os.Chmod(p, mode) })
		case tar.TypeReg:
			if err := mkdirAll(dir, filepath.Dir(p)); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Chmod(p, fs.FileMode(h.Mode).Perm()); err != nil {
				return err
			}
		}
	}
	for _, f := range dirModes {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}
