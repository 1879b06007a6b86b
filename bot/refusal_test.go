package bot

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// TestARefusalReadsTheSameOnACommandAndAClick holds the one wording of a
// refused request: a card's click (Refusal) and a typed command
// (Bot.failure) show the same line, and only what is the person's to fix
// is shown as a refusal.
func TestARefusalReadsTheSameOnACommandAndAClick(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want view.Text // nil: not a refusal
	}{
		{"not theirs to do", engine.Errorf(engine.EFORBIDDEN, "Only ana@example.com (the owner) can act on Acme."),
			view.T(view.Refused, " Only ana@example.com (the owner) can act on Acme.")},
		{"something to fix", engine.Errorf(engine.EINVALID, "Acme is already won."),
			view.T(view.Warning, " Acme is already won.")},
		{"nothing by that name", engine.Errorf(engine.ENOTFOUND, "There is no team emea."),
			view.T(view.Warning, " There is no team emea.")},
		{"moved on", fmt.Errorf("accept: %w", engine.Errorf(engine.ECONFLICT, "Acme has moved on.")),
			view.T(view.Warning, " Acme has moved on.")},
		{"ours to retry", errors.New("connection reset"), nil},
	}
	b := New(Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, ok := Refusal(tt.err)
			if ok != (tt.want != nil) {
				t.Fatalf("Refusal says %v, want %v", ok, tt.want != nil)
			}
			if diff := cmp.Diff(tt.want, line); diff != "" {
				t.Errorf("Refusal (-want +got):\n%s", diff)
			}
			answer := b.failure(tt.err)
			if tt.want == nil {
				want := textReply(view.T(view.Warning, " "+engine.ErrorMessage(tt.err)))
				if diff := cmp.Diff(want, answer); diff != "" {
					t.Errorf("a command's apology (-want +got):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(textReply(tt.want), answer); diff != "" {
				t.Errorf("a command's refusal differs from a click's (-want +got):\n%s", diff)
			}
		})
	}
}
