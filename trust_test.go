package occ

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conflictNewer makes the document newer (another writer's change) and
// answers the write 412 with the whole new document, which its
// Content-Location says is the resource.
func conflictNewer(api *fakeAPI, newer string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		api.mu.Lock()
		api.doc, api.version = newer, api.version+1
		etag := api.etag()
		api.mu.Unlock()
		reply(412, newer, "ETag", etag, "Content-Location", itemURL, "Content-Type", "application/json")(w, nil)
	}
}

// job is a document with members named like an error body's.
type job struct {
	Message string `json:"message"`
}

func TestACarriedDocumentWithErrorLikeMembersIsNeverTakenApart(t *testing.T) {
	for _, newer := range []string{
		`{"current":{"step":2},"message":"running","owner":"ann","steps":[1,2]}`,
		`{"current_state":{"step":2},"detail":"running","owner":"ann","steps":[1,2]}`,
		`{"currentValue":{"step":2},"error":"none","message":"running","owner":"ann","steps":[1,2]}`,
	} {
		t.Run(newer, func(t *testing.T) {
			api := newFakeAPI(`{"message":"queued","owner":"ann"}`)
			api.then(api.pass, conflictNewer(api, newer))
			c := memClient(t, api)
			got, err := Modify(context.Background(), c, itemURL, func(j *job) error { j.Message = "done"; return nil })
			require.NoError(t, err)
			assert.Equal(t, "done", got.Message)
			var held map[string]any
			require.NoError(t, json.Unmarshal([]byte(api.doc), &held))
			assert.Equal(t, "ann", held["owner"], "the document kept its members")
			assert.Len(t, held["steps"], 2)
			assert.Equal(t, "done", held["message"])
		})
	}
}

