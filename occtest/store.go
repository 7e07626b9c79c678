package occtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// epoch is where the logical Last-Modified clock starts.
var epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Store is an in-memory, versioned store of JSON object resources keyed by
// URL path, served over HTTP by its ServeHTTP method. Every write gives a
// resource a new integer version (1, 2, 3, ... per path, never reused after a
// DELETE), which the store serves as an ETag ("3" by default), optionally in a
// version field of the document and as a Last-Modified date.
//
// Create one with [NewStore] (or [NewServer]); the zero value is not usable.
// A Store is safe for concurrent use by multiple goroutines.
type Store struct {
	cfg config

	mu        sync.Mutex
	res       map[string]*resource
	gone      map[string]int64 // last version of deleted resources
	seq       map[string]int64 // last id handed out per POST collection
	clock     time.Time
	faults    []Fault
	chaos     *chaos
	idem      map[string]*idemEntry
	idemOrder []idemRef // idem's keys, oldest first
	idemSeq   int
	hook      writeHook
	requests  []Request // the most recent, up to cfg.requestLog
	dropped   int       // requests that left the log
	writes    int
	limiter   rateLimiter
}

// resource is one stored document with its version metadata.
type resource struct {
	doc      map[string]any // numbers as json.Number; includes the version field
	raw      []byte         // the JSON encoding of doc, as served
	version  int64
	modified time.Time
}

// NewStore returns an empty Store configured by opts. With no options it
// serves strong ETags, no Last-Modified, no version field, no uniqueness or
// state rules, and answers a failed precondition with 412. NewStore panics if
// an option is invalid.
func NewStore(opts ...Option) *Store {
	cfg, err := newConfig(opts)
	if err != nil {
		panic(err)
	}
	return &Store{
		cfg:   cfg,
		res:   map[string]*resource{},
		gone:  map[string]int64{},
		seq:   map[string]int64{},
		clock: epoch,
		idem:  map[string]*idemEntry{},
	}
}

// Set creates or replaces the resource at path with doc, bumping its
// version, as a write by someone other than the client under test would.
// Uniqueness and transition rules are not checked. It returns an error if
// path does not start with "/" or doc is not a JSON object.
func (s *Store) Set(path string, doc []byte) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("occtest: Set: path %q does not start with /", path)
	}
	obj, err := decodeObject(doc)
	if err != nil {
		return fmt.Errorf("occtest: Set %s: %w", path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.commit(path, obj); err != nil {
		return fmt.Errorf("occtest: Set %s: %w", path, err)
	}
	return nil
}

// Get returns a copy of the document at path as served (with its version
// field, if any), its ETag as served ("" with [WithoutETags]), and whether
// the resource exists.
func (s *Store) Get(path string) (doc []byte, etag string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.res[path]
	if r == nil {
		return nil, "", false
	}
	return bytes.Clone(r.raw), s.etag(r), true
}

// Update is a competing writer: under the store's lock it decodes the
// document at path, calls fn to modify it in place, and stores the result
// with a new version, even if fn changed nothing. Numbers reach fn as
// [json.Number], so that every number fn leaves alone keeps its exact text
// (12345678901234567890 stays as written); fn may store any value
// encoding/json can encode, such as int, float64 or json.Number. fn must not
// call methods of s. Uniqueness and transition rules are not checked. It
// returns an error if there is no resource at path or the modified document
// cannot be encoded.
func (s *Store) Update(path string, fn func(doc map[string]any)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.res[path]
	if r == nil {
		return fmt.Errorf("occtest: Update: no resource at %s", path)
	}
	doc, err := decodeObject(r.raw)
	if err != nil {
		return fmt.Errorf("occtest: Update %s: %w", path, err)
	}
	fn(doc)
	data, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("occtest: Update %s: %w", path, err)
	}
	obj, err := decodeObject(data)
	if err != nil {
		return fmt.Errorf("occtest: Update %s: %w", path, err)
	}
	if _, err := s.commit(path, obj); err != nil {
		return fmt.Errorf("occtest: Update %s: %w", path, err)
	}
	return nil
}

// Writes returns how many writes the store has applied over HTTP: successful
// PUT, PATCH, POST and DELETE requests. Writes by [Store.Set] and
// [Store.Update] and replayed idempotent responses are not counted.
func (s *Store) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// commit stores obj at path as its next version; s.mu must be held.
func (s *Store) commit(path string, obj map[string]any) (*resource, error) {
	version := s.gone[path] + 1
	if old := s.res[path]; old != nil {
		version = old.version + 1
	}
	if s.cfg.versionField != "" {
		if err := setAt(obj, s.cfg.versionField, s.versionValue(version)); err != nil {
			return nil, fmt.Errorf("cannot set the version field %s", err)
		}
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	s.tick()
	r := &resource{doc: obj, raw: raw, version: version, modified: s.clock}
	s.res[path] = r
	delete(s.gone, path)
	return r, nil
}

// remove deletes the resource at path, remembering its version; s.mu must be
// held.
func (s *Store) remove(path string) {
	s.gone[path] = s.res[path].version
	delete(s.res, path)
	s.tick()
}

// tick moves the store's clock for a write: to now with WithSecondClock,
// else a second on; s.mu must be held.
func (s *Store) tick() {
	if s.cfg.secondClock {
		s.clock = time.Now()
		return
	}
	s.clock = s.clock.Add(time.Second)
}

// versionValue is the JSON value of the version field for version v.
func (s *Store) versionValue(v int64) any {
	str := strconv.FormatInt(v, 10)
	if s.cfg.versionString {
		return str
	}
	return json.Number(str)
}

// etag is the entity tag served for r, or "" without ETags.
func (s *Store) etag(r *resource) string {
	tag := `"` + strconv.FormatInt(r.version, 10) + `"`
	switch s.cfg.etags {
	case etagWeak:
		return "W/" + tag
	case etagNone:
		return ""
	}
	return tag
}

// validators returns the ETag and Last-Modified headers served for r.
func (s *Store) validators(r *resource) http.Header {
	h := http.Header{}
	if tag := s.etag(r); tag != "" {
		h.Set("ETag", tag)
	}
	if s.cfg.lastModified {
		h.Set("Last-Modified", r.modified.UTC().Format(http.TimeFormat))
		if s.cfg.secondClock {
			h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		}
	}
	return h
}
