package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// apiCall is one JSON call to a Microsoft API: the Bot Connector or Graph.
type apiCall struct {
	method string
	url    string
	token  string
	// name is how errors and logs name the call's path, without personal
	// data: "v3/conversations", "graph users/{id}".
	name string
	// body is sent as JSON; nil sends none.
	body any
	// connector reads a 403 as the connector's (blocked, not installed).
	connector bool
	// notFound is what a 404 means for this call (nil: a plain APIError).
	notFound error
}

// maxAnswerBytes bounds what slabot reads of an answer.
const maxAnswerBytes = 4 << 20

// callJSON makes the call with client and decodes a 2xx answer into out
// (nil: the answer is read and dropped, so the connection is reused). A
// non-2xx answer becomes the error responseError reads from it, as of now.
func callJSON(ctx context.Context, client *http.Client, call apiCall, out any, now func() time.Time) error {
	var reader io.Reader
	if call.body != nil {
		data, err := json.Marshal(call.body)
		if err != nil {
			return fmt.Errorf("teams: encode %s %s: %w", call.method, call.name, err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, call.method, call.url, reader)
	if err != nil {
		return fmt.Errorf("teams: %s %s: %w", call.method, call.name, err)
	}
	req.Header.Set("Authorization", "Bearer "+call.token)
	req.Header.Set("Accept", "application/json")
	if call.body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("teams: %s %s: %w", call.method, call.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return responseError(resp, call.method, call.name, call.connector, call.notFound, now())
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswerBytes)).Decode(out); err != nil {
		return fmt.Errorf("teams: decode the answer of %s %s: %w", call.method, call.name, err)
	}
	return nil
}
