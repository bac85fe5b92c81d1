//go:build unix

package tarball

import (
	"fmt"
	"io"
	"io/fs"
	"syscall"
)

// rawFile reads a file through its descriptor alone. os.File would also
// try to register every file with the runtime's poller, which costs
// several system calls per file that a regular file never needs; a
// package of thousands of small files pays them thousands of times.
type rawFile struct {
	fd   int
	name string
}

// lstat is os.Lstat without the FileInfo.
func lstat(abs string) (stat, error) {
	var st syscall.Stat_t
	for {
		err := syscall.Lstat(abs, &st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return stat{}, &fs.PathError{Op: "lstat", Path: abs, Err: err}
		}
		return statOfRaw(&st), nil
	}
}

// openSame opens abs and checks it is still the file lstat saw: a file
// replaced since, by another file or by a symlink, is refused.
func openSame(abs string, want stat) (openFile, error) {
	var fd int
	var err error
	for {
		// O_NONBLOCK: had the file become a FIFO, opening it must not hang.
		fd, err = syscall.Open(abs, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.ELOOP {
		return nil, fmt.Errorf("%w: replaced by a symlink", ErrChanged)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: abs, Err: err}
	}
	f := &rawFile{fd: fd, name: abs}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "stat", Path: abs, Err: err}
	}
	if err := sameFile(statOfRaw(&st), want); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (f *rawFile) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(f.fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *rawFile) Close() error { return syscall.Close(f.fd) }
