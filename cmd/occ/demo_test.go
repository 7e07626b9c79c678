package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallDemo is a demo quick enough for tests: no real Retry-After wait.
var smallDemo = demoConfig{writers: 4, increments: 5, retryAfter: 0}

func TestDemoScenarios(t *testing.T) {
	t.Parallel()
	// Deterministic facts only: how many updates the naive race loses
	// depends on scheduling.
	want := map[string][]string{
		"hot": {"count 20 — no lost update", "naive GET + PUT:"},
		"version-field": {
			"409 version conflict", `"spec":{"replicas":3}`, `"labels":{"team":"payments"}`, "after 2 writes",
		},
		"not-retried": {
			`kind duplicate, code "duplicate"`, `fields ["/email"]`,
			`kind state, code "invalid_state"`, `fields ["/status"]`, "writes made: 1",
		},
		"merge": {
			`both edits land after 1 conflict: {"body":"ship it","title":"Plan"}`,
			`/title: base "Draft", mine "Plan B", theirs "Plan A"`,
			`explicit data loss): {"body":"tbd","title":"Plan"}`,
		},
		"faults": {"Service Unavailable", "connection reset", "count 5 -> 6, error <nil>",
			"count 5 -> 6, error occ: outcome unknown"},
	}
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			require.NoError(t, s.run(context.Background(), smallDemo, &out), out.String())
			require.Contains(t, want, s.name)
			for _, w := range want[s.name] {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runArgs(t, "demo", "-writers", "4", "-increments", "5", "-retry-after", "0")
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stderr)
	for i := range scenarios() {
		assert.Contains(t, stdout, fmt.Sprintf("\n%d. ", i+1))
	}
	assert.Contains(t, stdout, "count 20 — no lost update")
	assert.NotContains(t, stdout, "FAILED")
	assert.True(t, strings.HasSuffix(stdout, "ok: every scenario behaved as expected\n"))
}

func TestDemoFailure(t *testing.T) {
	t.Parallel()
	// A scenario that misbehaves makes the demo exit 1 and say which.
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := demo(ctx, smallDemo, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hot resource")
	assert.Contains(t, out.String(), "FAILED")

	var stderr bytes.Buffer
	code := runDemo(ctx, []string{"-writers", "1", "-increments", "1"}, &out, &stderr)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, stderr.String(), "occ demo: FAILED")
}