func TestACarriedMemberIsUsedWhenTheCallersParserSaysSo(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	api.then(api.pass, func(w http.ResponseWriter, _ *http.Request) {
		api.mu.Lock()
		api.doc, api.version = `{"name":"a","count":5}`, api.version+1
		etag := api.etag()
		api.mu.Unlock()
		reply(412, `{"state":{"name":"a","count":5},"message":"stale"}`, "ETag", etag,
			"Content-Location", itemURL, "Content-Type", "application/json")(w, nil)
	})
	state := ConflictParserFunc(func(_ *http.Response, body []byte, e *ConflictError) bool {
		var b struct{ State json.RawMessage }
		if json.Unmarshal(body, &b) != nil || b.State == nil {
			return false
		}
		e.Current = b.State
		return true
	})
	c := memClient(t, api, WithConflictParser(state))
	_, err := Modify(context.Background(), c, itemURL, incr)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"a","count":6}`, api.doc)
	assert.Equal(t, 1, api.count(http.MethodGet), "the document the parser named was planned on, not read again")
}

func TestADialectCreateWithNoPreconditionIsRefusedBeforeSending(t *testing.T) {
	api := newFakeAPI(`{"name":"theirs"}`)
	c := memClient(t, api, WithDialect(Dialect{Encode: VersionQuery("rev", "")}))
	_, err := Create(context.Background(), c, itemURL, item{Name: "mine"})
	require.ErrorIs(t, err, ErrInvalidArgument)
	assert.ErrorContains(t, err, "Dialect")
	assert.Zero(t, len(api.reqs), "nothing sent")

	created := newFakeAPI(`{}`)
	created.then(reply(201, `{"name":"mine"}`, "ETag", `"9"`))
	c = memClient(t, created, WithDialect(Dialect{Encode: VersionQuery("rev", "")}))
	_, err = Create(context.Background(), c, itemURL, item{Name: "mine"}, WithUnconditional(true))
	require.NoError(t, err, "declared unconditional")

	for name, enc := range map[string]func(*WriteRequest) error{
		"a create value": VersionQuery("cas", "0"),
		"If-None-Match":  func(w *WriteRequest) error { w.Header.Set("If-None-Match", "*"); return nil },
	} {
		api := newFakeAPI(`{}`)
		api.then(reply(201, `{"name":"mine"}`, "ETag", `"9"`))
		c := memClient(t, api, WithDialect(Dialect{Encode: enc}))
		_, err := Create(context.Background(), c, itemURL, item{Name: "mine"})
		require.NoError(t, err, name)
	}
}

// empty is a document with nothing in it: every document holds it.
type empty struct{}

// marked is a document that carries its create's Idempotency-Key.
type marked struct {
	Request string `json:"request"`
}

func TestACreateThatMayHaveLandedNeedsProofOfIdentity(t *testing.T) {
	t.Run("another's {} proves nothing", func(t *testing.T) {
		api := newFakeAPI(`{}`) // another client created it while occ's answer was lost
		api.then(reset, reply(412, `{"message":"exists"}`))
		c := memClient(t, api)
		var st Stats
		_, err := Create(context.Background(), c, itemURL, empty{}, WithStats(&st))
		require.ErrorIs(t, err, ErrAmbiguous)
		assert.False(t, st.Adopted)
	})
	t.Run("the create's key in the document proves it", func(t *testing.T) {
		api := newFakeAPI(`{"request":"key-41"}`)
		api.then(reset, reply(412, `{"message":"exists"}`))
		c := memClient(t, api)
		got, err := Create(context.Background(), c, itemURL, marked{Request: "key-41"}, WithIdempotencyKey("key-41"))
		require.NoError(t, err)
		assert.Equal(t, "key-41", got.Value.Request)
	})
	t.Run("another key does not", func(t *testing.T) {
		api := newFakeAPI(`{"request":"key-40"}`)
		api.then(reset, reply(412, `{"message":"exists"}`))
		c := memClient(t, api)
		_, err := Create(context.Background(), c, itemURL, marked{Request: "key-41"}, WithIdempotencyKey("key-41"))
		require.ErrorIs(t, err, ErrAmbiguous)
	})
}

func TestSetQueryKeepsTheOtherParametersByteForByte(t *testing.T) {
	w := &WriteRequest{URL: "http://api.test/d?z=1;2&a=%7e&rev=old&b=x+y"}
	require.NoError(t, w.SetQuery("rev", "2-b"))
	assert.Equal(t, "http://api.test/d?z=1;2&a=%7e&b=x+y&rev=2-b", w.URL)
}

func TestAnEnvelopePointerIsCheckedWhenTheDialectIsSet(t *testing.T) {
	_, err := New(WithDialect(Dialect{Decode: Envelope("node/value", "/node/modifiedIndex")}))
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = New(WithDialect(Dialect{Decode: Envelope("/node/value", "modifiedIndex")}))
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = New(WithDialect(Dialect{Decode: Envelope("/node/value", "/node/modifiedIndex")}))
	require.NoError(t, err)
}

// versioned is a document with a version field.
type versioned struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
}

func TestAChangeToTheVersionFieldAloneWritesNothing(t *testing.T) {
	api := newFakeAPI(`{"name":"a","version":3}`)
	c := memClient(t, api, WithVersionField("/version"))
	got, err := Modify(context.Background(), c, itemURL, func(v *versioned) error { v.Version = 99; return nil })
	require.NoError(t, err)
	assert.Equal(t, versioned{Name: "a", Version: 3}, got)
	assert.Zero(t, api.count(http.MethodPut), "no write")
}

func TestPutConditionsOnAStrongLastModifiedItsGetJudged(t *testing.T) {
	const lm = "Sun, 01 Mar 2026 12:00:00 GMT"
	api := newFakeAPI(`{"name":"a","count":1}`)
	api.then(func(w http.ResponseWriter, r *http.Request) {
		reply(200, `{"name":"a","count":1}`, "Last-Modified", lm, "Date", "Sun, 01 Mar 2026 12:00:09 GMT")(w, r)
	}, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-Unmodified-Since") != lm {
			reply(428, ``)(w, r)
			return
		}
		reply(204, ``, "Last-Modified", "Sun, 01 Mar 2026 12:00:10 GMT")(w, r)
	})
	c := memClient(t, api)
	base, err := Get[item](context.Background(), c, itemURL)
	require.NoError(t, err)
	require.Equal(t, lm, base.Version)
	_, err = Put(context.Background(), c, itemURL, base, item{Name: "b", Count: 1})
	require.NoError(t, err)
	assert.Equal(t, 0, api.count(http.MethodGet)-1, "no read before the write: the base's version conditioned it")
}
