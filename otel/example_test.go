package occotel_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/occ-go/occ"
	occotel "github.com/occ-go/occ/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// One option traces and measures every operation of a client. Here the
// spans go to an in-memory recorder; a service passes its own providers.
func Example() {
	srv := httptest.NewServer(&resource{version: 1, doc: `{"count":1}`})
	defer srv.Close()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()

	c, err := occ.New(occotel.WithTelemetry(tp, mp))
	if err != nil {
		panic(err)
	}
	_, err = occ.Modify(context.Background(), c, srv.URL+"/counters/1", func(v *counter) error {
		v.Count++
		return nil
	})
	if err != nil {
		panic(err)
	}
	for _, s := range spans.Ended() {
		fmt.Println(s.Name())
	}
	// Output:
	// GET
	// PUT
	// occ.Modify
}
