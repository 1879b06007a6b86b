package engine

import "testing"

func TestLifecycle(t *testing.T) {
	cases := []struct {
		from, to LeadState
		ok       bool
	}{
		{StateNew, StateNotified, true},
		{StateNotified, StateAcknowledged, true},
		{StateAcknowledged, StateWorking, true},
		{StateSnoozed, StateSnoozed, true}, // snoozing again moves the end of the snooze
		{StateWorking, StateReassigned, true},
		{StateReassigned, StateNotified, true},
		{StateOpportunity, StateWon, true},
		{StateWorking, StateNew, false},
		{StateWon, StateOpportunity, false},
		{StateReturned, StateWorking, false},
		{StateLost, StateWon, false},
		{StateWorking, "frozen", false},
	}
	for _, c := range cases {
		err := Transition(c.from, c.to)
		if (err == nil) != c.ok {
			t.Errorf("%s → %s: err = %v, want ok = %v", c.from, c.to, err, c.ok)
		}
		if err != nil && (ErrorCode(err) != EINVALID || ErrorMessage(err) == "") {
			t.Errorf("%s → %s: error %v should be EINVALID with a message", c.from, c.to, err)
		}
	}
}

func TestOpenStatesAreThoseWithRunningClocks(t *testing.T) {
	for _, s := range []LeadState{StateNew, StateNotified, StateAcknowledged, StateWorking, StateSnoozed, StateReassigned} {
		if !s.Open() {
			t.Errorf("%s should be open", s)
		}
	}
	for _, s := range []LeadState{StateReturned, StateOpportunity, StateWon, StateLost, StateDisqualified} {
		if s.Open() {
			t.Errorf("%s should not be open", s)
		}
	}
}
