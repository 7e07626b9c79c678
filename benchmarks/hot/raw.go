package hot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// errConflict is a stale write, as the hand-written loops see it.
var errConflict = errors.New("hot: conflict")

// getDoc reads a document and its ETag, as a hand-written loop would.
func getDoc(ctx context.Context, hc *http.Client, url string) (map[string]int64, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, "", fmt.Errorf("hot: GET: status %d", resp.StatusCode)
	}
	var doc map[string]int64
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&doc); err != nil {
		return nil, "", err
	}
	return doc, resp.Header.Get("ETag"), nil
}

// putDoc writes a document conditioned on etag, or blindly when etag is
// empty; a stale etag gives errConflict.
func putDoc(ctx context.Context, hc *http.Client, url string, doc map[string]int64, etag string) error {
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if etag != "" {
		req.Header.Set("If-Match", etag)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent:
		return nil
	case http.StatusPreconditionFailed, http.StatusConflict:
		return errConflict
	}
	return fmt.Errorf("hot: PUT: status %d", resp.StatusCode)
}

// increment is one read-increment-conditional-write round.
func increment(ctx context.Context, hc *http.Client, url, field string, conditional bool) error {
	doc, etag, err := getDoc(ctx, hc, url)
	if err != nil {
		return err
	}
	doc[field]++
	if !conditional {
		etag = ""
	}
	return putDoc(ctx, hc, url, doc, etag)
}
