package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// appIDPlaceholder is replaced by the app id wherever it appears in the
// manifest (id, bots[].botId, webApplicationInfo.id).
const appIDPlaceholder = "{{TEAMS_APP_ID}}"

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// iconSizes are the sizes Teams requires of the two icons.
var iconSizes = map[string]int{"color.png": 192, "outline.png": 32}

// buildPackage writes the zip: manifest.json with the app id filled in,
// and the icons after checking their size.
func buildPackage(dir, out, appID string) error {
	switch {
	case appID == "":
		return errors.New("TEAMS_APP_ID is not set: export the bot's Microsoft app (client) id, e.g. TEAMS_APP_ID=00000000-0000-0000-0000-000000000000 make teams-package")
	case !guidPattern.MatchString(appID):
		return fmt.Errorf("TEAMS_APP_ID must be a GUID like 00000000-0000-0000-0000-000000000000, got %q", appID)
	}
	manifest, err := renderManifest(filepath.Join(dir, "manifest.json"), appID)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{{"manifest.json", manifest}}
	for _, name := range []string{"color.png", "outline.png"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("read icon: %w", err)
		}
		if err := checkIcon(name, data); err != nil {
			return err
		}
		files = append(files, struct {
			name string
			data []byte
		}{name, data})
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		// A fixed time keeps the package byte-for-byte reproducible.
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return fmt.Errorf("zip %s: %w", f.name, err)
		}
		if _, err := w.Write(f.data); err != nil {
			return fmt.Errorf("zip %s: %w", f.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(out), err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write package: %w", err)
	}
	return nil
}

// renderManifest fills in the app id and checks that the result is JSON
// with no placeholder left.
func renderManifest(path, appID string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if !bytes.Contains(raw, []byte(appIDPlaceholder)) {
		return nil, fmt.Errorf("%s has no %s placeholder", path, appIDPlaceholder)
	}
	filled := strings.ReplaceAll(string(raw), appIDPlaceholder, strings.ToLower(appID))
	if strings.Contains(filled, "{{") {
		return nil, fmt.Errorf("%s has a placeholder other than %s", path, appIDPlaceholder)
	}
	var check map[string]any
	if err := json.Unmarshal([]byte(filled), &check); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	return []byte(filled), nil
}

// checkIcon checks that an icon is a PNG of the size Teams wants.
func checkIcon(name string, data []byte) error {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s is not a PNG: %w", name, err)
	}
	want := iconSizes[name]
	if b := img.Bounds(); b.Dx() != want || b.Dy() != want {
		return fmt.Errorf("%s is %dx%d, Teams wants %dx%d", name, b.Dx(), b.Dy(), want, want)
	}
	if name == "outline.png" {
		return checkOutline(img)
	}
	return nil
}

// checkOutline: Teams wants the outline icon white on transparent.
func checkOutline(img image.Image) error {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			if a == 0 {
				continue
			}
			// Premultiplied: white at any opacity has r = g = b = a.
			if r != a || g != a || bl != a {
				return fmt.Errorf("outline.png has a pixel that is neither white nor transparent at %d,%d", x, y)
			}
		}
	}
	return nil
}
