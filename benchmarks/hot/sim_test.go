package hot

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func simConfig(writers int) SimConfig {
	return SimConfig{Writers: writers, Updates: 10, Latency: 5, Net: 0.05, Overhead: 0.15}
}

// TestSimulateAloneIsTheSerialLimit checks the model's unit: one writer
// makes one write per update, at the serial limit, each update one read
// and one write long.
func TestSimulateAloneIsTheSerialLimit(t *testing.T) {
	p, err := ParseSimPolicy("paced:8")
	require.NoError(t, err)
	r := Simulate(simConfig(1), p)
	assert.InDelta(t, 1, r.WritesPerLanded, 1e-9)
	assert.InDelta(t, 1, r.XSerial, 0.01)
	assert.InDelta(t, 2*(5+2*0.05)+2*0.15, r.Max, 1e-9)
}

// TestNoPolicyBeatsTheModel checks the frontier the README states: under
// contention, no policy's goodput exceeds what its writes per update
// allow, 2 / (1 + 1/(writes-1)) of the serial limit.
func TestNoPolicyBeatsTheModel(t *testing.T) {
	for _, spec := range []string{"immediate", "full:2:128", "paced:0.5", "paced:2", "paced:8", "paced:32", "tilt:5:4:12", "tilt:8:3:4"} {
		p, err := ParseSimPolicy(spec)
		require.NoError(t, err, spec)
		for _, w := range []int{16, 64} {
			cfg := simConfig(w)
			cfg.Seed = 7
			r := Simulate(cfg, p)
			assert.LessOrEqual(t, r.XSerial, ModelXSerial(r.WritesPerLanded)+0.02, "%s W=%d: %+v", spec, w, r)
			assert.Greater(t, r.WritesPerLanded, 1.0, "%s W=%d contends", spec, w)
		}
	}
}

// TestTiltShortensTheTail checks what the fairness policy is for, in the
// model at W=64: a shorter p99 than pacing, with fewer writes.
func TestTiltShortensTheTail(t *testing.T) {
	paced, _ := ParseSimPolicy("paced:8")
	tilt, _ := ParseSimPolicy("tilt:5:4:12")
	cfg := simConfig(64)
	a, b := Simulate(cfg, paced), Simulate(cfg, tilt)
	assert.Less(t, b.P99, a.P99)
	assert.Less(t, b.WritesPerLanded, a.WritesPerLanded)
}

func TestParseSimPolicy(t *testing.T) {
	for _, spec := range []string{"immediate", "full:2:128", "full:2ms:128ms", "paced:8", "tilt:5:4:12"} {
		_, err := ParseSimPolicy(spec)
		assert.NoError(t, err, spec)
	}
	for _, spec := range []string{"", "paced", "full:2", "nope:1", "tilt:a:b:c"} {
		_, err := ParseSimPolicy(spec)
		assert.Error(t, err, spec)
	}
}
