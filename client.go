package occ

import (
	"log/slog"
	"net/http"
)

// Client runs conflict-aware operations. Create one with [New]; it is safe
// for concurrent use by multiple goroutines.
type Client struct {
	hc       *http.Client
	logger   *slog.Logger
	defaults settings
	errs     errorSettings
}

// New returns a client configured by opts. With no options it does the
// recommended thing. It returns an error when an option is invalid.
func New(opts ...Option) (*Client, error) {
	c := &Client{
		defaults: settings{maxAttempts: 10},
		errs:     errorSettings{maxBody: defaultMaxErrorBody},
	}
	for _, o := range opts {
		if err := o.applyClient(c); err != nil {
			return nil, err
		}
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return c, nil
}
