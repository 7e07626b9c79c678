package realservers

import (
	"net/http"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// recipe:occ begin

// kubeRecipe returns an occ client for the Kubernetes API: the version is
// metadata.resourceVersion, a create is a POST to the collection, and the
// created object's URL is the collection's followed by its metadata.name.
func kubeRecipe(hc *http.Client) (*occ.Client, error) {
	return occ.New(
		occ.WithHTTPClient(hc),
		occ.WithVersionField("/metadata/resourceVersion"),
		occ.WithCreateMethod(http.MethodPost),
		occ.WithNameField("/metadata/name"),
	)
}

// recipe:occ end

// With the tag, every Kubernetes test runs on the whole recipe, and the
// recipe's own test runs too.
func init() {
	newKubeClient = func(t *testing.T, k *kube) *occ.Client {
		c, err := kubeRecipe(&http.Client{Transport: k.rt})
		require.NoError(t, err)
		return c
	}
	kubeSubtests = append(kubeSubtests, struct {
		name string
		run  func(t *testing.T, k *kube)
	}{"recipe", kubeRecipeAlone})
}

// kubeRecipeAlone creates a ConfigMap with the recipe alone, changes it at
// the URL the create returned, adopts it by name on a second create, and
// probes it, then a name that does not exist (a scratch ConfigMap, named
// from the URL, created and deleted): every check passes.
func kubeRecipeAlone(t *testing.T, k *kube) {
	ctx := testContext(t)
	c := newKubeClient(t, k)
	created, err := occ.Create(ctx, c, k.collection(), tallyMap("recipe", tally{}))
	require.NoError(t, err)
	assert.Equal(t, k.collection()+"/recipe", created.URL)
	_, err = occ.Modify(ctx, c, created.URL, func(cm *corev1.ConfigMap) error { return addTo(cm, "one") })
	require.NoError(t, err)

	var st occ.Stats
	adopted, err := occ.Create(ctx, c, k.collection(), tallyMap("recipe", tally{}), occ.WithAdoptExisting(true), occ.WithStats(&st))
	require.NoError(t, err)
	assert.True(t, st.Adopted)
	assert.Equal(t, "1", adopted.Value.Data["n"])

	r, err := occ.Probe(ctx, c, created.URL)
	require.NoError(t, err)
	assert.True(t, r.Passed(), "%+v", r)

	r, err = occ.Probe(ctx, c, k.collection()+"/scratch")
	require.NoError(t, err)
	assert.True(t, r.Passed(), "%+v", r)
	assert.True(t, r.Created)
	assert.True(t, r.Deleted)
	mustDo(t, k.rt, http.MethodGet, k.collection()+"/scratch", nil, nil, http.StatusNotFound)
}
