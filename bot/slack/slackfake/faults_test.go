package slackfake_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestServerErrorRatio(t *testing.T) {
	fake, api := newFake(t)
	fake.AddChannel("C1", "general")
	ctx := ctxT(t, 5*time.Second)

	fake.InjectServerErrorRatio(1, 0, 1)
	var sc slack.StatusCodeError
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("lost", false)); !errors.As(err, &sc) || sc.Code != http.StatusInternalServerError {
		t.Fatalf("post with every call failing: %v, want a 500", err)
	}
	if n := len(fake.Messages("C1")); n != 0 {
		t.Fatalf("a call answered 500 stored %d messages", n)
	}
	if calls := fake.Calls("chat.postMessage"); len(calls) != 1 || calls[0].Status != http.StatusInternalServerError {
		t.Fatalf("recorded calls: %+v", calls)
	}

	fake.InjectServerErrorRatio(1, http.StatusBadGateway, 1)
	if _, err := api.AuthTestContext(ctx); !errors.As(err, &sc) || sc.Code != http.StatusBadGateway {
		t.Fatalf("auth.test: %v, want a 502", err)
	}

	// A share: about that many calls fail, the same ones for the same seed.
	fails := func(seed int64) []bool {
		fake.InjectServerErrorRatio(0.3, 0, seed)
		out := make([]bool, 200)
		for i := range out {
			_, err := api.AuthTestContext(ctx)
			out[i] = err != nil
		}
		return out
	}
	a, b := fails(7), fails(7)
	n := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("call %d: the same seed failed differently", i)
		}
		if a[i] {
			n++
		}
	}
	if n < 30 || n > 90 {
		t.Fatalf("%d of 200 calls failed with ratio 0.3", n)
	}

	fake.ClearFaults()
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("kept", false)); err != nil {
		t.Fatal(err)
	}
}
