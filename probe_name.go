package occ

import "strings"

// scratchNamed returns the body of a scratch document to POST for the
// document at url: with [WithNameField], named as url's last segment, so
// that the created document is the one at url.
func scratchNamed(body []byte, url string, s *settings) []byte {
	if s.nameField == nil || s.createMethod != "POST" {
		return body
	}
	name := url[strings.LastIndexByte(strings.TrimSuffix(url, "/"), '/')+1:]
	name, _, _ = strings.Cut(strings.TrimSuffix(name, "/"), "?")
	tree, err := decodeJSON(body)
	if err != nil || name == "" {
		return body
	}
	return mustRaw(setField(tree, s.nameField, name))
}

// declaredStrongLM reports whether the caller declared, with
// [WithStrongLastModified], that the server's Last-Modified is strong.
func declaredStrongLM(s *settings) bool { return s.strongLM }

// trustLastModified makes s condition writes on a Last-Modified whatever
// its strength: Probe's restore undoes its own write of a moment ago, whose
// Last-Modified is weak on a server with a one-second clock.
func trustLastModified(s *settings) { s.strongLM = true }
