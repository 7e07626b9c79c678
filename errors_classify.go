package occ

import (
	"net/http"
	"strings"
	"unicode"
)

// Classifier decides the [Kind] of a conflict. e holds everything parsed
// from the answer, with Kind set to a parser's hint or [KindUnknown];
// resp.Body has already been consumed. Classify returns ok false to leave the
// decision to the next classifier; the caller's classifiers are tried in
// order, then the built-in one (see [DefaultClassifier]). A caller's
// classifier runs for 412 and 428 too, so it can override the status rules
// for an API that bends them. Implementations must be safe for concurrent
// use.
type Classifier interface {
	Classify(resp *http.Response, e *ConflictError) (k Kind, ok bool)
}

// ClassifierFunc adapts a function to a [Classifier].
type ClassifierFunc func(resp *http.Response, e *ConflictError) (Kind, bool)

// Classify calls f.
func (f ClassifierFunc) Classify(resp *http.Response, e *ConflictError) (Kind, bool) {
	return f(resp, e)
}

var _ Classifier = ClassifierFunc(nil)

// DefaultClassifier returns the built-in classifier, which always decides:
//
//   - 412 is [KindVersion], except a 412 answering a create-if-absent,
//     which is [KindDuplicate];
//   - 428 is [KindPreconditionRequired];
//   - a 409 takes the kind a parser recognised from the format (Google's
//     ALREADY_EXISTS, ABORTED and FAILED_PRECONDITION; Elasticsearch's
//     version_conflict_engine_exception by its reason), else the kind named
//     by the words of its codes (Code and the format's other codes), else
//     by the words of its message and problem title; else [KindUnknown];
//   - a 409 answering a create-if-absent that reads as [KindVersion] or
//     [KindUnknown] is [KindDuplicate]: a create has no version to be
//     stale, so the thing it conflicts with is one that already exists
//     (PouchDB answers "Document update conflict"). A busy or state 409
//     keeps its kind.
//
// An answer is to a create-if-absent when the request carried
// If-None-Match: * (as [ParseConflict] reads it from resp.Request), or, for
// the operations of a [Client], when the request occ built was a create,
// whatever a RoundTripper made of it. A reason phrase that stands in for a
// missing message (RFC 9110 tells clients to ignore it) is never classified.
//
// The words, in order of precedence (a rule needs one phrase of its list,
// matched on whole words of the text lower-cased with camelCase and
// snake_case split; RFC 9110's "conflict with the current state of the
// target resource", which names no kind, is ignored). Kubernetes' "object
// is being deleted" is busy before any format's hint. Then:
//
//   - busy, when the text also says "idempotency": in use, in progress,
//     being processed, outstanding, processing, concurrent;
//   - busy: already being, exclusive access, concurrent operation;
//   - version: object has been modified, optimistic lock(ing), optimistic
//     concurrency, update conflict, document conflict, edit conflict,
//     concurrent(ly) modification/modified, modified since, updated or
//     deleted by another transaction, unexpected row count, stale object,
//     but expected, expected to be at, concurrency conflict, changed or
//     modified by another user;
//   - state, named outright: invalid/illegal/wrong/incorrect/incompatible state, invalid
//     status, state/status transition, invalid transition, cannot
//     transition (before busy, so that a state named IN_PROGRESS reads as
//     a state);
//   - busy: in progress, locked, lock, busy, being processed, another
//     operation, operation pending, lease, being deleted, being created, try
//     again later, retry later, conflicting operation;
//   - duplicate: already exists, already exist, exists, duplicate(d/s),
//     unique(ness), taken, already registered, already in use, name
//     conflict, already present, already own(ed), uid conflict, resource
//     must be null, already assigned, already there, pick or choose
//     another;
//   - state: invalid/illegal/wrong/incorrect state, invalid status, state
//     transition, (cannot) transition, not allowed in, current state, in
//     state, read only, frozen, archived, already been, already
//     cancelled/canceled/closed/completed/shipped, failed precondition, not
//     permitted, cannot/can not be modified, cannot be changed, can no
//     longer, no longer, has shipped, immutable, does not allow, not
//     allowed for status, not cancel(l)able, cannot be cancel(l)ed, cannot
//     remove or delete, cannot be removed or deleted, marked for removal or
//     deletion, is in use, in use by, already paused, running or stopped,
//     not running, is empty, not empty;
//   - version: modified, version(s), revision, rev, stale, outdated, out of
//     date, does not match, mismatch, etag, if match, precondition, changed.
//
// It is safe for concurrent use.
func DefaultClassifier() Classifier {
	return ClassifierFunc(func(resp *http.Response, e *ConflictError) (Kind, bool) {
		return classifyBuiltin(resp, e), true
	})
}

