// Package occotel traces and measures occ operations with OpenTelemetry,
// built only on occ's public [occ.Hooks]. It lives in a module of its own
// (github.com/occ-go/occ/otel), so that occ's own go.mod stays free of
// OpenTelemetry.
//
// One line wires it in:
//
//	c, err := occ.New(occotel.WithTelemetry(tp, mp))
//
// Each operation (occ.Get, occ.Modify, occ.Put, occ.Create...) gets a span
// named "occ.<Operation>", with a child span of kind client for every HTTP
// request it sends, named after the method, with attributes that follow the
// OpenTelemetry HTTP semantic conventions (http.request.method, url.full
// without user info, query or fragment, server.address, server.port,
// http.response.status_code, http.request.resend_count, error.type). Each
// conflict answer and each retry is an event on the operation's span. A
// request span's url.full is the URL that answered, after the redirects a
// read followed. An error's status description and exception message carry
// no URL query or fragment.
//
// A write that coalescing makes for several operations at once (see
// occ.WithCoalescing) is a span of its own, "occ.batch", the root of its
// trace, linked to each operation's span, with the batch's requests as its
// children: no operation's trace shows another's requests.
//
// The metrics, all with the attribute occ.operation:
//
//	occ.operations           counter    operations, by occ.outcome
//	occ.operation.duration   histogram  seconds, by occ.outcome
//	occ.conflicts            counter    conflict answers, by occ.conflict.kind
//	occ.retries              counter    retries, by occ.retry.reason
//	occ.ambiguous            counter    operations whose outcome is occ.OutcomeAmbiguous
package occotel

import (
	"context"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"sync"

	"github.com/occ-go/occ"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/occ-go/occ/otel"

// Attribute keys of occ's own, beside the semantic conventions'.
const (
	OperationKey        = attribute.Key("occ.operation")         // "Get", "Modify", ...
	OutcomeKey          = attribute.Key("occ.outcome")           // occ.Outcome: "ok", "conflict", ...
	ConflictKindKey     = attribute.Key("occ.conflict.kind")     // occ.Kind's text: "version", ...
	ConflictCodeKey     = attribute.Key("occ.conflict.code")     // the API's own error code, when given
	RetryReasonKey      = attribute.Key("occ.retry.reason")      // "conflict", "busy" or "transient"
	RetryWaitKey        = attribute.Key("occ.retry.wait")        // seconds, as a float
	AttemptsKey         = attribute.Key("occ.attempts")          // writes sent
	ConflictsKey        = attribute.Key("occ.conflicts")         // conflict answers met
	TransientRetriesKey = attribute.Key("occ.transient_retries") // requests resent
)

// WithTelemetry returns an [occ.Option] that traces with tp and measures
// with mp; a nil one means OpenTelemetry's global provider. It composes with
// the caller's own [occ.WithHooks], before or after it.
func WithTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) occ.Option {
	return occ.WithHooks(Hooks(tp, mp))
}

// Hooks returns the [occ.Hooks] behind [WithTelemetry], for callers that
// compose hooks themselves. A nil provider means OpenTelemetry's global
// one. An instrument the meter cannot make is reported to otel.Handle and
// left out. The hooks are safe for concurrent use.
func Hooks(tp trace.TracerProvider, mp metric.MeterProvider) occ.Hooks {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	t := newTelemetry(tp.Tracer(ScopeName), mp.Meter(ScopeName))
	return occ.Hooks{
		OnStart: t.start, OnRequest: t.request, OnResponse: t.response,
		OnConflict: t.conflict, OnRetry: t.retry, OnEnd: t.end,
		OnBatch: t.batch, OnBatchEnd: t.batchEnd,
	}
}

// telemetry holds the tracer and the instruments.
type telemetry struct {
	tracer     trace.Tracer
	operations metric.Int64Counter
	duration   metric.Float64Histogram
	conflicts  metric.Int64Counter
	retries    metric.Int64Counter
	ambiguous  metric.Int64Counter
}

func newTelemetry(tracer trace.Tracer, m metric.Meter) *telemetry {
	t := &telemetry{tracer: tracer}
	var err error
	t.operations, err = m.Int64Counter("occ.operations", metric.WithUnit("{operation}"),
		metric.WithDescription("Operations ended, by outcome."))
	handle(err)
	t.duration, err = m.Float64Histogram("occ.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("How long operations took, retries and waits included."))
	handle(err)
	t.conflicts, err = m.Int64Counter("occ.conflicts", metric.WithUnit("{conflict}"),
		metric.WithDescription("Conflict answers (409, 412, 428), by kind."))
	handle(err)
	t.retries, err = m.Int64Counter("occ.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Retries, by reason: conflict, busy or transient."))
	handle(err)
	t.ambiguous, err = m.Int64Counter("occ.ambiguous", metric.WithUnit("{operation}"),
		metric.WithDescription("Operations that could not tell whether their write landed."))
	handle(err)
	return t
}

// handle reports an instrument error to OpenTelemetry's error handler; the
// instrument returned with it is a working no-op.
func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// opState is what the hooks of one operation share, through its context.
type opState struct {
	name string
	mu   sync.Mutex
	req  trace.Span // the request in flight, if any
}

type stateKey struct{}

func stateFrom(ctx context.Context) *opState {
	st, _ := ctx.Value(stateKey{}).(*opState)
	return st
}

// start begins the operation's span.
func (t *telemetry) start(ctx context.Context, op occ.Operation) context.Context {
	attrs := append([]attribute.KeyValue{OperationKey.String(op.Name)}, urlAttrs(op.URL)...)
	ctx, _ = t.tracer.Start(ctx, "occ."+op.Name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, stateKey{}, &opState{name: op.Name})
}

