package realservers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

// Azurite's well-known development account.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azuriteSAS returns an account shared access signature (query
// parameters) for Blob and Table, valid for every operation: a signed URL
// is all occ needs, no signing transport.
func azuriteSAS(t *testing.T) string {
	key, err := base64.StdEncoding.DecodeString(azuriteKey)
	require.NoError(t, err)
	q := url.Values{"sv": {"2019-12-12"}, "ss": {"bt"}, "srt": {"sco"}, "sp": {"rwdlacu"}, "se": {"2099-01-01T00:00:00Z"}}
	toSign := strings.Join([]string{azuriteAccount, q.Get("sp"), q.Get("ss"), q.Get("srt"), "", q.Get("se"), "", "", q.Get("sv"), ""}, "\n")
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(toSign))
	q.Set("sig", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return q.Encode()
}

// startAzurite starts Azurite in memory, in a scratch folder (it writes
// files to its working folder), and returns the base URLs of its Blob and
// Table services, the account's path included.
func startAzurite(t *testing.T, rt http.RoundTripper) (blob, table string) {
	dir := findNodePackage(t, "OCC_AZURITE_DIR", "azurite", "azurite", "azurite@3.37.0")
	port := freePorts(t, 3) // Blob, Queue, Table
	args := []string{"--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--silent"}
	for i, svc := range []string{"blob", "queue", "table"} {
		args = append(args, "--"+svc+"Host", "127.0.0.1", "--"+svc+"Port", strconv.Itoa(port+i))
	}
	cmd := exec.Command(filepath.Join(dir, "node_modules", ".bin", "azurite"), args...)
	cmd.Dir = t.TempDir()
	base := func(p int) string { return "http://127.0.0.1:" + strconv.Itoa(p) }
	tableReady := answers(rt, base(port+2)+"/", 0)
	start(t, cmd, func(ctx context.Context) bool {
		return answers(rt, base(port)+"/", 0)(ctx) && tableReady(ctx)
	})
	return base(port) + "/" + azuriteAccount, base(port+2) + "/" + azuriteAccount
}

// TestAzurite races writers on a blob (its version in the ETag) and on a
// table entity (its version in odata.etag), both through a SAS-signed URL.
func TestAzurite(t *testing.T) {
	t.Parallel()
	rt := newTransport(t)
	blob, table := startAzurite(t, rt)
	sas := azuriteSAS(t)
	t.Run("blob", func(t *testing.T) { testAzuriteBlob(t, rt, blob, sas) })
	t.Run("table", func(t *testing.T) { testAzuriteTable(t, rt, table, sas) })
}

func testAzuriteBlob(t *testing.T, rt http.RoundTripper, base, sas string) {
	mustDo(t, rt, http.MethodPut, base+"/occ?restype=container&"+sas, nil, nil, http.StatusCreated)
	blobURL := base + "/occ/tally.json?" + sas
	newBlobClient := func() *occ.Client {
		return newClient(t, rt, occ.WithHeader("x-ms-blob-type", "BlockBlob"))
	}
	_, err := occ.Create(testContext(t), newBlobClient(), blobURL, tally{})
	require.NoError(t, err)

	for _, round := range raceRounds {
		t.Run(round.name, func(t *testing.T) {
			cs := round.clients(newBlobClient)
			race(t, round.id, func(ctx context.Context, w int, id string, st occ.CallOption) error {
				_, err := occ.Modify(ctx, cs[w], blobURL, func(v *tally) error { v.add(id); return nil }, st)
				return err
			})
			assertTally(t, getTally(t, rt, blobURL), round.done...)
		})
	}

	t.Run("duplicate create", func(t *testing.T) {
		_, err := occ.Create(testContext(t), newBlobClient(), blobURL, tally{})
		requireDuplicate(t, err, http.StatusConflict, "BlobAlreadyExists")
	})

	t.Run("stale write", func(t *testing.T) {
		c, rival := newBlobClient(), newBlobClient()
		ctx := testContext(t)
		_, err := occ.Modify(ctx, c, blobURL, staleOnce(t, func() error {
			_, err := occ.Modify(ctx, rival, blobURL, func(v *tally) error { v.add("rival"); return nil })
			return err
		}), occ.WithMaxAttempts(1))
		ce := requireStale(t, err, http.StatusPreconditionFailed, "ConditionNotMet",
			"The condition specified using HTTP conditional header(s) is not met.")
		require.NotEmpty(t, ce.RequestID, "request id")
	})
}

// tallyEntity is a tally as a table entity.
type tallyEntity struct {
	PartitionKey string
	RowKey       string
	tally
}

func testAzuriteTable(t *testing.T, rt http.RoundTripper, base, sas string) {
	jsonHeader := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	mustDo(t, rt, http.MethodPost, base+"/Tables?"+sas, jsonHeader, []byte(`{"TableName":"occ"}`), http.StatusCreated)
	entityURL := base + "/occ(PartitionKey='p',RowKey='r')?" + sas
	newTableClient := func() *occ.Client {
		return newClient(t, rt, occ.WithVersionField("/odata.etag"), occ.WithVersionIfMatch(true))
	}
	create := func(c *occ.Client) error {
		_, err := occ.Create(testContext(t), c, base+"/occ?"+sas, tallyEntity{PartitionKey: "p", RowKey: "r"},
			occ.WithCreateMethod(http.MethodPost))
		return err
	}
	require.NoError(t, create(newTableClient()))

	for _, round := range raceRounds {
		t.Run(round.name, func(t *testing.T) {
			cs := round.clients(newTableClient)
			race(t, round.id, func(ctx context.Context, w int, id string, st occ.CallOption) error {
				_, err := occ.Modify(ctx, cs[w], entityURL, func(v *tally) error { v.add(id); return nil }, st)
				return err
			})
			assertTally(t, getTally(t, rt, entityURL), round.done...)
		})
	}

	t.Run("duplicate create", func(t *testing.T) {
		requireDuplicate(t, create(newTableClient()), http.StatusConflict, "EntityAlreadyExists")
	})

	t.Run("stale write", func(t *testing.T) {
		c, rival := newTableClient(), newTableClient()
		ctx := testContext(t)
		_, err := occ.Modify(ctx, c, entityURL, staleOnce(t, func() error {
			_, err := occ.Modify(ctx, rival, entityURL, func(v *tally) error { v.add("rival"); return nil })
			return err
		}), occ.WithMaxAttempts(1))
		ce := requireStale(t, err, http.StatusPreconditionFailed, "UpdateConditionNotSatisfied",
			"The update condition specified in the request was not satisfied.")
		require.NotEmpty(t, ce.RequestID, "request id")
		require.Contains(t, ce.URL, "sig=REDACTED", "the SAS signature is not in the error")
	})
}
