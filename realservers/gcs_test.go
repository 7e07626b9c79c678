package realservers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/require"
)

// gcsMedia reads an object's bytes at .../b/BUCKET/o/NAME?alt=media with
// their generation, and uploads them conditioned on ?ifGenerationMatch=
// (0 to create).
var gcsMedia = occ.Dialect{
	Decode: occ.VersionHeader("X-Goog-Generation"),
	Encode: func(w *occ.WriteRequest) error {
		u, err := url.Parse(w.URL)
		if err != nil {
			return err
		}
		bucket, name, ok := strings.Cut(u.Path, "/o/")
		if !ok {
			return errors.New("not an object URL")
		}
		u.Path, u.RawPath = "/upload"+bucket+"/o", ""
		u.RawQuery = url.Values{"uploadType": {"media"}, "name": {name}}.Encode()
		w.Method, w.URL = http.MethodPost, u.String()
		return occ.VersionQuery("ifGenerationMatch", "0")(w)
	},
}

// startFakeGCS starts fake-gcs-server in memory and returns its base URL.
func startFakeGCS(t *testing.T, rt http.RoundTripper) string {
	bin := findBinary(t, "OCC_FAKE_GCS_SERVER", "fake-gcs-server",
		"go install github.com/fsouza/fake-gcs-server@v1.56.1",
		filepath.Join(serversDir(), "bin", "fake-gcs-server"))
	port := strconv.Itoa(freePort(t))
	base := "http://127.0.0.1:" + port
	cmd := exec.Command(bin, "-backend", "memory", "-scheme", "http", "-host", "127.0.0.1", "-port", port,
		"-external-url", base, "-public-host", "127.0.0.1:"+port, "-log-level", "error")
	start(t, cmd, answers(rt, base+"/storage/v1/b", http.StatusOK))
	return base
}

// TestFakeGCS races writers on one Cloud Storage object, its version in
// X-Goog-Generation, written through media uploads.
func TestFakeGCS(t *testing.T) {
	t.Parallel()
	rt := newTransport(t)
	base := startFakeGCS(t, rt)
	mustDo(t, rt, http.MethodPost, base+"/storage/v1/b", http.Header{"Content-Type": {"application/json"}},
		[]byte(`{"name":"occ"}`), http.StatusOK)
	object := base + "/storage/v1/b/occ/o/tally.json?alt=media"
	newGCSClient := func() *occ.Client { return newClient(t, rt, occ.WithDialect(gcsMedia)) }
	_, err := occ.Create(testContext(t), newGCSClient(), object, tally{})
	require.NoError(t, err)

	for _, round := range raceRounds {
		t.Run(round.name, func(t *testing.T) {
			cs := round.clients(newGCSClient)
			race(t, round.id, func(ctx context.Context, w int, id string, st occ.CallOption) error {
				_, err := occ.Modify(ctx, cs[w], object, func(v *tally) error { v.add(id); return nil }, st)
				return err
			})
			assertTally(t, getTally(t, rt, object), round.done...)
		})
	}

	t.Run("duplicate create", func(t *testing.T) {
		_, err := occ.Create(testContext(t), newGCSClient(), object, tally{})
		ce := requireDuplicate(t, err, http.StatusPreconditionFailed, "conditionNotMet")
		require.Equal(t, "Precondition failed", ce.Message)
	})

	t.Run("duplicate bucket", func(t *testing.T) {
		req, err := http.NewRequestWithContext(testContext(t), http.MethodPost, base+"/storage/v1/b", strings.NewReader(`{"name":"occ"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := newGCSClient().Do(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		requireDuplicate(t, err, http.StatusConflict, "conflict")
	})

	t.Run("stale write", func(t *testing.T) {
		c, rival := newGCSClient(), newGCSClient()
		ctx := testContext(t)
		_, err := occ.Modify(ctx, c, object, staleOnce(t, func() error {
			_, err := occ.Modify(ctx, rival, object, func(v *tally) error { v.add("rival"); return nil })
			return err
		}), occ.WithMaxAttempts(1))
		requireStale(t, err, http.StatusPreconditionFailed, "conditionNotMet", "Precondition failed")
	})
}
