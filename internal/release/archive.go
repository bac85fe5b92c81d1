package release

import (
	"archive/tar"
	"archive/zip"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// ModTime is the modification time of every archive entry. A constant, not
// the commit time: the commit that records a release's checksums must build
// the same bytes as the commit before it.
var ModTime = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// File is one entry of a release archive.
type File struct {
	Name string      // slash-separated name in the archive, no folders
	Mode fs.FileMode // 0o755 or 0o644; anything else is refused
	Data []byte
}

func checkFiles(files []File) ([]File, error) {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	for i, f := range sorted {
		if f.Name == "" || strings.ContainsAny(f.Name, "/\\") || f.Name == "." || f.Name == ".." {
			return nil, fmt.Errorf("archive entry %q: want a plain file name", f.Name)
		}
		if f.Mode != 0o755 && f.Mode != 0o644 {
			return nil, fmt.Errorf("archive entry %q: mode %v, want 0755 or 0644", f.Name, f.Mode)
		}
		if i > 0 && sorted[i-1].Name == f.Name {
			return nil, fmt.Errorf("archive entry %q: listed twice", f.Name)
		}
	}
	return sorted, nil
}

// WriteTarGz writes files as a gzip-compressed tar stream whose bytes
// depend only on the files' names, modes and contents (and on the Go
// version's compress/flate): entries sorted by name, USTAR headers owned by
// 0/0 root/root, ModTime, no gzip name or time.
func WriteTarGz(w io.Writer, files []File) error {
	sorted, err := checkFiles(files)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, f := range sorted {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.Name,
			Mode:     int64(f.Mode),
			Size:     int64(len(f.Data)),
			ModTime:  ModTime,
			Uname:    "root",
			Gname:    "root",
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("writing tar header of %s: %w", f.Name, err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return fmt.Errorf("writing %s: %w", f.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// WriteZip writes files as a zip archive with the same guarantees as
// WriteTarGz: sorted entries, Unix modes, ModTime, deflate at its best
// compression.
func WriteZip(w io.Writer, files []File) error {
	sorted, err := checkFiles(files)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	for _, f := range sorted {
		hdr := &zip.FileHeader{
			Name:     f.Name,
			Method:   zip.Deflate,
			Modified: ModTime,
		}
		hdr.SetMode(f.Mode)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("writing zip header of %s: %w", f.Name, err)
		}
		if _, err := fw.Write(f.Data); err != nil {
			return fmt.Errorf("writing %s: %w", f.Name, err)
		}
	}
	return zw.Close()
}
