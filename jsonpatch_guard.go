package occ

import (
	"context"
	"errors"
	"net/http"
)

// failedVersionTest reads a 422 answer to a JSON Patch that occ guarded
// with a test of the version field as the version conflict it is, when the
// version has moved. RFC 6902 says only that a failed test is an error;
// servers answer 409 or 412, or, as the Kubernetes API does, 422
// Unprocessable Entity, which cannot be told from a patch refused for its
// content. So occ reads the document again: when its version is no longer
// the one the patch tested, that test failed, and the answer is a
// [KindVersion] conflict (status 422) that the loop retries on the fresh
// state; otherwise the 422 stands. A 422 means the patch was not applied,
// so either way nothing is written twice.
func (c *Client) failedVersionTest(ctx context.Context, cur *doc, req WriteRequest, out outcome, err error, s *settings) (outcome, error) {
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnprocessableEntity || !cur.hasField ||
		s.dialect != nil || req.Header.Get("Content-Type") != "application/json-patch+json" {
		return out, err
	}
	fresh, rerr := c.read(ctx, cur.url, s)
	if rerr != nil || !fresh.hasField || fieldString(fresh.field) == fieldString(cur.field) {
		return out, err
	}
	ce := &ConflictError{
		StatusCode: se.StatusCode, Kind: KindVersion, Code: se.Code, Message: se.Message, Fields: se.Fields,
		Problem: se.Problem, Method: se.Method, URL: se.URL, RequestID: se.RequestID, Header: se.Header, Body: se.Body,
		CurrentVersion: fieldString(fresh.field),
	}
	c.noteConflict(ctx, s, ce)
	out.conflict, out.answered = ce, true
	return out, nil
}
