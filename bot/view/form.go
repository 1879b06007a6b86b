package view

// Form asks a person for a few values before slabot acts: a modal on
// Slack, a card that opens in place on Teams. ID says what the form is
// for; Subject names what it acts on (a lead id), carried back with the
// values.
type Form struct {
	ID      string
	Subject string
	Title   string
	Submit  string
	Intro   []Text
	Inputs  []Input
}

// Input is one question of a Form: a choice when it has Options, else
// text.
type Input struct {
	ID          string
	Label       string
	Placeholder string
	Options     []Option
	// Initial is the value chosen or typed beforehand.
	Initial   string
	Multiline bool
	MaxLength int
	Optional  bool
	// Date makes the input a date picker: its value, Initial, Min and Max
	// are dates written YYYY-MM-DD. Min and Max bound what the picker
	// offers where the platform can (slabot checks the answer anyway).
	Date     bool
	Min, Max string
}
