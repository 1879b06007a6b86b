package teams

import "net/http"

// Content types of an adaptiveCard/action invoke response body.
const (
	InvokeResponseCard    = "application/vnd.microsoft.card.adaptive"
	InvokeResponseMessage = "application/vnd.microsoft.activity.message"
	InvokeResponseError   = "application/vnd.microsoft.error"
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

// InvokeError is the value of an error answer to an invoke.
type InvokeError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorResponse answers a click with an error Teams shows on the card:
// statusCode 400 (the request was wrong) or 500 (the bot failed).
func ErrorResponse(statusCode int, code, message string) *InvokeResponse {
	return &InvokeResponse{Status: http.StatusOK, Body: AdaptiveCardInvokeResponse{
		StatusCode: statusCode, Type: InvokeResponseError, Value: InvokeError{Code: code, Message: message},
	}}
}
