package occ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/occ-go/occ/internal/jsonmerge"
)

// What [Probe] writes into a document, and where: a member of a JSON
// object, or an annotation of an object with Kubernetes-style metadata
// (which keeps no member it does not know), or a property of a vCard or
// iCalendar object. Its value is a random marker, so that Probe knows its
// own change when it reads the document back.
const (
	probeMember     = "occProbe"
	probeAnnotation = "occ-probe"
	probeProperty   = "X-OCC-PROBE:"
)

// newProbeMarker returns a fresh marker for one probe.
func newProbeMarker() string { return "occ-probe-" + strings.ToLower(newIdempotencyKey()) }

// probeRead reads the document to probe, creating a scratch one when it is
// absent, and taking it as bytes when it is not JSON.
func (c *Client) probeRead(ctx context.Context, url string, s *settings, r *ProbeReport) (*doc, error) {
	cur, err := c.read(ctx, url, s)
	var se *StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		cur, err = c.probeScratch(ctx, url, s, r)
	}
	if errors.Is(err, ErrInvalidDocument) {
		s.opaque, s.versionField, s.versionIfMatch, s.writeMode = true, nil, false, WritePut
		cur, err = c.read(ctx, url, s)
	}
	return cur, err
}

// probeScratch creates a scratch JSON document for url, the way [Create]
// would (a PUT to url, or a POST to its collection), and reads it.
func (c *Client) probeScratch(ctx context.Context, url string, s *settings, r *ProbeReport) (*doc, error) {
	target, err := createTarget(url, s)
	if err != nil {
		return nil, fmt.Errorf("occ: probe: creating a scratch document: %w", err)
	}
	body := scratchNamed([]byte(`{"`+probeMember+`":"`+newProbeMarker()+`"}`), url, s)
	d, err := c.create(ctx, target, body, s)
	if err != nil {
		return nil, fmt.Errorf("occ: probe: %s answered 404, and creating a scratch document failed (create a document there, then probe it): %w", url, err)
	}
	r.Created = true
	if s.createMethod == http.MethodPost && (d.url == target || !sameOrigin(d.url, target)) {
		return nil, fmt.Errorf("occ: probe: a scratch document was created by a POST to %s, but the answer did not say where (no Location): it may be left there; probe a document that exists", target)
	}
	r.URL = d.url
	return c.read(ctx, d.url, s)
}

// createTarget returns where [Create] sends a create of the document at u:
// u itself for a PUT, its collection for a POST ([WithCollection], on u's
// origin, else u's parent).
func createTarget(u string, s *settings) (string, error) {
	switch {
	case s.createMethod != http.MethodPost:
		return u, nil
	case s.collection != "" && !sameOrigin(u, s.collection):
		return "", fmt.Errorf("%w: WithCollection: %s is not on the origin of %s", ErrInvalidArgument, redactURLText(s.collection), redactURLText(u))
	case s.collection != "":
		return s.collection, nil
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("occ: probe: %w", err)
	}
	path := strings.TrimSuffix(p.Path, "/")
	i := strings.LastIndexByte(path, '/')
	if i < 0 || p.Host == "" {
		return "", fmt.Errorf("occ: probe: %s has no parent collection to POST to", redactURL(p))
	}
	p.Path, p.RawPath, p.Fragment = path[:i+1], "", ""
	return strings.TrimSuffix(p.String(), "/"), nil
}

// probeChange returns orig with a real change: marker written into it
// (see probeMember).
func probeChange(orig *doc, marker string) ([]byte, error) {
	if orig.opaque {
		return markedBytes(orig.raw, marker), nil
	}
	tree, err := decodeJSON(orig.raw) // a copy: orig's tree stays as read
	if err != nil {
		return nil, err
	}
	switch t := tree.(type) {
	case map[string]any:
		if md, ok := t["metadata"].(map[string]any); ok {
			ann, ok := md["annotations"].(map[string]any)
			if !ok && md["annotations"] == nil {
				ann = map[string]any{}
				md["annotations"] = ann
			}
			if ann != nil {
				ann[probeAnnotation] = marker
				break
			}
		}
		t[probeMember] = marker
	case []any:
		tree = append(t, marker)
	default:
		tree = marker
	}
	return mustRaw(tree), nil
}

// markedBytes returns raw with marker added: as a property before the last
// END: line of a vCard or iCalendar object, else on a line of its own at
// the end.
func markedBytes(raw []byte, marker string) []byte {
	out := bytes.Clone(raw)
	if bytes.HasPrefix(bytes.TrimLeft(raw, "\ufeff \t\r\n"), []byte("BEGIN:V")) {
		if i := bytes.LastIndex(raw, []byte("\nEND:V")); i >= 0 {
			eol := "\n"
			if i > 0 && raw[i-1] == '\r' {
				eol = "\r\n"
			}
			line := probeProperty + marker + eol
			return append(append(out[:i+1:i+1], line...), raw[i+1:]...)
		}
	}
	return append(out, "\n"+marker+"\n"...)
}

