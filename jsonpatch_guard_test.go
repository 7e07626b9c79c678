package occ_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJSONPatchStaleTest422 races JSON Patch writers on the Kubernetes
// fake, which answers a failed test of the resourceVersion with 422
// Invalid: every change lands once, as with 409.
func TestJSONPatchStaleTest422(t *testing.T) {
	t.Parallel()
	k := newFakeKube()
	k.set("cm", map[string]any{"n": "0"})
	srv := httptest.NewServer(k)
	defer srv.Close()
	url := srv.URL + k.prefix + "/cm"
	type cm struct {
		Data map[string]string `json:"data"`
	}
	const writers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithVersionField("/metadata/resourceVersion"),
			occ.WithWriteMode(occ.WriteJSONPatch), occ.WithCoalescing(false))
		require.NoError(t, err)
		wg.Go(func() {
			for i := range each {
				_, err := occ.Modify(context.Background(), c, url, func(v *cm) error {
					v.Data[fmt.Sprintf("w%d.%d", w, i)] = "x"
					return nil
				})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var got cm
	require.NoError(t, json.Unmarshal(k.get("cm"), &got))
	assert.Len(t, got.Data, writers*each+1, "every change landed")
}

// TestJSONPatch422Stands checks that a 422 to a JSON Patch whose version
// has not moved is the final error it is: the patch was refused for its
// content, and is not sent again.
func TestJSONPatch422Stands(t *testing.T) {
	t.Parallel()
	k := newFakeKube()
	k.set("cm", map[string]any{"n": "0"})
	k.invalid = true
	srv := httptest.NewServer(k)
	defer srv.Close()
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithVersionField("/metadata/resourceVersion"),
		occ.WithWriteMode(occ.WriteJSONPatch))
	require.NoError(t, err)
	var st occ.Stats
	_, err = occ.Modify(context.Background(), c, srv.URL+k.prefix+"/cm", func(v *map[string]any) error {
		(*v)["data"] = map[string]any{"n": "1"}
		return nil
	}, occ.WithStats(&st))
	var se *occ.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusUnprocessableEntity, se.StatusCode)
	var ce *occ.ConflictError
	assert.False(t, errors.As(err, &ce), "not a conflict")
	assert.Equal(t, 1, st.Attempts)
}