// classify runs the caller's classifiers, then the built-in one.
func (s *errorSettings) classify(resp *http.Response, e *ConflictError) Kind {
	if s != nil {
		for _, c := range s.classifiers {
			if k, ok := c.Classify(resp, e); ok {
				return k
			}
		}
	}
	return classifyBuiltin(resp, e)
}

// classifyBuiltin is the built-in classification described at
// [DefaultClassifier].
func classifyBuiltin(resp *http.Response, e *ConflictError) Kind {
	create := e.create
	if !e.createKnown && resp != nil {
		create = isCreateIfAbsent(resp.Request) // an error the caller built
	}
	switch e.StatusCode {
	case http.StatusPreconditionFailed:
		if create {
			return KindDuplicate
		}
		return KindVersion
	case http.StatusPreconditionRequired:
		return KindPreconditionRequired
	case http.StatusConflict:
		k := classify409(e)
		if create && (k == KindVersion || k == KindUnknown) {
			return KindDuplicate
		}
		return k
	}
	return KindUnknown
}

// classify409 reads a 409's kind from the format's hint, its codes, then
// its message and problem title.
func classify409(e *ConflictError) Kind {
	if k := kindFromRules(overrideRules, e.Message); k != KindUnknown {
		return k
	}
	if e.Kind != KindUnknown {
		return e.Kind
	}
	if k := kindFromWords(append([]string{e.Code}, e.hints...)...); k != KindUnknown {
		return k
	}
	msg, title := e.Message, ""
	if e.statusMessage {
		msg = ""
	}
	if e.Problem != nil {
		title = e.Problem.Title
	}
	return kindFromWords(msg, title)
}

// isCreateIfAbsent reports whether req carried If-None-Match: *.
func isCreateIfAbsent(req *http.Request) bool {
	if req == nil {
		return false
	}
	for _, v := range req.Header.Values("If-None-Match") {
		if strings.TrimSpace(v) == "*" {
			return true
		}
	}
	return false
}

// kindRule names a kind by words. Rules are tried in order; a rule matches
// when the text holds every word of all (if any) and one phrase of any.
type kindRule struct {
	kind Kind
	all  []string
	any  []string
}

