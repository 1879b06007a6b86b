package teams

import (
	"log/slog"
	"net/http"
)

// TransportOptions tune NewTransport; zero values are fine in production.
type TransportOptions struct {
	Logger     *slog.Logger
	HTTPClient *http.Client
	// Pacer spaces connector writes (nil: the Teams limits).
	Pacer *Pacer
}

// Transport bundles the clients built from one Config, sharing one token
// source: what the Teams adapter needs to run.
type Transport struct {
	Config    Config
	Verifier  *Verifier
	Tokens    *TokenSource
	Connector *Connector
	Graph     *Graph
}

// NewTransport builds the clients for cfg (defaults filled in; call
// cfg.Validate first).
func NewTransport(cfg Config, opts TransportOptions) *Transport {
	cfg = cfg.WithDefaults()
	tokens := NewTokenSource(TokenSourceOptions{
		LoginURL: cfg.LoginURL, TenantID: cfg.TenantID, AppID: cfg.AppID, AppPassword: cfg.AppPassword,
		HTTPClient: opts.HTTPClient, Logger: opts.Logger,
	})
	return &Transport{
		Config: cfg,
		Verifier: NewVerifier(VerifierOptions{
			AppID: cfg.AppID, TenantID: cfg.TenantID, OpenIDMetadataURL: cfg.OpenIDMetadataURL, HTTPClient: opts.HTTPClient, Logger: opts.Logger,
			ServiceURLHosts: cfg.ServiceURLHosts,
		}),
		Tokens: tokens,
		Connector: NewConnector(ConnectorOptions{
			AppID: cfg.AppID, TenantID: cfg.TenantID, ServiceURL: cfg.ServiceURL, ServiceURLHosts: cfg.ServiceURLHosts, Tokens: tokens,
			HTTPClient: opts.HTTPClient, Pacer: opts.Pacer, Logger: opts.Logger,
		}),
		Graph: NewGraph(GraphOptions{
			BaseURL: cfg.GraphURL, AppID: cfg.AppID, Tokens: tokens, HTTPClient: opts.HTTPClient, Logger: opts.Logger,
		}),
	}
}

// Handler returns the POST /api/messages endpoint that verifies tokens
// with t.Verifier and passes activities to next.
func (t *Transport) Handler(next ActivityHandler, opts HandlerOptions) *Handler {
	if opts.Logger == nil {
		opts.Logger = t.Verifier.keys.log
	}
	return NewHandler(t.Verifier, next, opts)
}
