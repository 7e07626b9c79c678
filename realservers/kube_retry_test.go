package realservers

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
)

// kubeVersusRetryOnConflict runs the race of 16 writers x 25
// increments twice on one apiserver, on two ConfigMaps: with occ (a client
// per writer), and with what controllers write, client-go's
// retry.RetryOnConflict(retry.DefaultRetry, ...) around a Get and an
// Update (a clientset per writer). It logs the figures of both, from the
// same run, for realservers/README.md's table: updates landed, updates
// given up, writes sent. occ must land every update once; RetryOnConflict
// gives up after DefaultRetry's 5 steps, and the ConfigMap must hold
// exactly the updates it reported landed.
func kubeVersusRetryOnConflict(t *testing.T, k *kube) {
	ctx := testContext(t)

	_, err := occ.Create(ctx, newKubeClient(t, k), k.collection(), tallyMap("occ", tally{}), post)
	require.NoError(t, err)
	before := k.puts.Load()
	cs := writerClients(func() *occ.Client { return newKubeClient(t, k) })
	race(t, ownClients, func(ctx context.Context, w int, id string, st occ.CallOption) error {
		_, err := occ.Modify(ctx, cs[w], k.collection()+"/occ", func(cm *corev1.ConfigMap) error { return addTo(cm, id) }, st)
		return err
	})
	occWrites := k.puts.Load() - before
	v, _ := readTally(t, k, k.collection()+"/occ")
	assertTally(t, v, ownClients)

	_, err = occ.Create(ctx, newKubeClient(t, k), k.collection(), tallyMap("client-go", tally{}), post)
	require.NoError(t, err)
	before = k.puts.Load()
	landed, gaveUp := retryOnConflictRace(t, k)
	goWrites := k.puts.Load() - before
	v, _ = readTally(t, k, k.collection()+"/client-go")
	assert.Equal(t, int(landed), v.N, "the ConfigMap holds exactly the updates RetryOnConflict reported")
	assert.Equal(t, writers*increments, int(landed+gaveUp))

	t.Logf("occ.Modify: %d of %d updates landed, 0 gave up, %d PUTs (%.2f per update)",
		writers*increments, writers*increments, occWrites, float64(occWrites)/float64(writers*increments))
	t.Logf("retry.RetryOnConflict(retry.DefaultRetry): %d of %d landed, %d gave up, %d PUTs (%.2f per landed update)",
		landed, writers*increments, gaveUp, goWrites, float64(goWrites)/float64(max(landed, 1)))
}

// retryOnConflictRace runs the race with client-go, each writer with a
// clientset of its own, and returns how many updates landed and how many
// gave up with a conflict.
func retryOnConflictRace(t *testing.T, k *kube) (landed, gaveUp int64) {
	t.Helper()
	ctx := testContext(t)
	var ok, conflict atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers*increments)
	for w := range writers {
		cs := clientset(t, k)
		cms := cs.CoreV1().ConfigMaps(kubeNamespace)
		wg.Go(func() {
			for i := range increments {
				id := fmt.Sprintf("g%d.%d", w, i)
				err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
					cm, err := cms.Get(ctx, "client-go", metav1.GetOptions{})
					if err != nil {
						return err
					}
					if err := addTo(cm, id); err != nil {
						return err
					}
					_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
					return err
				})
				switch {
				case err == nil:
					ok.Add(1)
				case apierrors.IsConflict(err):
					conflict.Add(1)
				default:
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("client-go: %v", err)
	}
	return ok.Load(), conflict.Load()
}

// clientset returns a client-go clientset for k, its writes counted like
// occ's.
func clientset(t *testing.T, k *kube) *kubernetes.Clientset {
	t.Helper()
	ca, err := os.ReadFile(k.caFile)
	require.NoError(t, err)
	cfg := &rest.Config{
		Host: k.url, BearerToken: kubeToken, TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		QPS: -1, // no client-side rate limit: the race measures conflicts, not the limiter
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			t.Cleanup(func() { utilnet.CloseIdleConnectionsFor(rt) })
			return &counting{rt: rt, writes: k.puts}
		},
	}
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	return cs
}
