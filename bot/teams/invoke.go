package teams

import "net/http"

// Content types of an adaptiveCard/action invoke response body.
const (
	InvokeResponseCard    = "application/vnd.microsoft.card.adaptive"
	InvokeResponseMessage = "application/vnd.microsoft.activity.message"
	ContentTypeCard       = "application/vnd.microsoft.card.adaptive"
)

// InvokeResponse is the synchronous answer to an invoke activity: the HTTP
// status of the reply to Teams and its JSON body.
type InvokeResponse struct {
	Status int
	Body   any
}

// AdaptiveCardInvokeResponse is the body that answers an
// adaptiveCard/action invoke: a redrawn card or a message.
type AdaptiveCardInvokeResponse struct {
	StatusCode int    `json:"statusCode"`
	Type       string `json:"type"`
	Value      any    `json:"value"`
}

// CardResponse answers a click with the redrawn card, which replaces the
// clicked card for the person who clicked.
func CardResponse(card any) *InvokeResponse {
	return &InvokeResponse{Status: http.StatusOK, Body: AdaptiveCardInvokeResponse{
		StatusCode: http.StatusOK, Type: InvokeResponseCard, Value: card,
	}}
}

// MessageResponse answers a click with a short message (a refusal or a
// note) and leaves the card as it is.
func MessageResponse(text string) *InvokeResponse {
	return &InvokeResponse{Status: http.StatusOK, Body: AdaptiveCardInvokeResponse{
		StatusCode: http.StatusOK, Type: InvokeResponseMessage, Value: text,
	}}
}
