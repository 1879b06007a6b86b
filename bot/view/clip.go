package view

import "unicode/utf8"

// Clip shortens s to at most n characters (runes), ending with an ellipsis.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ClipBytes shortens s to at most n bytes of valid UTF-8, ending with an
// ellipsis: the safe bound where a platform counts characters of its own
// kind.
func ClipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
