package occ

import (
	"net/http"
	"net/url"
)

// redactedURL returns raw without user info and query. (Temporary: replaced
// by the error package's redaction.)
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// newStatusError builds a StatusError. (Temporary.)
func newStatusError(resp *http.Response, s *errorSettings) *StatusError {
	e := &StatusError{StatusCode: resp.StatusCode, Header: resp.Header.Clone()}
	if resp.Request != nil {
		e.Method = resp.Request.Method
		e.URL = redactedURL(resp.Request.URL.String())
	}
	e.Body = readBody(resp.Body, s.maxBody)
	return e
}
