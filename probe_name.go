//go:build k8sname

// This file needs settings.nameField, from WithNameField (the "trust"
// branch): once that is on main, drop the build tag and probe_noname.go.

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
