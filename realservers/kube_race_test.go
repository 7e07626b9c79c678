package realservers

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// newKubeClient makes the clients of the Kubernetes tests; the whole
// recipe (kube_recipe_test.go) replaces this minimal one.
var newKubeClient = func(t *testing.T, k *kube) *occ.Client {
	return newClient(t, k.rt, occ.WithVersionField("/metadata/resourceVersion"))
}

// post is the call option of a create on Kubernetes: a POST to the
// collection.
var post = occ.WithCreateMethod(http.MethodPost)

// tallyMap returns the ConfigMap holding v.
func tallyMap(name string, v tally) corev1.ConfigMap {
	return corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "occ"}},
		Data:       map[string]string{"n": strconv.Itoa(v.N), "log": v.Log},
	}
}

// addTo records the change id in a ConfigMap holding a tally.
func addTo(cm *corev1.ConfigMap, id string) error {
	n, err := strconv.Atoi(cm.Data["n"])
	if err != nil {
		return err
	}
	cm.Data["n"] = strconv.Itoa(n + 1)
	cm.Data["log"] = strings.TrimSpace(cm.Data["log"] + " " + id)
	return nil
}

// readTally reads the tally of the ConfigMap at url, and the object.
func readTally(t *testing.T, k *kube, url string) (tally, corev1.ConfigMap) {
	t.Helper()
	var cm corev1.ConfigMap
	require.NoError(t, json.Unmarshal(mustDo(t, k.rt, http.MethodGet, url, nil, nil, http.StatusOK), &cm))
	n, err := strconv.Atoi(cm.Data["n"])
	require.NoError(t, err)
	return tally{N: n, Log: cm.Data["log"]}, cm
}

// kubeSubtests are the tests that share TestKubernetes's apiserver, one
// after the other; kube_recipe_test.go adds to them.
var kubeSubtests = []struct {
	name string
	run  func(t *testing.T, k *kube)
}{
	{"races", kubeRaces},
	{"patches", kubePatches},
	{"put", kubePut},
	{"probe", kubeProbe},
	{"versus RetryOnConflict", kubeVersusRetryOnConflict},
}

// TestKubernetes starts one kube-apiserver and runs kubeSubtests on it.
func TestKubernetes(t *testing.T) {
	t.Parallel()
	k := startKube(t)
	for _, st := range kubeSubtests {
		t.Run(st.name, func(t *testing.T) { st.run(t, k) })
	}
}

// kubeRaces races writers on a ConfigMap, as typed k8s.io/api structs,
// and checks what Kubernetes answers to a duplicate create and a stale
// write.
func kubeRaces(t *testing.T, k *kube) {
	url := k.collection() + "/tally"
	_, err := occ.Create(testContext(t), newKubeClient(t, k), k.collection(), tallyMap("tally", tally{}), post)
	require.NoError(t, err)

	for _, round := range raceRounds {
		t.Run(round.name, func(t *testing.T) {
			cs := round.clients(func() *occ.Client { return newKubeClient(t, k) })
			before := k.puts.Load()
			race(t, round.id, func(ctx context.Context, w int, id string, st occ.CallOption) error {
				_, err := occ.Modify(ctx, cs[w], url, func(cm *corev1.ConfigMap) error { return addTo(cm, id) }, st)
				return err
			})
			t.Logf("%d PUTs for %d updates", k.puts.Load()-before, writers*increments)
			v, cm := readTally(t, k, url)
			assertTally(t, v, round.done...)
			assert.Equal(t, "occ", cm.Labels["app"], "labels kept")
			assert.NotEmpty(t, cm.ManagedFields, "managedFields kept")
		})
	}

	t.Run("duplicate create", func(t *testing.T) {
		_, err := occ.Create(testContext(t), newKubeClient(t, k), k.collection(), tallyMap("tally", tally{}), post)
		ce := requireDuplicate(t, err, http.StatusConflict, "AlreadyExists")
		assert.Equal(t, `configmaps "tally" already exists`, ce.Message)
	})

	t.Run("stale write", func(t *testing.T) {
		c, rival := newKubeClient(t, k), newKubeClient(t, k)
		ctx := testContext(t)
		_, err := occ.Modify(ctx, c, url, staleOnce(t, func() error {
			_, err := occ.Modify(ctx, rival, url, func(v *corev1.ConfigMap) error { return addTo(v, "rival") })
			return err
		}), occ.WithMaxAttempts(1))
		ce := requireStale(t, err, http.StatusConflict, "Conflict",
			`Operation cannot be fulfilled on configmaps "tally": the object has been modified; please apply your changes to the latest version and try again`)
		assert.NotEmpty(t, ce.RequestID, "the Audit-Id")
	})
}

