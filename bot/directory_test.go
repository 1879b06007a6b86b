package bot

import (
	"testing"

	"github.com/slabot/slabot/engine"
)

func TestDecideDirectory(t *testing.T) {
	active := engine.Rep{Email: "ana@example.com", Team: "sdr-east", Status: engine.RepActive}
	away := engine.Rep{Email: "ana@example.com", Team: "sdr-east", Status: engine.RepAway}
	inactive := engine.Rep{Email: "ana@example.com", Team: "sdr-east", Status: engine.RepInactive}
	teamless := engine.Rep{Email: "ana@example.com", Status: engine.RepActive}
	tests := []struct {
		name    string
		rep     engine.Rep
		account Account
		want    DirectoryChange
	}{
		{"an active rep whose account was disabled leaves", active, AccountDisabled, DirectoryLeave},
		{"an away rep whose account was disabled leaves", away, AccountDisabled, DirectoryLeave},
		{"an active rep with an active account stays", active, AccountActive, DirectoryKeep},
		{"a rep the directory does not know stays: maybe a typo", active, AccountUnknown, DirectoryKeep},
		{"an inactive rep whose account is active again rejoins", inactive, AccountActive, DirectoryRejoin},
		{"an inactive rep still disabled stays out", inactive, AccountDisabled, DirectoryKeep},
		{"an inactive rep the directory does not know stays out", inactive, AccountUnknown, DirectoryKeep},
		{"a rep of no team is not in a rotation to leave", teamless, AccountDisabled, DirectoryKeep},
		{"an inactive rep of no team has no rotation to rejoin",
			engine.Rep{Email: "ana@example.com", Status: engine.RepInactive}, AccountActive, DirectoryKeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecideDirectory(tt.rep, tt.account); got != tt.want {
				t.Errorf("DecideDirectory = %v, want %v", got, tt.want)
			}
		})
	}
}
