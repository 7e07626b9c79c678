package occotel_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/occ-go/occ"
	occotel "github.com/occ-go/occ/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// resource is one JSON document behind an ETag, with a queue of statuses
// to answer first, whatever the request.
type resource struct {
	mu      sync.Mutex
	version int
	doc     string
	answers []int
}

func (r *resource) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.answers) > 0 {
		w.WriteHeader(r.answers[0])
		r.answers = r.answers[1:]
		return
	}
	etag := `"` + strconv.Itoa(r.version) + `"`
	if req.Method == http.MethodPut {
		if req.Header.Get("If-Match") != etag {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		r.doc, r.version = string(body), r.version+1
		etag = `"` + strconv.Itoa(r.version) + `"`
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, r.doc)
}

// telemetry is an in-memory tracer and meter.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
}

func newTelemetry(t *testing.T) *telemetry {
	sr := tracetest.NewSpanRecorder()
	reader := sdkmetric.NewManualReader()
	tel := &telemetry{spans: sr, reader: reader,
		tp: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))}
	t.Cleanup(func() {
		_ = tel.tp.Shutdown(context.Background())
		_ = tel.mp.Shutdown(context.Background())
	})
	return tel
}

// sums returns the data points of a counter, by their attributes.
func (tel *telemetry) sums(t *testing.T, name string) map[attribute.Distinct]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	out := map[attribute.Distinct]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			require.True(t, ok, "%s is a counter", name)
			for _, dp := range sum.DataPoints {
				out[dp.Attributes.Equivalent()] = dp.Value
			}
		}
	}
	return out
}

// histogramCount returns how many values a histogram holds with attrs.
func (tel *telemetry) histogramCount(t *testing.T, name string, attrs ...attribute.KeyValue) uint64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	want := set(attrs...)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == name {
				for _, dp := range h.DataPoints {
					if dp.Attributes.Equivalent() == want {
						return dp.Count
					}
				}
			}
		}
	}
	return 0
}

func set(kv ...attribute.KeyValue) attribute.Distinct {
	s := attribute.NewSet(kv...)
	return s.Equivalent()
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value
	}
	return out
}

func eventAttrs(e sdktrace.Event) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range e.Attributes {
		out[kv.Key] = kv.Value
	}
	return out
}

type counter struct {
	Count int `json:"count"`
}

func TestConflictingModify(t *testing.T) {
	res := &resource{version: 1, doc: `{"count":1}`}
	srv := httptest.NewServer(res)
	defer srv.Close()
	tel := newTelemetry(t)
	c, err := occ.New(occotel.WithTelemetry(tel.tp, tel.mp), occ.WithBackoff(occ.Exponential(0, 0)))
	require.NoError(t, err)
	// A competing writer lands between our read and our first write.
	first := true
	got, err := occ.Modify(context.Background(), c, srv.URL+"/counters/1?token=secret", func(v *counter) error {
		if first {
			first = false
			res.mu.Lock()
			res.version++
			res.doc = `{"count":10}`
			res.mu.Unlock()
		}
		v.Count++
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 11, got.Count)

	spans := tel.spans.Ended()
	require.Len(t, spans, 5, "GET, PUT (412), GET, PUT, and the operation")
	op := spans[4]
	assert.Equal(t, "occ.Modify", op.Name())
	assert.Equal(t, trace.SpanKindInternal, op.SpanKind())
	a := attrs(op)
	assert.Equal(t, "Modify", a["occ.operation"].AsString())
	assert.Equal(t, "ok", a["occ.outcome"].AsString())
	assert.Equal(t, int64(2), a["occ.attempts"].AsInt64())
	assert.Equal(t, int64(1), a["occ.conflicts"].AsInt64())
	assert.Equal(t, srv.URL+"/counters/1", a["url.full"].AsString(), "no query")
	assert.Equal(t, codes.Unset, op.Status().Code)
	require.Len(t, op.Events(), 2)
	assert.Equal(t, "occ.conflict", op.Events()[0].Name)
	assert.Equal(t, "version", eventAttrs(op.Events()[0])["occ.conflict.kind"].AsString())
	assert.Equal(t, int64(412), eventAttrs(op.Events()[0])["http.response.status_code"].AsInt64())
	assert.Equal(t, "occ.retry", op.Events()[1].Name)
	assert.Equal(t, "conflict", eventAttrs(op.Events()[1])["occ.retry.reason"].AsString())

	host, port := hostPort(t, srv.URL)
	for i, want := range []struct {
		method string
		status int64
	}{{"GET", 200}, {"PUT", 412}, {"GET", 200}, {"PUT", 200}} {
		s := spans[i]
		a := attrs(s)
		assert.Equal(t, want.method, s.Name())
		assert.Equal(t, trace.SpanKindClient, s.SpanKind())
		assert.Equal(t, op.SpanContext().SpanID(), s.Parent().SpanID(), "a child of the operation")
		assert.Equal(t, want.method, a["http.request.method"].AsString())
		assert.Equal(t, want.status, a["http.response.status_code"].AsInt64())
		assert.Equal(t, srv.URL+"/counters/1", a["url.full"].AsString())
		assert.Equal(t, host, a["server.address"].AsString())
		assert.Equal(t, port, a["server.port"].AsInt64())
		if want.status >= 400 {
			assert.Equal(t, codes.Error, s.Status().Code)
			assert.Equal(t, "412", a["error.type"].AsString())
		}
	}

	opAttr := attribute.String("occ.operation", "Modify")
	assert.Equal(t, map[attribute.Distinct]int64{set(opAttr, attribute.String("occ.outcome", "ok")): 1}, tel.sums(t, "occ.operations"))
	assert.Equal(t, map[attribute.Distinct]int64{set(opAttr, attribute.String("occ.conflict.kind", "version")): 1}, tel.sums(t, "occ.conflicts"))
	assert.Equal(t, map[attribute.Distinct]int64{set(opAttr, attribute.String("occ.retry.reason", "conflict")): 1}, tel.sums(t, "occ.retries"))
	assert.Equal(t, uint64(1), tel.histogramCount(t, "occ.operation.duration", opAttr, attribute.String("occ.outcome", "ok")))
	assert.Empty(t, tel.sums(t, "occ.ambiguous"))
}

func hostPort(t *testing.T, u string) (string, int64) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	port, err := strconv.Atoi(req.URL.Port())
	require.NoError(t, err)
	return req.URL.Hostname(), int64(port)
}

