package pgtemp

import (
	"os"
	"syscall"
)

// memoryDir is where Start puts a server when the machine has a memory-backed
// file system there with room to spare: a throwaway server's data need never
// reach a disk. On the 2-core machines it was measured on, writing it back
// cost about a tenth of the CPU of a run of storage's tests.
const memoryDir = "/dev/shm"

// memoryRoom is the free space Start wants in memoryDir before it uses it: a
// test run's server holds a few hundred megabytes, and a container's
// /dev/shm is often only 64 MB.
const memoryRoom = 4 << 30

// tmpfsMagic is the file system type statfs reports for tmpfs.
const tmpfsMagic = 0x01021994

// parentDir is the directory Start creates a server's directory in: the
// caller's TMPDIR when set, else memoryDir when it has room, else the
// system's temporary directory ("").
func parentDir() string {
	if os.Getenv("TMPDIR") != "" {
		return ""
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(memoryDir, &fs); err != nil || int64(fs.Type) != tmpfsMagic {
		return ""
	}
	if uint64(fs.Bavail)*uint64(fs.Bsize) < memoryRoom {
		return ""
	}
	return memoryDir
}
