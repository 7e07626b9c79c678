// Package realservers tests occ against real servers written by others:
// PouchDB, lighttpd with mod_webdav, etcd's v2 API, fake-gcs-server, MinIO,
// Azurite Blob and Table, Radicale, and Kubernetes (kube-apiserver with
// etcd 3.7, the Kubernetes types of k8s.io/api and client-go as test-only
// dependencies). It holds tests only, in a module of
// its own so that their heavy dependencies stay out of occ's go.mod.
//
// Each test finds its server (an environment variable, PATH, or the folder
// .ci/servers.sh installs into), starts it on a free 127.0.0.1 port with
// temporary or in-memory storage, and stops it when the test ends. A server
// that is not installed skips its test with the command that installs it,
// or fails it when OCC_REQUIRE_SERVERS=1 (as in CI).
package realservers
