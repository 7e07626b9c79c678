// Package occtest serves an in-memory, versioned JSON resource store over
// HTTP for tests, the way net/http/httptest serves a handler: ETags (strong,
// weak or none), Last-Modified with If-Unmodified-Since, a version field in
// the body, create-if-absent, uniqueness and state-machine rules, merge and
// JSON patches, Idempotency-Key on every write, fault injection (queued or
// at random, before or after a write is applied) and request recording.
// Numbers keep their exact text through every operation.
//
// It exists to test conflict-aware clients such as occ, and never imports
// them. Error answers are RFC 9457 application/problem+json bodies with
// type, title, status, detail and a code extension member; conflicts carry
// code version_conflict, duplicate, invalid_state or idempotency_in_progress,
// and name the offending JSON Pointer in an errors member.
//
// [New] starts a [Server] on 127.0.0.1 that the test's cleanup closes;
// [NewServer] and [NewTLSServer] are the httptest-style constructors, and
// [Transport] serves a [Store] in process, for tests under testing/synctest.
// A concurrent writer is simulated with [Store.Set] or [Store.Update], from
// the test itself or from a write hook, which runs between the client's
// read and its write. [Store.BeforeNextWrite] sneaks one competing write in;
// [Store.BeforeWrite] runs before every write, which starves a client that
// retries on conflict. [Store.Requests] then shows what each request got:
//
//	func TestConcurrentIncrement(t *testing.T) {
//		srv := occtest.New(t)
//		_ = srv.Set("/counters/1", []byte(`{"count":1}`)) // ETag "1"
//		srv.BeforeNextWrite(func(*http.Request) { // someone else, once
//			_ = srv.Update("/counters/1", func(doc map[string]any) {
//				n, _ := doc["count"].(json.Number).Int64()
//				doc["count"] = n + 10
//			})
//		})
//		// Exercise the client against srv.URL with srv.Client(): its PUT
//		// with If-Match: "1" gets 412 Precondition Failed; a client that
//		// rereads and retries lands {"count":12}. Then check srv.Get,
//		// srv.Writes and srv.Requests (each with its answer's Status).
//	}
//
// The example of [Store.BeforeNextWrite] runs this with occ.
package occtest