// kindRules is the classification table, in order of precedence. Phrases
// match whole words of the normalised text (lower case, camelCase and
// snake_case split, punctuation removed).
var kindRules = padRules([]kindRule{
	{KindBusy, []string{"idempotency"}, []string{"in use", "in progress", "being processed",
		"outstanding", "processing", "concurrent"}},
	{KindBusy, nil, []string{"already being", "exclusive access", "concurrent operation"}},
	{KindVersion, nil, []string{"object has been modified", "optimistic lock", "optimistic locking",
		"optimistic concurrency", "update conflict", "document conflict", "edit conflict",
		"concurrency conflict", "changed by another user", "modified by another user",
		"concurrent modification", "concurrently modified", "modified since",
		"updated or deleted by another transaction", "unexpected row count", "stale object",
		"but expected", "expected to be at"}},
	{KindState, nil, []string{"invalid state", "illegal state", "wrong state", "incorrect state",
		"incompatible state", "invalid status", "state transition", "status transition",
		"invalid transition", "cannot transition"}},
	{KindBusy, nil, []string{"in progress", "locked", "lock", "busy", "being processed",
		"another operation", "operation pending", "lease", "being deleted", "being created",
		"try again later", "retry later", "conflicting operation"}},
	{KindDuplicate, nil, []string{"already exists", "already exist", "exists", "duplicate",
		"duplicated", "duplicates", "unique", "uniqueness", "taken", "already registered",
		"already in use", "name conflict", "already present", "already own", "already owned",
		"uid conflict", "resource must be null", "already assigned", "already there",
		"pick another", "choose another"}},
	{KindState, nil, []string{"invalid state", "illegal state", "wrong state", "incorrect state",
		"invalid status", "state transition", "transition", "cannot transition", "not allowed in",
		"current state", "in state", "read only", "frozen", "archived", "already been",
		"already cancelled", "already canceled", "already closed", "already completed",
		"failed precondition", "not permitted", "cannot be modified", "cannot be changed",
		"can not be modified", "can no longer", "no longer", "has shipped", "already shipped",
		"immutable", "does not allow", "not allowed for status", "not cancellable", "not cancelable",
		"cannot be cancelled", "cannot be canceled", "cannot remove", "cannot be removed",
		"cannot delete", "cannot be deleted", "marked for removal", "marked for deletion",
		"is in use", "in use by", "already paused", "already running", "already stopped",
		"not running", "is empty", "not empty"}},
	{KindVersion, nil, []string{"modified", "version", "versions", "revision", "rev", "stale",
		"outdated", "out of date", "does not match", "mismatch", "etag", "if match",
		"precondition", "changed"}},
})

// padRules surrounds every phrase with spaces, so that it matches whole
// words of a normalised text.
func padRules(rules []kindRule) []kindRule {
	for i := range rules {
		for _, ws := range [][]string{rules[i].all, rules[i].any} {
			for j, w := range ws {
				ws[j] = " " + w + " "
			}
		}
	}
	return rules
}

// boilerplate are phrases that say nothing of a conflict's kind, blanked
// before the rules run: RFC 9110's own description of 409 ("a conflict with
// the current state of the target resource"), which APIs copy into their
// messages, would otherwise read as a state.
var boilerplate = padRules([]kindRule{{any: []string{"conflict with the current state of the target resource",
	"conflict with the current state of the resource", "conflict with the current state of the"}}})[0].any

// overrideRules are messages that outrank a format's hint: Kubernetes
// answers a create whose predecessor is still being deleted with reason
// AlreadyExists, and the message "object is being deleted: ... already
// exists", which clears once the deletion ends.
var overrideRules = padRules([]kindRule{{KindBusy, nil, []string{"object is being deleted"}}})

// kindFromWords classifies texts by [kindRules].
func kindFromWords(texts ...string) Kind {
	return kindFromRules(kindRules, texts...)
}

// kindFromRules classifies texts by rules: the first that matches names
// the kind.
func kindFromRules(rules []kindRule, texts ...string) Kind {
	t := normalizeWords(strings.Join(texts, " . "))
	for _, b := range boilerplate {
		t = strings.ReplaceAll(t, b, " ")
	}
	if strings.TrimSpace(t) == "" {
		return KindUnknown
	}
	for _, r := range rules {
		if hasAll(t, r.all) && hasAny(t, r.any) {
			return r.kind
		}
	}
	return KindUnknown
}

func hasAll(t string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(t, w) {
			return false
		}
	}
	return true
}

func hasAny(t string, words []string) bool {
	for _, w := range words {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

// normalizeWords lower-cases s, splits camelCase, turns everything but
// letters and digits into single spaces, and pads the result with spaces.
func normalizeWords(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	prev := ' '
	for _, r := range s {
		switch {
		case unicode.IsUpper(r):
			if unicode.IsLower(prev) || unicode.IsDigit(prev) {
				b.WriteByte(' ')
			}
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			if prev != ' ' {
				b.WriteByte(' ')
			}
			r = ' '
		}
		prev = r
	}
	if prev != ' ' {
		b.WriteByte(' ')
	}
	return b.String()
}
