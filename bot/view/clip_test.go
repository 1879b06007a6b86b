package view

import "testing"

func TestClipKeepsValidUTF8WithinLimits(t *testing.T) {
	s := "Éléonore Überreiter-Ångström"
	for n := 4; n < len(s); n++ {
		got := ClipBytes(s, n)
		if len(got) > n {
			t.Fatalf("ClipBytes(%d) = %q is %d bytes", n, got, len(got))
		}
		for _, r := range got {
			if r == '\uFFFD' {
				t.Fatalf("ClipBytes(%d) = %q cut a character", n, got)
			}
		}
	}
	if got := Clip("abcdef", 4); got != "abc…" {
		t.Errorf("clip = %q", got)
	}
}
