//go:build !linux

package pgtemp

// parentDir is the directory Start creates a server's directory in: the
// system's temporary directory, outside Linux (see memdir_linux.go).
func parentDir() string { return "" }
