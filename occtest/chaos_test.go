package occtest_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

// chaosRun sends n GETs and n PUTs through a store with random faults and
// returns the kind and status of each recorded request.
func chaosRun(t *testing.T, seed uint64, n int) (faults []occtest.FaultKind, statuses []int) {
	t.Helper()
	st := occtest.NewStore()
	require.NoError(t, st.Set("/a", []byte(`{"n":1}`)))
	st.InjectRandom(seed,
		occtest.RandomFault{Fault: occtest.Fault{Status: 503}, Rate: 0.25},
		occtest.RandomFault{Fault: occtest.Fault{Method: "PUT", ResetAfterWrite: true}, Rate: 0.5},
		occtest.RandomFault{Fault: occtest.Fault{Status: 429}, Rate: 0.25},
	)
	c := &http.Client{Transport: occtest.Transport(st)}
	for range n {
		for _, m := range []string{"GET", "PUT"} {
			resp, err := c.Do(httptestRequest(t, m, "/a", `{"n":2}`))
			if err == nil {
				resp.Body.Close()
			}
		}
	}
	for _, r := range st.Requests() {
		var k occtest.FaultKind
		if r.Fault != nil {
			k = r.Fault.Kind()
		}
		faults = append(faults, k)
		statuses = append(statuses, r.Status)
	}
	return faults, statuses
}

func TestInjectRandom(t *testing.T) {
	t.Parallel()
	const n = 4000
	faults, statuses := chaosRun(t, 7, n)
	again, _ := chaosRun(t, 7, n)
	assert.Equal(t, faults, again, "the same seed gives the same faults")
	other, _ := chaosRun(t, 8, n)
	assert.NotEqual(t, faults, other, "another seed gives others")

	count := map[string]map[occtest.FaultKind]int{"GET": {}, "PUT": {}}
	for i, k := range faults {
		m := []string{"GET", "PUT"}[i%2]
		count[m][k]++
		if k == occtest.FaultStatus {
			assert.Contains(t, []int{503, 429}, statuses[i])
		}
	}
	// GET matches the two status faults (half of [0,1)); PUT all three,
	// whose rates fill [0,1). Bounds are 6 standard deviations wide.
	assert.InDelta(t, n/2, count["GET"][occtest.FaultStatus], 200)
	assert.InDelta(t, n/2, count["GET"][""], 200)
	assert.Zero(t, count["GET"][occtest.FaultResetAfterWrite], "a PUT fault never hits a GET")
	assert.Zero(t, count["PUT"][""], "rates adding up to 1 fault every PUT")
	assert.InDelta(t, n/2, count["PUT"][occtest.FaultResetAfterWrite], 200)
}

func TestInjectRandomReplaceAndValidate(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore()
	st.InjectRandom(1, occtest.RandomFault{Fault: occtest.Fault{Status: 503}, Rate: 1})
	c := &http.Client{Transport: occtest.Transport(st)}
	resp, err := c.Get("http://occtest/a")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	st.InjectRandom(1)
	resp, err = c.Get("http://occtest/a")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode, "no faults: removed")

	for name, f := range map[string]occtest.RandomFault{
		"times":        {Fault: occtest.Fault{Status: 503, Times: 1}, Rate: 0.5},
		"rate above 1": {Fault: occtest.Fault{Status: 503}, Rate: 1.5},
		"negative":     {Fault: occtest.Fault{Status: 503}, Rate: -0.1},
		"invalid":      {Fault: occtest.Fault{}, Rate: 0.5},
	} {
		assert.Panics(t, func() { st.InjectRandom(1, f) }, name)
	}
}

// TestInjectRandomConcurrent: faults and the request log stay consistent
// under concurrent requests (run with -race).
func TestInjectRandomConcurrent(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore()
	st.InjectRandom(3, occtest.RandomFault{Fault: occtest.Fault{Status: 503}, Rate: 0.5})
	c := &http.Client{Transport: occtest.Transport(st)}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				resp, err := c.Do(httptestRequest(t, "POST", "/orders", `{"n":1}`))
				if err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	reqs := st.Requests()
	require.Len(t, reqs, 400)
	faulted := 0
	for _, r := range reqs {
		if r.Fault != nil {
			faulted++
			assert.Equal(t, 503, r.Status)
			assert.False(t, r.Applied)
		} else {
			assert.Equal(t, 201, r.Status)
			assert.True(t, r.Applied)
		}
	}
	assert.Equal(t, 400-faulted, st.Writes())
}
