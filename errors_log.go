package occ

import (
	"encoding/json"
	"log/slog"
	"time"
)

// LogValue makes a ConflictError log as a group of its status, kind, code,
// sanitised message, fields, method, redacted URL, request id, current
// version, attempts and retry wait, so that slog prints what matters and
// nothing secret: never the body, the current representation or the
// headers.
func (e *ConflictError) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.Int("status", e.StatusCode),
		slog.String("kind", e.Kind.String()),
	}
	attrs = appendText(attrs, "code", e.Code)
	attrs = appendText(attrs, "message", e.Message)
	if len(e.Fields) > 0 {
		attrs = append(attrs, slog.Any("fields", e.Fields))
	}
	attrs = appendRequest(attrs, e.Method, e.URL, e.RequestID)
	attrs = appendText(attrs, "current_version", e.CurrentVersion)
	if e.Attempts > 0 {
		attrs = append(attrs, slog.Int("attempts", e.Attempts))
	}
	if e.RetryAfter > 0 {
		attrs = append(attrs, slog.Duration("retry_after", e.RetryAfter))
	}
	return slog.GroupValue(attrs...)
}

// LogValue makes a StatusError log as a group of its status, code,
// sanitised message, fields, method, redacted URL and request id; never its
// body or headers.
func (e *StatusError) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Int("status", e.StatusCode)}
	attrs = appendText(attrs, "code", e.Code)
	attrs = appendText(attrs, "message", e.Message)
	if len(e.Fields) > 0 {
		attrs = append(attrs, slog.Any("fields", e.Fields))
	}
	attrs = appendRequest(attrs, e.Method, e.URL, e.RequestID)
	if e.RetryAfter > 0 {
		attrs = append(attrs, slog.Duration("retry_after", e.RetryAfter))
	}
	return slog.GroupValue(attrs...)
}

// LogValue makes a MergeConflictError log as the number of conflicting
// paths and the first few of them; never the values, which are the
// caller's data.
func (e *MergeConflictError) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("conflicts", len(e.Conflicts)), slog.Any("paths", e.shownPaths()))
}

// shownPaths returns the first few conflicting paths, as shown.
func (e *MergeConflictError) shownPaths() []string {
	paths := make([]string, 0, min(len(e.Conflicts), maxNamedPaths))
	for _, c := range e.Conflicts[:min(len(e.Conflicts), maxNamedPaths)] {
		paths = append(paths, shownPath(c.Path))
	}
	return paths
}

// appendText appends a string attribute when v is set.
func appendText(attrs []slog.Attr, key, v string) []slog.Attr {
	if v == "" {
		return attrs
	}
	return append(attrs, slog.String(key, v))
}

// appendRequest appends the method, the URL redacted again, and the
// request id, when set.
func appendRequest(attrs []slog.Attr, method, url, requestID string) []slog.Attr {
	attrs = appendText(attrs, "method", method)
	attrs = appendText(attrs, "url", redactURLText(url))
	return appendText(attrs, "request_id", requestID)
}

// errorJSON is the JSON form of a [ConflictError] or [StatusError]: their
// safe fields, under their Go names (so that it decodes back into the
// type), and no body, header, document or problem extension.
type errorJSON struct {
	StatusCode       int
	Kind             *Kind         `json:",omitempty"`
	Code             string        `json:",omitempty"`
	Message          string        `json:",omitempty"`
	Fields           []string      `json:",omitempty"`
	Suggestion       string        `json:",omitempty"`
	CurrentVersion   string        `json:",omitempty"`
	DocumentationURL string        `json:",omitempty"`
	Method           string        `json:",omitempty"`
	URL              string        `json:",omitempty"`
	RequestID        string        `json:",omitempty"`
	RetryAfter       time.Duration `json:",omitempty"`
	Attempts         int           `json:",omitempty"`
}

// MarshalJSON encodes the error as an object of its safe fields: status,
// kind, code, sanitised message, fields, suggestion, current version,
// documentation URL, method, redacted URL, request id, retry wait and
// attempts; never the body, the current representation or the headers,
// which may repeat secrets. It decodes back into a ConflictError.
func (e *ConflictError) MarshalJSON() ([]byte, error) {
	return json.Marshal(errorJSON{
		StatusCode: e.StatusCode, Kind: &e.Kind, Code: e.Code, Message: e.Message, Fields: e.Fields,
		Suggestion: e.Suggestion, CurrentVersion: e.CurrentVersion, DocumentationURL: e.DocumentationURL,
		Method: e.Method, URL: redactURLText(e.URL), RequestID: e.RequestID, RetryAfter: e.RetryAfter, Attempts: e.Attempts,
	})
}

// MarshalJSON encodes the error as an object of its safe fields: status,
// code, sanitised message, fields, method, redacted URL, request id and
// retry wait; never its body or headers. It decodes back into a
// StatusError.
func (e *StatusError) MarshalJSON() ([]byte, error) {
	return json.Marshal(errorJSON{
		StatusCode: e.StatusCode, Code: e.Code, Message: e.Message, Fields: e.Fields,
		Method: e.Method, URL: redactURLText(e.URL), RequestID: e.RequestID, RetryAfter: e.RetryAfter,
	})
}

// MarshalJSON encodes the error as its number of conflicting paths and
// the first few, sanitised, as LogValue does; never the values, which are
// the caller's data.
func (e *MergeConflictError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Conflicts int      `json:"conflicts"`
		Paths     []string `json:"paths"`
	}{len(e.Conflicts), e.shownPaths()})
}

// MarshalJSON encodes the error as its key, attempts and version, and the
// text of the error that ended the operation as Cause; never the document
// read after the write (Current).
func (e *AmbiguousError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Key      string
		Attempts int
		Version  string `json:",omitempty"`
		Cause    string `json:",omitempty"`
	}{e.Key, e.Attempts, cleanText(e.Version, maxShort), causeText(e.Err)})
}

// MarshalJSON encodes the error as its redacted URLs, whether the write
// landed, and the text of the conflict that named Target as Cause.
func (e *OriginError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		URL, Target string
		Landed      bool
		Cause       string `json:",omitempty"`
	}{cleanText(e.URL, maxShort), cleanText(e.Target, maxShort), e.Landed, causeText(e.Err)})
}

// causeText is err's text, or "" for nil.
func causeText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

var (
	_ json.Marshaler = (*AmbiguousError)(nil)
	_ json.Marshaler = (*OriginError)(nil)
	_ json.Marshaler = (*ConflictError)(nil)
	_ json.Marshaler = (*StatusError)(nil)
	_ json.Marshaler = (*MergeConflictError)(nil)
	_ slog.LogValuer = (*ConflictError)(nil)
	_ slog.LogValuer = (*StatusError)(nil)
	_ slog.LogValuer = (*MergeConflictError)(nil)
)
