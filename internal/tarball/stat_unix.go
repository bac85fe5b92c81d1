//go:build unix

package tarball

import (
	"io/fs"
	"syscall"
)

// statOf reads the raw st_mode (with setuid/setgid/sticky in Node's bit
// positions) and the link identity node-tar keys hard links by.
func statOf(fi fs.FileInfo) stat {
	s := stat{size: fi.Size(), kind: fi.Mode().Type(), nlink: 1}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		s.mode = modeFromGo(fi.Mode())
		return s
	}
	s.mode = uint32(st.Mode)
	// The conversions matter on darwin, where Dev is int32 and Nlink uint16.
	s.dev = uint64(st.Dev)
	s.ino = uint64(st.Ino)
	s.nlink = uint64(st.Nlink)
	return s
}
