package realservers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// MinIO's credentials in these tests.
const (
	minioUser     = "occ-test"
	minioPassword = "occ-test-secret"
	minioRegion   = "us-east-1"
)

// sigV4 is an http.RoundTripper that signs every request with AWS
// Signature Version 4 for S3, the way an S3 client would, before handing it
// to next. It reads the body to hash it; occ buffers bodies anyway, so
// every resend is signed afresh.
type sigV4 struct {
	next   http.RoundTripper
	signer *v4.Signer
	creds  aws.Credentials
	region string
}

// RoundTrip signs a copy of req and sends it.
func (s sigV4) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("sigv4: reading body: %w", err)
		}
	}
	r := req.Clone(req.Context())
	r.Body, r.ContentLength = http.NoBody, 0
	if len(body) > 0 {
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	r.Header.Set("X-Amz-Content-Sha256", hash)
	if err := s.signer.SignHTTP(r.Context(), s.creds, r, hash, "s3", s.region, time.Now()); err != nil {
		return nil, fmt.Errorf("sigv4: %w", err)
	}
	return s.next.RoundTrip(r)
}

// startMinIO starts MinIO on a temporary folder and returns its base URL.
// rt signs requests: MinIO is ready when a signed list of buckets succeeds
// (its health check answers before it serves requests).
func startMinIO(t *testing.T, rt http.RoundTripper) string {
	bin := findBinary(t, "OCC_MINIO", "minio",
		"go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c",
		filepath.Join(serversDir(), "bin", "minio"))
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "server", memDir(t), "--address", addr, "--quiet")
	cmd.Env = append(cmd.Environ(), "MINIO_ROOT_USER="+minioUser, "MINIO_ROOT_PASSWORD="+minioPassword,
		"MINIO_UPDATE=off", "MINIO_BROWSER=off")
	start(t, cmd, answers(rt, "http://"+addr+"/", http.StatusOK))
	return "http://" + addr
}

// TestMinIO races writers on one S3 object, its version in the ETag,
// through S3 conditional writes and SigV4 signing.
func TestMinIO(t *testing.T) {
	t.Parallel()
	rt := sigV4{next: newTransport(t), signer: v4.NewSigner(), region: minioRegion,
		creds: aws.Credentials{AccessKeyID: minioUser, SecretAccessKey: minioPassword}}
	base := startMinIO(t, rt)
	mustDo(t, rt, http.MethodPut, base+"/occ", nil, nil, http.StatusOK)
	url := base + "/occ/tally.json"
	newS3Client := func() *occ.Client { return newClient(t, rt) }
	_, err := occ.Create(testContext(t), newS3Client(), url, tally{})
	require.NoError(t, err)

	for _, round := range raceRounds {
		t.Run(round.name, func(t *testing.T) {
			cs := round.clients(newS3Client)
			race(t, round.id, func(ctx context.Context, w int, id string, st occ.CallOption) error {
				_, err := occ.Modify(ctx, cs[w], url, func(v *tally) error { v.add(id); return nil }, st)
				return err
			})
			assertTally(t, getTally(t, rt, url), round.done...)
		})
	}

	t.Run("duplicate create", func(t *testing.T) {
		_, err := occ.Create(testContext(t), newS3Client(), url, tally{})
		requireDuplicate(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
	})

	t.Run("duplicate bucket", func(t *testing.T) {
		req, err := http.NewRequestWithContext(testContext(t), http.MethodPut, base+"/occ", nil)
		require.NoError(t, err)
		resp, err := newS3Client().Do(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		requireDuplicate(t, err, http.StatusConflict, "BucketAlreadyOwnedByYou")
	})

	t.Run("stale write", func(t *testing.T) {
		c, rival := newS3Client(), newS3Client()
		ctx := testContext(t)
		_, err := occ.Modify(ctx, c, url, staleOnce(t, func() error {
			_, err := occ.Modify(ctx, rival, url, func(v *tally) error { v.add("rival"); return nil })
			return err
		}), occ.WithMaxAttempts(1))
		ce := requireStale(t, err, http.StatusPreconditionFailed, "PreconditionFailed",
			"At least one of the pre-conditions you specified did not hold")
		assert.NotEmpty(t, ce.RequestID, "request id")
	})
}
