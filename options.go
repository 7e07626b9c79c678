package occ

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
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

// WithMaxErrorBody bounds how many bytes of an error answer's body are read
// into a [ConflictError] or [StatusError]; n must be at least 1. Up to 256
// KiB more are drained so the connection can be reused, then the body is
// closed. The default is 64 KiB.
func WithMaxErrorBody(n int64) Option {
	return clientOption(func(c *Client) error {
		if n < 1 {
			return errors.New("occ: WithMaxErrorBody: n must be at least 1")
		}
		c.errs.maxBody = n
		return nil
	})
}

// WithConflictParser adds p to the parsers of error bodies, tried in the
// order added and before the built-in ones (see [ConflictParser]). p must
// not be nil. By default only the built-in parsers run.
func WithConflictParser(p ConflictParser) Option {
	return clientOption(func(c *Client) error {
		if p == nil {
			return errors.New("occ: WithConflictParser: nil parser")
		}
		c.errs.parsers = append(slices.Clip(c.errs.parsers), p)
		return nil
	})
}

// WithClassifier adds cl to the classifiers of conflicts, tried in the
// order added and before the built-in one (see [Classifier] and
// [DefaultClassifier]). cl must not be nil. By default only the built-in
// classifier runs.
func WithClassifier(cl Classifier) Option {
	return clientOption(func(c *Client) error {
		if cl == nil {
			return errors.New("occ: WithClassifier: nil classifier")
		}
		c.errs.classifiers = append(slices.Clip(c.errs.classifiers), cl)
		return nil
	})
}
