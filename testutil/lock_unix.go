//go:build unix

package testutil

import (
	"os"
	"syscall"
)

// lockFile blocks until this process holds an exclusive lock on f; closing
// f (or the process ending) releases it.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}
