//go:build !k8sname

package occ

// scratchNamed returns body: without WithNameField (see probe_name.go) a
// scratch document has no name to take from its URL.
func scratchNamed(body []byte, _ string, _ *settings) []byte { return body }

// declaredStrongLM reports false: without WithStrongLastModified (see
// probe_name.go) no caller can declare a Last-Modified strong.
func declaredStrongLM(*settings) bool { return false }

// trustLastModified does nothing: without WithStrongLastModified (see
// probe_name.go) occ conditions writes on any Last-Modified.
func trustLastModified(*settings) {}
