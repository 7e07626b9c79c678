// Package hot measures conflict-aware retry strategies on a hot resource: a
// loopback HTTP server that serves versioned JSON documents (ETag +
// If-Match), writers that increment fields of them concurrently, and a table
// that compares what each strategy landed, lost and cost.
package hot

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ServerConfig says how the [Server] answers.
type ServerConfig struct {
	// Latency is how long the server waits before handling each request,
	// standing for network and processing time; requests wait concurrently.
	// The default is none.
	Latency time.Duration
	// Conflict409 makes a stale If-Match answer 409 with an RFC 9457
	// problem+json body instead of 412.
	Conflict409 bool
	// CurrentInConflict makes a conflict answer carry the current document,
	// its ETag and a Content-Location naming the resource, so that a client
	// can retry without another GET.
	CurrentInConflict bool
}

// Server serves JSON documents at /docs/{id}: GET answers the document and
// its ETag; PUT replaces it when If-Match names the current ETag, answers a
// conflict when it names another, and overwrites blindly without If-Match.
// It counts every request and every committed write. It listens on
// 127.0.0.1 only. A Server is safe for concurrent use.
type Server struct {
	cfg  ServerConfig
	mu   sync.Mutex
	docs map[string]*entry
	http *httptest.Server

	requests, reads, puts, commits, conflicts atomic.Int64
}

// entry is one stored document.
type entry struct {
	version uint64
	body    []byte
}

func (e *entry) etag() string { return `"v` + strconv.FormatUint(e.version, 10) + `"` }

// Counts are what a [Server] has served.
type Counts struct {
	Requests  int64 // every request
	Reads     int64 // GETs
	Puts      int64 // PUTs, committed or not
	Commits   int64 // PUTs that changed a document
	Conflicts int64 // PUTs refused for a stale If-Match
}

// maxBody bounds a PUT body.
const maxBody = 1 << 20

// NewServer starts a server holding docs (id to JSON document). Close it
// when done.
func NewServer(cfg ServerConfig, docs map[string][]byte) *Server {
	s := &Server{cfg: cfg, docs: make(map[string]*entry, len(docs))}
	for id, body := range docs {
		s.docs[id] = &entry{version: 1, body: body}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /docs/{id}", s.get)
	mux.HandleFunc("PUT /docs/{id}", s.put)
	s.http = httptest.NewServer(s.count(mux))
	return s
}

// URL returns the URL of document id.
func (s *Server) URL(id string) string { return s.http.URL + "/docs/" + id }

// Close shuts the server down, closing its connections.
func (s *Server) Close() { s.http.Close() }

// Counts returns what the server has served so far.
func (s *Server) Counts() Counts {
	return Counts{
		Requests: s.requests.Load(), Reads: s.reads.Load(), Puts: s.puts.Load(),
		Commits: s.commits.Load(), Conflicts: s.conflicts.Load(),
	}
}

// Snapshot returns a copy of every document.
func (s *Server) Snapshot() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]byte, len(s.docs))
	for id, e := range s.docs {
		out[id] = e.body
	}
	return out
}

// count counts each request and applies the configured latency.
func (s *Server) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if s.cfg.Latency > 0 {
			time.Sleep(s.cfg.Latency)
		}
		next.ServeHTTP(w, r)
	})
}

// get answers the document and its ETag.
func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	s.reads.Add(1)
	s.mu.Lock()
	e, ok := s.docs[r.PathValue("id")]
	var cur entry
	if ok {
		cur = *e
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	writeDoc(w, http.StatusOK, &cur)
}

// put replaces the document when If-Match holds or is absent.
func (s *Server) put(w http.ResponseWriter, r *http.Request) {
	s.puts.Add(1)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody || !json.Valid(body) {
		http.Error(w, "want a JSON document", http.StatusBadRequest)
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	e, ok := s.docs[id]
	if !ok {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	if tag := r.Header.Get("If-Match"); tag != "" && tag != e.etag() {
		cur := *e
		s.mu.Unlock()
		s.conflicts.Add(1)
		s.conflict(w, r, &cur)
		return
	}
	e.version++
	e.body = body
	cur := *e
	s.mu.Unlock()
	s.commits.Add(1)
	writeDoc(w, http.StatusOK, &cur)
}

// writeDoc answers a document with its ETag.
func writeDoc(w http.ResponseWriter, status int, e *entry) {
	w.Header().Set("ETag", e.etag())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(e.body)))
	w.WriteHeader(status)
	_, _ = w.Write(e.body)
}

// conflict answers a stale If-Match: 412, or 409 problem+json, with the
// current document when configured.
func (s *Server) conflict(w http.ResponseWriter, r *http.Request, cur *entry) {
	h := w.Header()
	if s.cfg.CurrentInConflict {
		h.Set("ETag", cur.etag())
		h.Set("Content-Location", r.URL.Path)
	}
	if !s.cfg.Conflict409 {
		if s.cfg.CurrentInConflict {
			writeDoc(w, http.StatusPreconditionFailed, cur)
			return
		}
		http.Error(w, "precondition failed", http.StatusPreconditionFailed)
		return
	}
	current := ""
	if s.cfg.CurrentInConflict {
		current = `,"current":` + string(cur.body)
	}
	h.Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusConflict)
	_, _ = fmt.Fprintf(w, `{"type":"https://hotbench.invalid/stale","title":"Edit conflict",`+
		`"status":409,"detail":"the document was changed by someone else"%s}`, current)
}
