package occ_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
)

type user struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

func TestAdoptingAUniquenessDuplicateStaysADuplicate(t *testing.T) {
	srv := occtest.New(t, occtest.WithUnique("/email"))
	c, err := occ.New()
	require.NoError(t, err)
	ctx := context.Background()
	_, err = occ.Create(ctx, c, srv.URL+"/users/1", user{Email: "a@x", Name: "ann"})
	require.NoError(t, err)
	_, err = occ.Create(ctx, c, srv.URL+"/users/2", user{Email: "a@x", Name: "bob"}, occ.WithAdoptExisting(true))
	require.ErrorIs(t, err, occ.ErrDuplicate)
	var se *occ.StatusError
	assert.False(t, errors.As(err, &se), "not the 404 of the create's own URL")
}

func TestAdoptingAPOSTDuplicateFindsTheExistingResource(t *testing.T) {
	srv := occtest.New(t, occtest.WithUnique("/email"))
	c, err := occ.New(occ.WithCreateMethod(http.MethodPost))
	require.NoError(t, err)
	ctx := context.Background()
	first, err := occ.Create(ctx, c, srv.URL+"/users", user{Email: "a@x", Name: "ann"})
	require.NoError(t, err)
	var st occ.Stats
	got, err := occ.Create(ctx, c, srv.URL+"/users", user{Email: "a@x", Name: "ann"}, occ.WithAdoptExisting(true), occ.WithStats(&st))
	require.NoError(t, err, "the 409 names the resource in its body")
	assert.Equal(t, first.URL, got.URL)
	assert.True(t, st.Adopted)
}

// kube is a Kubernetes-style collection: POST creates the object named by
// metadata.name, answering 201 with the object (no Location) or 409 with an
// AlreadyExists Status naming it in details.name.
type kube struct {
	mu   sync.Mutex
	objs map[string]string
}

func (k *kube) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	k.mu.Lock()
	defer k.mu.Unlock()
	const coll = "/api/v1/namespaces/d/configmaps"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == coll:
		var o struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(body, &o)
		if _, ok := k.objs[o.Metadata.Name]; ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps \"`+o.Metadata.Name+
				`\" already exists","reason":"AlreadyExists","details":{"name":"`+o.Metadata.Name+`","kind":"configmaps"},"code":409}`)
			return
		}
		stored := strings.Replace(string(body), `"metadata":{`, `"metadata":{"resourceVersion":"7",`, 1)
		k.objs[o.Metadata.Name] = stored
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, stored)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, coll+"/"):
		o, ok := k.objs[strings.TrimPrefix(r.URL.Path, coll+"/")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = io.WriteString(w, o)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

type configMap struct {
	Metadata struct {
		Name            string `json:"name"`
		ResourceVersion string `json:"resourceVersion,omitempty"`
	} `json:"metadata"`
	Data map[string]string `json:"data"`
}

func TestWithNameFieldNamesAPOSTCreateAndItsDuplicate(t *testing.T) {
	ts := httptest.NewServer(&kube{objs: map[string]string{}})
	defer ts.Close()
	c, err := occ.New(occ.WithCreateMethod(http.MethodPost), occ.WithNameField("/metadata/name"),
		occ.WithVersionField("/metadata/resourceVersion"))
	require.NoError(t, err)
	coll := ts.URL + "/api/v1/namespaces/d/configmaps"
	var cm configMap
	cm.Metadata.Name, cm.Data = "app config", map[string]string{"k": "v"}
	ctx := context.Background()
	got, err := occ.Create(ctx, c, coll, cm)
	require.NoError(t, err)
	assert.Equal(t, coll+"/app%20config", got.URL)
	assert.Equal(t, "7", got.Version)

	adopted, err := occ.Create(ctx, c, coll, cm, occ.WithAdoptExisting(true))
	require.NoError(t, err)
	assert.Equal(t, coll+"/app%20config", adopted.URL)
	assert.Equal(t, "7", adopted.Value.Metadata.ResourceVersion)

	_, err = occ.Create(ctx, c, coll, cm)
	require.ErrorIs(t, err, occ.ErrDuplicate, "without WithAdoptExisting, the duplicate")
}

func TestAdoptingWhatNoAnswerNamesSaysWhy(t *testing.T) {
	ts := httptest.NewServer(&kube{objs: map[string]string{"a": `{}`}})
	defer ts.Close()
	c, err := occ.New(occ.WithCreateMethod(http.MethodPost)) // no WithNameField
	require.NoError(t, err)
	var cm configMap
	cm.Metadata.Name = "a"
	_, err = occ.Create(context.Background(), c, ts.URL+"/api/v1/namespaces/d/configmaps", cm, occ.WithAdoptExisting(true))
	require.ErrorIs(t, err, occ.ErrDuplicate)
	_, bare := err.(*occ.ConflictError)
	assert.False(t, bare, "an error that says why it could not adopt")
}
