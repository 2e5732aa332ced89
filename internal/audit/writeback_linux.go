package audit

import "golang.org/x/sys/unix"

// startWriteback asks the kernel to start writing [off, off+n) of fd to
// disk, without waiting for it.
func startWriteback(fd int, off, n int64) {
	_ = unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// dropCached waits until [off, off+n) of fd is on disk and drops it from
// the page cache.
func dropCached(fd int, off, n int64) {
	_ = unix.SyncFileRange(fd, off, n,
		unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	_ = unix.Fadvise(fd, off, n, unix.FADV_DONTNEED)
}
