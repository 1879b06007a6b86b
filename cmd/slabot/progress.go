package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress reports how far a long job has come: a bar redrawn in place on a
// terminal, a plain line every few seconds otherwise (logs, CI).
type progress struct {
	w        io.Writer
	total    int64
	terminal bool
	last     time.Time
	shown    bool
}

func newProgress(w io.Writer, total int64) *progress {
	terminal := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	return &progress{w: w, total: total, terminal: terminal}
}

func (p *progress) update(done int64) {
	if p.total <= 0 {
		return
	}
	now := time.Now()
	interval := 5 * time.Second
	if p.terminal {
		interval = 100 * time.Millisecond
	}
	if now.Sub(p.last) < interval {
		return
	}
	p.last = now
	pct := float64(done) / float64(p.total)
	pct = min(pct, 1)
	if p.terminal {
		const width = 30
		filled := int(pct * width)
		fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), pct*100)
		p.shown = true
		return
	}
	fmt.Fprintf(p.w, "progress: %.0f%% of the file read\n", pct*100)
}

func (p *progress) done() {
	if p.terminal && p.shown {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 40))
	}
}
