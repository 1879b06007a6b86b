package pgtemp

import (
	"syscall"
	"testing"
)

func TestAServerGoesWhereTMPDIRSaysWhenSet(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	if got := parentDir(); got != "" {
		t.Errorf("with TMPDIR set, parentDir() = %q; want the system's temporary directory", got)
	}
}

func TestAServerIsPutInMemoryOnlyWithRoomToSpare(t *testing.T) {
	t.Setenv("TMPDIR", "")
	got := parentDir()
	var fs syscall.Statfs_t
	inMemory := syscall.Statfs(memoryDir, &fs) == nil && fs.Type == tmpfsMagic
	room := uint64(fs.Bavail) * uint64(fs.Bsize)
	switch {
	case got == memoryDir && (!inMemory || room < memoryRoom):
		t.Errorf("parentDir() = %s, which is not tmpfs or has only %d bytes free", got, room)
	case got == "" && inMemory && room >= memoryRoom:
		t.Errorf("parentDir() = %q though %s is tmpfs with %d bytes free", got, memoryDir, room)
	case got != "" && got != memoryDir:
		t.Errorf("parentDir() = %q", got)
	}
	t.Logf("parentDir() = %q (%s: tmpfs %v, %d MB free)", got, memoryDir, inMemory, room>>20)
}
