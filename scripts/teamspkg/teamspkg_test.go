package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const manifestDir = "../../manifests/teams"

// The /sla subcommands the manifest must list (design.md, issue 13).
var wantCommands = []string{"status", "leads", "funnel", "plan", "policy", "away", "back", "report", "home", "help"}

type manifest struct {
	Schema          string `json:"$schema"`
	ManifestVersion string `json:"manifestVersion"`
	ID              string `json:"id"`
	Bots            []struct {
		BotID        string   `json:"botId"`
		Scopes       []string `json:"scopes"`
		CommandLists []struct {
			Scopes   []string `json:"scopes"`
			Commands []struct {
				Title       string `json:"title"`
				Description string `json:"description"`
			} `json:"commands"`
		} `json:"commandLists"`
	} `json:"bots"`
	WebApplicationInfo struct {
		ID string `json:"id"`
	} `json:"webApplicationInfo"`
	Icons struct {
		Color   string `json:"color"`
		Outline string `json:"outline"`
	} `json:"icons"`
}

func TestManifestTemplate(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(manifestDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest.json is not valid JSON: %v", err)
	}
	if m.ManifestVersion != "1.17" || !strings.Contains(m.Schema, "/v1.17/") {
		t.Errorf("manifest version %q schema %q, want 1.17", m.ManifestVersion, m.Schema)
	}
	if m.ID != appIDPlaceholder || m.WebApplicationInfo.ID != appIDPlaceholder || len(m.Bots) != 1 || m.Bots[0].BotID != appIDPlaceholder {
		t.Errorf("placeholders: id %q, botId %v, webApplicationInfo.id %q", m.ID, m.Bots, m.WebApplicationInfo.ID)
	}
	bot := m.Bots[0]
	slices.Sort(bot.Scopes)
	if !slices.Equal(bot.Scopes, []string{"personal", "team"}) {
		t.Errorf("bot scopes %v", bot.Scopes)
	}
	if len(bot.CommandLists) != 1 {
		t.Fatalf("%d command lists", len(bot.CommandLists))
	}
	var titles []string
	for _, c := range bot.CommandLists[0].Commands {
		titles = append(titles, c.Title)
		if c.Description == "" || len(c.Description) > 128 || len(c.Title) > 32 {
			t.Errorf("command %q: title or description out of the schema's bounds", c.Title)
		}
	}
	if !slices.Equal(titles, wantCommands) {
		t.Errorf("commands %v, want %v", titles, wantCommands)
	}
	if len(titles) > 10 {
		t.Errorf("%d commands; schema 1.17 allows 10", len(titles))
	}
	if m.Icons.Color != "color.png" || m.Icons.Outline != "outline.png" {
		t.Errorf("icons %+v", m.Icons)
	}
}

func TestIconsAreWhatTeamsWants(t *testing.T) {
	for name := range iconSizes {
		data, err := os.ReadFile(filepath.Join(manifestDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := checkIcon(name, data); err != nil {
			t.Error(err)
		}
	}
	// The committed icons are the ones the program draws (pixels, not
	// bytes: PNG compression may differ between Go releases).
	for name, drawn := range map[string]*image.NRGBA{"color.png": colorIcon(), "outline.png": outlineIcon()} {
		data, _ := os.ReadFile(filepath.Join(manifestDir, name))
		committed, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		b := drawn.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if color.NRGBAModel.Convert(committed.At(x, y)) != drawn.NRGBAAt(x, y) {
					t.Fatalf("%s differs from what the program draws at %d,%d; run go run ./scripts/teamspkg -write-icons manifests/teams", name, x, y)
				}
			}
		}
	}
}

func TestPackage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bin", "slabot-teams.zip")
	appID := "6F1A2B3C-4D5E-4F60-8A7B-9C0D1E2F3A4B"
	if err := buildPackage(manifestDir, out, appID); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	var m manifest
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name != "manifest.json" {
			continue
		}
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("packaged manifest: %v", err)
		}
		if bytes.Contains(data, []byte("{{")) {
			t.Error("a placeholder is left in the packaged manifest")
		}
	}
	if !slices.Equal(names, []string{"manifest.json", "color.png", "outline.png"}) {
		t.Errorf("zip holds %v", names)
	}
	want := strings.ToLower(appID)
	if m.ID != want || m.Bots[0].BotID != want || m.WebApplicationInfo.ID != want {
		t.Errorf("app id not filled in: %+v", m)
	}

	for _, bad := range []string{"", "not-a-guid", "6f1a2b3c4d5e4f608a7b9c0d1e2f3a4b"} {
		err := buildPackage(manifestDir, filepath.Join(t.TempDir(), "x.zip"), bad)
		if err == nil || !strings.Contains(err.Error(), "TEAMS_APP_ID") {
			t.Errorf("app id %q: %v, want an error naming TEAMS_APP_ID", bad, err)
		}
	}
}