// kubePatches races merge-patch and JSON Patch writers on their own
// ConfigMaps: a stale merge patch carries the resourceVersion and is
// refused with 409, a stale JSON Patch's test of it with 422, which occ
// retries as the version conflict it is.
func kubePatches(t *testing.T, k *kube) {
	for _, mode := range []struct {
		name string
		mode occ.WriteMode
	}{{"merge patch", occ.WriteMergePatch}, {"JSON Patch", occ.WriteJSONPatch}} {
		t.Run(mode.name, func(t *testing.T) {
			name := strings.ReplaceAll(strings.ToLower(mode.name), " ", "-")
			url := k.collection() + "/" + name
			_, err := occ.Create(testContext(t), newKubeClient(t, k), k.collection(), tallyMap(name, tally{}), post)
			require.NoError(t, err)
			cs := writerClients(func() *occ.Client { return newKubeClient(t, k) })
			race(t, ownClients, func(ctx context.Context, w int, id string, st occ.CallOption) error {
				_, err := occ.Modify(ctx, cs[w], url, func(cm *corev1.ConfigMap) error { return addTo(cm, id) },
					st, occ.WithWriteMode(mode.mode))
				return err
			})
			v, _ := readTally(t, k, url)
			assertTally(t, v, ownClients)
		})
	}
}

// kubePut edits a ConfigMap as a form would, from the version read, while
// another party changes another key: the three-way merge keeps both.
func kubePut(t *testing.T, k *kube) {
	c := newKubeClient(t, k)
	ctx := testContext(t)
	url := k.collection() + "/form"
	cm := tallyMap("form", tally{})
	cm.Data = map[string]string{"a": "1", "b": "1"}
	_, err := occ.Create(ctx, c, k.collection(), cm, post)
	require.NoError(t, err)
	base, err := occ.Get[corev1.ConfigMap](ctx, c, url)
	require.NoError(t, err)
	_, err = occ.Modify(ctx, newKubeClient(t, k), url, func(v *corev1.ConfigMap) error { v.Data["a"] = "theirs"; return nil })
	require.NoError(t, err)
	desired := *base.Value.DeepCopy()
	desired.Data["b"] = "mine"
	got, err := occ.Put(ctx, c, url, base, desired)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "theirs", "b": "mine"}, got.Value.Data)
	var stored corev1.ConfigMap
	require.NoError(t, json.Unmarshal(mustDo(t, k.rt, http.MethodGet, url, nil, nil, http.StatusOK), &stored))
	assert.Equal(t, map[string]string{"a": "theirs", "b": "mine"}, stored.Data)
}

// kubeProbe probes a ConfigMap: with the POST create every check passes;
// with occ's default create (PUT with If-None-Match: *, which the
// apiserver takes as an update) the duplicate check fails. Either way the
// object is left as it was.
func kubeProbe(t *testing.T, k *kube) {
	ctx := testContext(t)
	url := k.collection() + "/probed"
	_, err := occ.Create(ctx, newKubeClient(t, k), k.collection(), tallyMap("probed", tally{N: 7, Log: "kept"}), post)
	require.NoError(t, err)

	r, err := occ.Probe(ctx, newKubeClient(t, k), url, post)
	require.NoError(t, err)
	assert.True(t, r.Passed(), "%+v", r)
	assert.Equal(t, map[string]bool{"version": true, "stale write refused": true, "duplicate create refused": true}, probeChecks(r))

	r, err = occ.Probe(ctx, newKubeClient(t, k), url, occ.WithCreateMethod(http.MethodPut)) // occ's default
	require.NoError(t, err)
	assert.False(t, r.Passed())
	assert.Equal(t, map[string]bool{"version": true, "stale write refused": true, "duplicate create refused": false}, probeChecks(r))
	assert.True(t, r.Restored)

	v, cm := readTally(t, k, url)
	assert.Equal(t, tally{N: 7, Log: "kept"}, v)
	assert.Empty(t, cm.Annotations, "Probe's annotation is gone")
	assert.Equal(t, "occ", cm.Labels["app"])
}

// probeChecks maps a probe's checks to whether they passed.
func probeChecks(r occ.ProbeReport) map[string]bool {
	m := map[string]bool{}
	for _, c := range r.Checks {
		m[c.Name] = c.Passed
	}
	return m
}