func TestTransientRetryAndFailure(t *testing.T) {
	res := &resource{version: 1, doc: `{"count":1}`, answers: []int{503, 404}}
	srv := httptest.NewServer(res)
	defer srv.Close()
	tel := newTelemetry(t)
	c, err := occ.New(occotel.WithTelemetry(tel.tp, tel.mp),
		occ.WithTransientRetries(2, occ.BackoffFunc(func(int) time.Duration { return 0 })))
	require.NoError(t, err)
	_, err = occ.GetJSON(context.Background(), c, srv.URL+"/x")
	var se *occ.StatusError
	require.ErrorAs(t, err, &se)

	spans := tel.spans.Ended()
	require.Len(t, spans, 3)
	assert.Equal(t, int64(1), attrs(spans[1])["http.request.resend_count"].AsInt64())
	_, resent := attrs(spans[0])["http.request.resend_count"]
	assert.False(t, resent, "the first send has no resend count")
	op := spans[2]
	assert.Equal(t, codes.Error, op.Status().Code)
	assert.Equal(t, "error", attrs(op)["occ.outcome"].AsString())
	assert.Equal(t, int64(1), attrs(op)["occ.transient_retries"].AsInt64())
	require.NotEmpty(t, op.Events())
	getAttr := attribute.String("occ.operation", "Get")
	assert.Equal(t, map[attribute.Distinct]int64{set(getAttr, attribute.String("occ.retry.reason", "transient")): 1}, tel.sums(t, "occ.retries"))
	assert.Equal(t, map[attribute.Distinct]int64{set(getAttr, attribute.String("occ.outcome", "error")): 1}, tel.sums(t, "occ.operations"))
}

func TestComposesWithTheCallersHooks(t *testing.T) {
	srv := httptest.NewServer(&resource{version: 1, doc: `{}`})
	defer srv.Close()
	tel := newTelemetry(t)
	var ends int
	var traced bool
	mine := occ.Hooks{OnEnd: func(ctx context.Context, _ occ.Result) {
		ends++
		traced = trace.SpanContextFromContext(ctx).IsValid()
	}}
	c, err := occ.New(occ.WithHooks(mine), occotel.WithTelemetry(tel.tp, tel.mp))
	require.NoError(t, err)
	_, err = occ.GetJSON(context.Background(), c, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 1, ends)
	assert.True(t, traced, "the caller's hook sees the operation's span")
	assert.Len(t, tel.spans.Ended(), 2)
}

func TestDoIsLeftToTheTransport(t *testing.T) {
	srv := httptest.NewServer(&resource{version: 1, doc: `{}`})
	defer srv.Close()
	tel := newTelemetry(t)
	c, err := occ.New(occotel.WithTelemetry(tel.tp, tel.mp))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Empty(t, tel.spans.Ended(), "no operation, no span")
}

func TestAmbiguousOutcomeIsCounted(t *testing.T) {
	res := &resource{version: 1, doc: `{"count":1}`}
	var puts int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.Method == http.MethodPut {
			puts++
		}
		n := puts
		mu.Unlock()
		switch {
		case r.Method == http.MethodPut && n == 1: // applied, then the answer is lost
			res.ServeHTTP(httptest.NewRecorder(), r)
			panic(http.ErrAbortHandler)
		case r.Method == http.MethodPut && n == 2: // a conflict nobody can read
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, "\x00garbage{")
		default:
			res.ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	tel := newTelemetry(t)
	c, err := occ.New(occotel.WithTelemetry(tel.tp, tel.mp),
		occ.WithTransientRetries(2, occ.BackoffFunc(func(int) time.Duration { return 0 })))
	require.NoError(t, err)
	_, err = occ.Modify(context.Background(), c, srv.URL+"/counters/1", func(v *counter) error { v.Count++; return nil })
	require.ErrorIs(t, err, occ.ErrAmbiguous)

	opAttr := attribute.String("occ.operation", "Modify")
	assert.Equal(t, map[attribute.Distinct]int64{set(opAttr): 1}, tel.sums(t, "occ.ambiguous"))
	assert.Equal(t, map[attribute.Distinct]int64{set(opAttr, attribute.String("occ.outcome", "ambiguous")): 1}, tel.sums(t, "occ.operations"))
	spans := tel.spans.Ended()
	op := spans[len(spans)-1]
	assert.Equal(t, "ambiguous", attrs(op)["occ.outcome"].AsString())
	assert.Equal(t, codes.Error, op.Status().Code)
	var transport int
	for _, s := range spans[:len(spans)-1] {
		if attrs(s)["error.type"].AsString() == "transport" {
			transport++
		}
	}
	assert.Equal(t, 1, transport, "the lost answer's request span says so")
}