// request begins a request's span, a child of the operation's.
func (t *telemetry) request(ctx context.Context, r occ.Request) {
	st := stateFrom(ctx)
	if st == nil {
		return // occ.Client.Do: no operation to hang it on
	}
	attrs := append([]attribute.KeyValue{semconv.HTTPRequestMethodKey.String(r.Method)}, urlAttrs(r.URL)...)
	if r.Resend > 0 {
		attrs = append(attrs, semconv.HTTPRequestResendCountKey.Int(r.Resend))
	}
	_, span := t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	st.mu.Lock()
	st.req = span
	st.mu.Unlock()
}

// response ends the request's span with its status or transport error.
func (t *telemetry) response(ctx context.Context, r occ.Response) {
	st := stateFrom(ctx)
	if st == nil {
		return
	}
	st.mu.Lock()
	span := st.req
	st.req = nil
	st.mu.Unlock()
	if span == nil {
		return
	}
	if r.URL != "" {
		span.SetAttributes(urlAttrs(r.URL)...) // the final URL, after redirects
	}
	switch {
	case r.Err != nil:
		recordError(span, r.Err)
		span.SetAttributes(semconv.ErrorTypeKey.String("transport"))
	case r.StatusCode >= 400:
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(r.StatusCode),
			semconv.ErrorTypeKey.String(strconv.Itoa(r.StatusCode)))
		span.SetStatus(codes.Error, "")
	default:
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(r.StatusCode))
	}
	span.End()
}

// conflict notes a conflict answer on the operation's span and counts it.
func (t *telemetry) conflict(ctx context.Context, ce *occ.ConflictError) {
	attrs := []attribute.KeyValue{
		semconv.HTTPResponseStatusCodeKey.Int(ce.StatusCode),
		ConflictKindKey.String(ce.Kind.String()),
	}
	if ce.Code != "" {
		attrs = append(attrs, ConflictCodeKey.String(ce.Code))
	}
	trace.SpanFromContext(ctx).AddEvent("occ.conflict", trace.WithAttributes(attrs...))
	t.conflicts.Add(ctx, 1, metric.WithAttributes(operationAttr(ctx), ConflictKindKey.String(ce.Kind.String())))
}

// retry notes a retry and its wait on the operation's span and counts it.
func (t *telemetry) retry(ctx context.Context, r occ.Retry) {
	attrs := []attribute.KeyValue{RetryReasonKey.String(r.Reason), RetryWaitKey.Float64(r.Wait.Seconds())}
	if r.Status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(r.Status))
	}
	trace.SpanFromContext(ctx).AddEvent("occ.retry", trace.WithAttributes(attrs...))
	t.retries.Add(ctx, 1, metric.WithAttributes(operationAttr(ctx), RetryReasonKey.String(r.Reason)))
}

// end records the operation's result and ends its span.
func (t *telemetry) end(ctx context.Context, r occ.Result) {
	outcome := OutcomeKey.String(string(r.Outcome))
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(outcome, AttemptsKey.Int(r.Attempts), ConflictsKey.Int(r.Conflicts),
		TransientRetriesKey.Int(r.TransientRetries))
	if r.Err != nil {
		recordError(span, r.Err)
		span.SetAttributes(semconv.ErrorTypeKey.String(string(r.Outcome)))
	}
	span.End()
	op := metric.WithAttributes(OperationKey.String(r.Name), outcome)
	t.operations.Add(ctx, 1, op)
	t.duration.Record(ctx, r.Duration.Seconds(), op)
	if r.Outcome == occ.OutcomeAmbiguous {
		t.ambiguous.Add(ctx, 1, metric.WithAttributes(OperationKey.String(r.Name)))
	}
}

// recordError records err on span as an exception event and the span's
// error status, as span.RecordError and SetStatus would, with a text that
// carries no URL query (see errorText).
func recordError(span trace.Span, err error) {
	text := errorText(err)
	span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
		semconv.ExceptionTypeKey.String(errorType(err)), semconv.ExceptionMessageKey.String(text)))
	span.SetStatus(codes.Error, text)
}

// urlQuery matches a URL's query and fragment in an error's text.
var urlQuery = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#"'<>]*)[?#][^\s"'<>]*`)

// errorText is err's text without the query or fragment of any URL in it:
// occ's errors show a query with its secret values REDACTED, but a query
// may carry personal data too, and url.full carries none.
func errorText(err error) string {
	return urlQuery.ReplaceAllString(err.Error(), "$1")
}

// errorType names err's type as the OpenTelemetry SDK does for
// exception.type.
func errorType(err error) string {
	t := reflect.TypeOf(err)
	if t.PkgPath() == "" && t.Name() == "" {
		return t.String()
	}
	return t.PkgPath() + "." + t.Name()
}

// operationAttr returns the operation's name as an attribute.
func operationAttr(ctx context.Context) attribute.KeyValue {
	if st := stateFrom(ctx); st != nil {
		return OperationKey.String(st.name)
	}
	return OperationKey.String("Do")
}

// urlAttrs returns url.full, server.address and server.port for a URL
// occ's hooks give: scheme, host and path only.
func urlAttrs(u string) []attribute.KeyValue {
	attrs := []attribute.KeyValue{semconv.URLFullKey.String(u)}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return attrs
	}
	attrs = append(attrs, semconv.ServerAddressKey.String(p.Hostname()))
	if port := portOf(p); port > 0 {
		attrs = append(attrs, semconv.ServerPortKey.Int(port))
	}
	return attrs
}

// portOf returns the URL's port, or its scheme's default.
func portOf(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	switch u.Scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}
