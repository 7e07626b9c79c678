package occ

import (
	"log/slog"
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
	paths := make([]string, 0, min(len(e.Conflicts), maxNamedPaths))
	for _, c := range e.Conflicts[:min(len(e.Conflicts), maxNamedPaths)] {
		paths = append(paths, c.Path)
	}
	return slog.GroupValue(slog.Int("conflicts", len(e.Conflicts)), slog.Any("paths", paths))
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

var (
	_ slog.LogValuer = (*ConflictError)(nil)
	_ slog.LogValuer = (*StatusError)(nil)
	_ slog.LogValuer = (*MergeConflictError)(nil)
)
