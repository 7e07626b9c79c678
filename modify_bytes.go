package occ

import (
	"bytes"
	"context"
	"fmt"
)

// ModifyBytes is [Modify] for documents that are not JSON, or that the
// caller wants as they are: vCards and calendars on WebDAV, XML, text, S3
// or Cloud Storage objects. change receives the document's bytes (a copy it
// may keep) and returns the bytes to write; returning them unchanged writes
// nothing, and returning nil is an [ErrInvalidDocument] (an empty, non-nil
// slice empties the document). The write is conditioned on the version read (ETag,
// Last-Modified, or a [Dialect]'s), carries an Idempotency-Key and the
// Content-Type of the read (application/octet-stream when the read had
// none; a [Dialect]'s Encode may change it), and is retried as Modify's is:
// on a version conflict ModifyBytes reads again and calls change on the new
// bytes. There is no field-level rebase: change decides the whole document.
//
// The document is always written whole, with PUT (or as a Dialect's Encode
// says): [WithWriteMode] and [WithVersionField] do not apply. It returns
// the bytes as finally written; errors are those of [Modify].
func ModifyBytes(ctx context.Context, c *Client, url string, change func(doc []byte) ([]byte, error), opts ...CallOption) ([]byte, error) {
	v, err := operation(ctx, c, "ModifyBytes", url, opts, func(ctx context.Context, s *settings) (Versioned[[]byte], error) {
		if change == nil {
			return Versioned[[]byte]{}, argError("ModifyBytes", "nil change function")
		}
		s.opaque, s.versionField, s.versionIfMatch, s.writeMode = true, nil, false, WritePut
		cur, err := c.read(ctx, url, s)
		if err != nil {
			return Versioned[[]byte]{}, err
		}
		d, err := c.run(ctx, cur, bytesPlan(change), s)
		if err != nil {
			return Versioned[[]byte]{}, err
		}
		s.stats.add(func(st *Stats) { st.Version = d.version() })
		return Versioned[[]byte]{Value: d.raw, Version: d.version(), ETag: d.etag, LastModified: d.lastModified, URL: d.url}, nil
	})
	return v.Value, err
}

// bytesPlan plans a write by calling change on a copy of the document.
func bytesPlan(change func([]byte) ([]byte, error)) planner {
	return func(_ context.Context, cur *doc, _ int) ([]byte, error) {
		next, err := change(bytes.Clone(cur.raw))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrChangeAborted, err)
		}
		if next == nil {
			return nil, fmt.Errorf("%w: the change returned nil; return an empty, non-nil slice to empty the document", ErrInvalidDocument)
		}
		if bytes.Equal(next, cur.raw) {
			return nil, nil
		}
		return next, nil
	}
}
