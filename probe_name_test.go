package occ_test

import (
	"net/http"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
)

// TestProbeScratchByPOST probes a missing name on a POST-create API: with
// WithNameField the scratch document is POSTed to the collection under
// that name, probed, and deleted.
func TestProbeScratchByPOST(t *testing.T) {
	t.Parallel()
	k := newFakeKube()
	r := probeAt(t, k, k.prefix+"/scratch", []occ.Option{occ.WithVersionField("/metadata/resourceVersion"), occ.WithNameField("/metadata/name")},
		occ.WithCreateMethod(http.MethodPost))
	assert.True(t, r.Passed(), "%+v", r)
	assert.True(t, r.Created)
	assert.True(t, r.Deleted)
	assert.Nil(t, k.get("scratch"), "the scratch document is gone")
}
