//go:build !unix

package tarball

import (
	"io/fs"
	"os"
)

// lstat has no inode data off unix: every file counts as singly linked.
func lstat(abs string) (stat, error) {
	fi, err := os.Lstat(abs)
	if err != nil {
		return stat{}, err
	}
	return statOf(fi), nil
}

func statOf(fi fs.FileInfo) stat {
	return stat{size: fi.Size(), kind: fi.Mode().Type(), nlink: 1, mode: modeFromGo(fi.Mode())}
}

// openSame opens abs and checks it is still the file lstat saw.
func openSame(abs string, want stat) (openFile, error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := sameFile(statOf(fi), want); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