// probeHolds reports whether d holds marker, where probeChange puts it.
func probeHolds(d *doc, marker string) bool {
	if d.opaque {
		return bytes.Contains(d.raw, []byte(marker))
	}
	switch t := d.tree().(type) {
	case map[string]any:
		if md, ok := t["metadata"].(map[string]any); ok {
			if ann, ok := md["annotations"].(map[string]any); ok && ann[probeAnnotation] == marker {
				return true
			}
		}
		return t[probeMember] == marker
	case []any:
		for _, v := range t {
			if v == marker {
				return true
			}
		}
		return false
	}
	return d.tree() == marker
}

// probeRestore writes orig back over what Probe changed, conditioned on the
// version it finds, and reports whether the document is then as Probe found
// it (see probeLeft). A Last-Modified conditions it even when weak: Probe
// undoes its own write of a moment ago, which on a server with a
// one-second clock is always in the same second.
func (c *Client) probeRestore(ctx context.Context, orig *doc, marker string, settings *settings) bool {
	s := *settings
	trustLastModified(&s)
	return c.restore(ctx, orig, marker, &s)
}

// restore is probeRestore with its settings.
func (c *Client) restore(ctx context.Context, orig *doc, marker string, s *settings) bool {
	for range 3 { // a write of another party may come between
		cur, err := c.read(ctx, orig.url, s)
		switch {
		case err != nil:
			return false
		case !probeLeft(cur, orig, marker, s):
			return true
		}
		body := orig.raw
		if cur.hasField {
			if body, err = withVersionField(orig.raw, cur, s); err != nil {
				return false
			}
		}
		if _, err := c.write(ctx, cur, pending{body: body, key: newIdempotencyKey()}, s); err != nil {
			return false
		}
	}
	return false
}

// probeLeft reports whether cur differs from orig, the document as Probe
// found it: in its bytes, for a document that is not JSON; else by Probe's
// marker, or by any member but the version field and the members a server
// changes on every write (Kubernetes' metadata.managedFields, whose times
// move).
func probeLeft(cur, orig *doc, marker string, s *settings) bool {
	if orig.opaque {
		return !bytes.Equal(cur.raw, orig.raw)
	}
	if probeHolds(cur, marker) {
		return true
	}
	for _, ch := range jsonmerge.Diff(orig.tree(), cur.tree()) {
		if !slices.Equal(ch.Path, s.versionField) && !slices.Equal(ch.Path[:min(2, len(ch.Path))], []string{"metadata", "managedFields"}) {
			return true
		}
	}
	return false
}

// probeWeakDate returns why writes over d would be conditioned on a weak
// validator, or "": when they would carry If-Unmodified-Since (no strong
// ETag, version field or Dialect) and the server's answer has a Date less
// than a second after the Last-Modified (RFC 9110 section 8.8.2.2), a
// second write in the same second cannot be told from a stale one, unless
// the caller declared the server's clock finer (WithStrongLastModified).
func (c *Client) probeWeakDate(ctx context.Context, d *doc, s *settings) string {
	if s.dialect != nil || d.hasField || (d.etag != "" && (!isWeak(d.etag) || s.weakETags)) || d.lastModified == "" || declaredStrongLM(s) {
		return ""
	}
	resp, _, err := c.send(ctx, http.MethodGet, d.url, nil, nil, s)
	if err != nil {
		return ""
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
	lm, err1 := http.ParseTime(resp.Header.Get("Last-Modified"))
	date, err2 := http.ParseTime(resp.Header.Get("Date"))
	if err1 == nil && err2 == nil && date.Sub(lm) >= time.Second {
		return ""
	}
	return fmt.Sprintf("writes are conditioned on Last-Modified %s, which is weak: the answer's Date %q is not a second later (RFC 9110 section 8.8.2.2), so a write in the same second as another cannot be told from a stale one; the server needs an ETag or a version field", d.lastModified, resp.Header.Get("Date"))
}

// withoutVersionField returns the document of cur without its version
// field, as a new document would come: a body version makes a write an
// update on servers such as CouchDB and Kubernetes.
func withoutVersionField(cur *doc, s *settings) []byte {
	if !cur.hasField {
		return cur.raw
	}
	tree, err := decodeJSON(cur.raw) // a copy: applyChange changes it
	if err != nil {
		return cur.raw
	}
	b, err := json.Marshal(jsonmerge.Apply(tree, s.versionField, jsonmerge.Change{Remove: true}))
	if err != nil {
		return cur.raw
	}
	return b
}
