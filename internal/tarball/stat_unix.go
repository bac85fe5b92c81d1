//go:build unix

package tarball

import (
	"io/fs"
	"syscall"
)

// statOfRaw keeps the raw st_mode (with setuid/setgid/sticky in Node's bit
// positions) and the link identity node-tar keys hard links by.
func statOfRaw(st *syscall.Stat_t) stat {
	s := stat{size: st.Size, mode: uint32(st.Mode)}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
	case syscall.S_IFDIR:
		s.kind = fs.ModeDir
	case syscall.S_IFLNK:
		s.kind = fs.ModeSymlink
	default:
		s.kind = fs.ModeIrregular // node-tar skips sockets, FIFOs and devices
	}
	// The conversions matter on darwin, where Dev is int32 and Nlink uint16.
	s.dev = uint64(st.Dev)
	s.ino = uint64(st.Ino)
	s.nlink = uint64(st.Nlink)
	return s
}
