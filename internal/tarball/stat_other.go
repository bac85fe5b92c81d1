//go:build !unix

package tarball

import "io/fs"

// statOf has no inode data off unix: every file counts as singly linked.
func statOf(fi fs.FileInfo) stat {
	return stat{size: fi.Size(), kind: fi.Mode().Type(), nlink: 1, mode: modeFromGo(fi.Mode())}
}
