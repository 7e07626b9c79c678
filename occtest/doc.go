// Package occtest serves an in-memory, versioned JSON resource store over
// HTTP for tests, the way net/http/httptest serves a handler: ETags (strong,
// weak or none), Last-Modified with If-Unmodified-Since, a version field in
// the body, create-if-absent, uniqueness and state-machine rules, merge and
// JSON patches, Idempotency-Key, fault injection and request recording.
//
// It exists to test conflict-aware clients such as occ, and never imports
// them. Error answers are RFC 9457 application/problem+json bodies with
// type, title, status, detail and a code extension member; conflicts carry
// code version_conflict, duplicate, invalid_state or idempotency_in_progress,
// and name the offending JSON Pointer in an errors member.
//
// A [Server] listens on 127.0.0.1; [Transport] serves a [Store] in process,
// for tests under testing/synctest. A competing writer is simulated with
// [Store.Set] or [Store.Update], from the test itself or from a
// [Store.BeforeWrite] hook, which runs between the client's read and its
// write:
//
//	func TestLostUpdate(t *testing.T) {
//		srv := occtest.NewServer(occtest.WithVersionField("/version"))
//		defer srv.Close()
//		_ = srv.Set("/items/1", []byte(`{"count":1}`)) // version 1, ETag "1"
//		srv.BeforeWrite(func(*http.Request) {
//			_ = srv.Update("/items/1", func(doc map[string]any) { doc["count"] = 5.0 })
//		})
//		// Exercise the client against srv.URL with srv.Client(): a PUT with
//		// If-Match: "1" now gets 412 Precondition Failed, and one with
//		// {"version":1} in its body gets 409 with code version_conflict.
//		// Then check srv.Writes(), srv.Requests() and srv.Get("/items/1").
//	}
package occtest
