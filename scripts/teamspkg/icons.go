package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// The icon is a clock face whose hand is a check mark: a deadline kept.
// Shapes are in a unit square and drawn with 4×4 supersampling.

var accent = color.NRGBA{R: 0x1D, G: 0x4E, B: 0x89, A: 0xFF}

// coverage returns how much of the pixel (x, y) of a size×size image the
// glyph covers, 0…1; inset shrinks the glyph towards the centre.
func coverage(x, y, size int, inset float64) float64 {
	const samples = 4
	hit := 0
	for sy := range samples {
		for sx := range samples {
			u := (float64(x) + (float64(sx)+0.5)/samples) / float64(size)
			v := (float64(y) + (float64(sy)+0.5)/samples) / float64(size)
			// Map into the inset square.
			u = (u - inset) / (1 - 2*inset)
			v = (v - inset) / (1 - 2*inset)
			if inGlyph(u, v) {
				hit++
			}
		}
	}
	return float64(hit) / samples / samples
}

// inGlyph reports whether the unit-square point is on the ring or the
// check mark.
func inGlyph(u, v float64) bool {
	d := math.Hypot(u-0.5, v-0.5)
	if d <= 0.47 && d >= 0.38 {
		return true
	}
	return nearSegment(u, v, 0.29, 0.52, 0.44, 0.67, 0.055) || nearSegment(u, v, 0.44, 0.67, 0.72, 0.36, 0.055)
}

func nearSegment(px, py, ax, ay, bx, by, width float64) bool {
	dx, dy := bx-ax, by-ay
	t := ((px-ax)*dx + (py-ay)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(px-(ax+t*dx), py-(ay+t*dy)) <= width
}

// colorIcon is the 192×192 full-colour icon: a white glyph on the accent.
func colorIcon() *image.NRGBA {
	const size = 192
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			c := coverage(x, y, size, 0.16)
			img.SetNRGBA(x, y, color.NRGBA{
				R: blend(accent.R, 0xFF, c), G: blend(accent.G, 0xFF, c), B: blend(accent.B, 0xFF, c), A: 0xFF,
			})
		}
	}
	return img
}

// outlineIcon is the 32×32 outline icon: white on transparent.
func outlineIcon() *image.NRGBA {
	const size = 32
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			if c := coverage(x, y, size, 0.02); c > 0 {
				img.SetNRGBA(x, y, color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: uint8(math.Round(c * 255))})
			}
		}
	}
	return img
}

func blend(from, to uint8, t float64) uint8 {
	return uint8(math.Round(float64(from)*(1-t) + float64(to)*t))
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeIconFiles draws both icons into dir.
func writeIconFiles(dir string) error {
	for name, img := range map[string]image.Image{"color.png": colorIcon(), "outline.png": outlineIcon()} {
		data, err := encodePNG(img)
		if err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}
