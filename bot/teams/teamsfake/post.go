package teamsfake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// post sends a body to the bot with a Bot Framework token.
func (s *Server) post(ctx context.Context, endpoint string, body []byte, serviceURL string, opts []TokenOption) (*BotResponse, error) {
	auth, err := s.authorization(serviceURL, opts)
	if err != nil {
		return nil, fmt.Errorf("teamsfake: sign token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("teamsfake: post activity: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("teamsfake: post activity: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("teamsfake: read the bot's answer: %w", err)
	}
	return &BotResponse{Status: resp.StatusCode, Body: data}, nil
}
