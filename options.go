package occ

import (
	"errors"
	"log/slog"
	"net/http"
)

// Option configures a [Client]; pass options to [New]. Options apply in
// order, so the last one wins. An Option that is also a [CallOption] sets the
// client's default for every call.
type Option interface {
	applyClient(*Client) error
}

// CallOption configures one call, overriding the client's default.
type CallOption interface {
	applyCall(*settings) error
}

// SharedOption is an option accepted both by [New], as the client's default,
// and by each call.
type SharedOption interface {
	Option
	CallOption
}

// clientOption is an [Option] that only a client takes.
type clientOption func(*Client) error

func (f clientOption) applyClient(c *Client) error { return f(c) }

// callOption is a [CallOption] that only a call takes.
type callOption func(*settings) error

func (f callOption) applyCall(s *settings) error { return f(s) }

// sharedOption is a [SharedOption]: it changes the settings of a call, or a
// client's defaults.
type sharedOption func(*settings) error

func (f sharedOption) applyCall(s *settings) error { return f(s) }
func (f sharedOption) applyClient(c *Client) error { return f(&c.defaults) }

var (
	_ Option       = clientOption(nil)
	_ CallOption   = callOption(nil)
	_ SharedOption = sharedOption(nil)
)

// settings are what one call runs with: the client's defaults, changed by
// the call's options.
type settings struct {
	maxAttempts int
}

// WithHTTPClient makes the client send through hc, keeping its transport,
// timeouts, cookie jar and redirect policy. The client is copied, never
// modified. The default is a new [http.Client] with its own pooled transport;
// [http.DefaultClient] and [http.DefaultTransport] are never used.
func WithHTTPClient(hc *http.Client) Option {
	return clientOption(func(c *Client) error {
		if hc == nil {
			return errors.New("occ: WithHTTPClient: nil client")
		}
		cp := *hc
		c.hc = &cp
		return nil
	})
}

// WithLogger makes the client log to l. The default is silent. Credentials,
// cookies and bodies are never logged.
func WithLogger(l *slog.Logger) Option {
	return clientOption(func(c *Client) error {
		c.logger = l
		return nil
	})
}

// WithMaxAttempts bounds how many writes one operation makes, the first
// included; it must be at least 1. The default is 10.
func WithMaxAttempts(n int) SharedOption {
	return sharedOption(func(s *settings) error {
		if n < 1 {
			return errors.New("occ: WithMaxAttempts: n must be at least 1")
		}
		s.maxAttempts = n
		return nil
	})
}
