package teamsfake

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// DefaultMessageLimit is the largest activity the fake's connector takes,
// as Teams counts it: "The bot message size limit is 100 KB … encoded as
// UTF-16. This 100 KB size limitation doesn't include base64 encoded
// image"; over it "the bot receives a 413 status code
// (RequestEntityTooLarge), which contains the error code
// MessageSizeTooBig"
// (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages).
const DefaultMessageLimit = 100 * 1024

// SetMessageLimit changes the largest activity the connector takes (in
// bytes of UTF-16; 0 restores DefaultMessageLimit), to make Teams refuse
// a message a test can build small.
func (s *Server) SetMessageLimit(bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bytes <= 0 {
		bytes = DefaultMessageLimit
	}
	s.messageLimit = bytes
}

// utf16Size is the size in bytes of UTF-8 text encoded as UTF-16.
func utf16Size(text string) int {
	n := 0
	for _, r := range text {
		if r >= 0x10000 {
			n += 4
		} else {
			n += 2
		}
	}
	return n
}

// MessageSize is an activity's size as the fake counts it: the JSON the
// bot sent, in UTF-16, without the base64 data: URLs of its pictures.
func MessageSize(body []byte) int {
	size := utf16Size(string(body))
	var a struct {
		Attachments []struct {
			ContentURL string `json:"contentUrl"`
		} `json:"attachments"`
	}
	if json.Unmarshal(body, &a) == nil {
		for _, att := range a.Attachments {
			if strings.HasPrefix(att.ContentURL, "data:") {
				size -= utf16Size(att.ContentURL)
			}
		}
	}
	return size
}

// decodeActivity reads an activity the bot writes and answers 400 or
// 413 when the connector would refuse it.
func (s *Server) decodeActivity(w http.ResponseWriter, r *http.Request) (Activity, bool) {
	var a Activity
	data, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err == nil {
		err = json.Unmarshal(data, &a)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadArgument", "the activity is not JSON")
		return a, false
	}
	size := MessageSize(data)
	if rec, ok := w.(*statusRecorder); ok {
		rec.size = size
	}
	s.mu.Lock()
	limit := s.messageLimit
	s.mu.Unlock()
	if size > limit {
		writeError(w, http.StatusRequestEntityTooLarge, "MessageSizeTooBig", "Message size too large.")
		return a, false
	}
	return a, checkCards(w, &a)
}
