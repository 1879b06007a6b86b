package benchgen

import (
	"encoding/json"
	"testing"
	"time"
)

func TestJSONObject(t *testing.T) {
	at := time.Date(2026, 11, 19, 14, 30, 0, 123000, time.FixedZone("EST", -5*3600))
	got := jsonObject("s", "a \"quoted\" \\ text\n\x01 – ok", "i", 7, "n", int64(-3), "f", 1234.5, "b", true,
		"l", []string{"x", "y"}, "t", at, "r", rawJSON(`{"k":1}`))
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if v["s"] != "a \"quoted\" \\ text\n\x01 – ok" || v["i"] != 7.0 || v["n"] != -3.0 || v["f"] != 1234.5 || v["b"] != true ||
		len(v["l"].([]any)) != 2 || v["t"] != "2026-11-19T19:30:00.000123Z" || v["r"].(map[string]any)["k"] != 1.0 {
		t.Errorf("%s reads back as %v", got, v)
	}
}
