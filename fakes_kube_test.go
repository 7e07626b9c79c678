package occ_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	jsonpatch "github.com/evanphx/json-patch/v5"
)

// fakeKube mimics the Kubernetes API for one collection of objects
// (ConfigMaps), as a real kube-apiserver v1.37 behaves (see realservers'
// kube_test.go): the version in metadata.resourceVersion and no ETag
// (If-Match and If-None-Match are ignored); an update with a stale
// resourceVersion is a 409 Status Conflict, one without a resourceVersion
// is unconditional, and one that changes nothing keeps the version; members
// the schema does not know are dropped; a create is a POST to the
// collection (409 AlreadyExists, naming the object in details.name), and a
// PUT to a missing name is a 404; a JSON Patch whose test fails is a 422
// Invalid.
type fakeKube struct {
	mu      sync.Mutex
	prefix  string                    // the collection's path, such as /api/v1/namespaces/ns/configmaps
	objects map[string]map[string]any // by name
	rv      int
	writes  int
	invalid bool     // every JSON Patch is refused with 422, as for an invalid object
	methods []string // of every write, in order: "PUT", "POST", "PATCH json", "PATCH merge"
}

func newFakeKube() *fakeKube {
	return &fakeKube{prefix: "/api/v1/namespaces/ns/configmaps", objects: map[string]map[string]any{}}
}

// set stores an object under name, with a new resourceVersion.
func (f *fakeKube) set(name string, data map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.store(name, map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "ns", "uid": "u-" + name}, "data": data})
}

// get returns the object under name, as JSON, or nil.
func (f *fakeKube) get(name string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o, ok := f.objects[name]; ok {
		b, _ := json.Marshal(o)
		return b
	}
	return nil
}

func (f *fakeKube) store(name string, o map[string]any) {
	f.rv++
	o["metadata"].(map[string]any)["resourceVersion"] = strconv.Itoa(f.rv)
	f.objects[name] = o
}

func (f *fakeKube) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	name, ok := strings.CutPrefix(r.URL.Path, f.prefix+"/")
	switch {
	case r.URL.Path == f.prefix && r.Method == http.MethodPost:
		f.methods = append(f.methods, "POST")
		f.create(w, body)
	case !ok || name == "" || strings.Contains(name, "/"):
		kubeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource", "")
	case f.objects[name] == nil && r.Method != http.MethodPost:
		kubeStatus(w, http.StatusNotFound, "NotFound", fmt.Sprintf("configmaps %q not found", name), name)
	case r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, f.objects[name])
	case r.Method == http.MethodDelete:
		delete(f.objects, name)
		kubeStatus(w, http.StatusOK, "", "", name)
	case r.Method == http.MethodPut, r.Method == http.MethodPatch:
		f.update(w, r, name, body)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// create is a POST to the collection.
func (f *fakeKube) create(w http.ResponseWriter, body []byte) {
	o, err := decodeObject(body)
	name, _ := metadata(o)["name"].(string)
	switch {
	case err != nil:
		kubeStatus(w, http.StatusBadRequest, "BadRequest", err.Error(), "")
	case name == "":
		kubeStatus(w, http.StatusUnprocessableEntity, "Invalid", "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required", "")
	case f.objects[name] != nil:
		kubeStatus(w, http.StatusConflict, "AlreadyExists", fmt.Sprintf("configmaps %q already exists", name), name)
	default:
		o = pruned(o)
		f.writes++
		f.store(name, o)
		writeJSON(w, http.StatusCreated, o)
	}
}

// update is a PUT or a PATCH of the object under name.
func (f *fakeKube) update(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	cur := f.objects[name]
	next, err := f.apply(r, cur, body)
	var st *kubeError
	if errors.As(err, &st) {
		kubeStatus(w, st.code, st.reason, st.msg, name)
		return
	}
	if err != nil {
		kubeStatus(w, http.StatusBadRequest, "BadRequest", err.Error(), name)
		return
	}
	rv, _ := metadata(next)["resourceVersion"].(string)
	if rv != "" && rv != metadata(cur)["resourceVersion"] {
		kubeStatus(w, http.StatusConflict, "Conflict", fmt.Sprintf("Operation cannot be fulfilled on configmaps %q: the object has been modified; please apply your changes to the latest version and try again", name), name)
		return
	}
	next = pruned(next)
	for _, k := range []string{"name", "namespace", "uid", "resourceVersion"} {
		metadata(next)[k] = metadata(cur)[k]
	}
	if !reflect.DeepEqual(next, cur) {
		f.writes++
		f.store(name, next)
	}
	writeJSON(w, http.StatusOK, f.objects[name])
}

// apply returns the object a PUT or PATCH asks for.
func (f *fakeKube) apply(r *http.Request, cur map[string]any, body []byte) (map[string]any, error) {
	curJSON, _ := json.Marshal(cur)
	switch ct := r.Header.Get("Content-Type"); {
	case r.Method == http.MethodPut:
		f.methods = append(f.methods, "PUT")
		return decodeObject(body)
	case ct == "application/merge-patch+json":
		f.methods = append(f.methods, "PATCH merge")
		out, err := jsonpatch.MergePatch(curJSON, body)
		if err != nil {
			return nil, err
		}
		return decodeObject(out)
	case ct == "application/json-patch+json":
		f.methods = append(f.methods, "PATCH json")
		p, err := jsonpatch.DecodePatch(body)
		if err != nil {
			return nil, err
		}
		out, err := p.Apply(curJSON)
		if err != nil || f.invalid {
			return nil, &kubeError{code: http.StatusUnprocessableEntity, reason: "Invalid", msg: "the server rejected our request due to an error in our request"}
		}
		return decodeObject(out)
	}
	return nil, &kubeError{code: http.StatusUnsupportedMediaType, reason: "UnsupportedMediaType", msg: "unsupported patch type"}
}

// kubeError is a Status answer apply decided on.
type kubeError struct {
	code        int
	reason, msg string
}

func (e *kubeError) Error() string { return e.msg }

// pruned returns o with only the members a ConfigMap's schema knows.
func pruned(o map[string]any) map[string]any {
	out := map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}
	if d, ok := o["data"]; ok {
		out["data"] = d
	}
	md := map[string]any{}
	for _, k := range []string{"name", "namespace", "uid", "resourceVersion", "labels", "annotations"} {
		if v, ok := metadata(o)[k]; ok && v != nil {
			md[k] = v
		}
	}
	out["metadata"] = md
	return out
}

func metadata(o map[string]any) map[string]any {
	md, _ := o["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
	}
	return md
}

func decodeObject(b []byte) (map[string]any, error) {
	var o map[string]any
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, errors.New("not an object")
	}
	if _, ok := o["metadata"].(map[string]any); !ok {
		o["metadata"] = map[string]any{}
	}
	return o, nil
}

// kubeStatus writes a Status answer, as the apiserver does.
func kubeStatus(w http.ResponseWriter, code int, reason, msg, name string) {
	st := map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{}, "code": code}
	if code >= 300 {
		st["status"], st["reason"], st["message"] = "Failure", reason, msg
	} else {
		st["status"] = "Success"
	}
	if name != "" {
		st["details"] = map[string]any{"name": name, "kind": "configmaps"}
	}
	writeJSON(w, code, st)
}
