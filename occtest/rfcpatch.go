package occtest

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
)

// applyMergePatch applies an RFC 7396 merge patch to doc.
func applyMergePatch(doc []byte, patch map[string]any) ([]byte, error) {
	target, err := decodeObject(doc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(mergePatch(target, patch))
}

// mergePatch is RFC 7396 section 2's MergePatch: a patch that is an
// object merges member by member, a null member removing the target's;
// any other patch value, an array included, replaces the target whole
// (nulls inside an array are values, kept as they are).
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// applyJSONPatch applies an RFC 6902 patch to doc, with its test
// operations comparing JSON values (section 4.6: numbers equal when their
// values are, objects regardless of member order), not their text. The
// patch first runs on a copy whose numbers (the document's and the test
// values') are in canonical form, which decides its tests; if they pass,
// it runs without them on doc itself, so that the numbers the store holds
// keep their text.
func applyJSONPatch(ops jsonpatch.Patch, doc []byte) ([]byte, error) {
	canonDoc, err := canonicalJSON(doc)
	if err != nil {
		return nil, err
	}
	canonOps := make(jsonpatch.Patch, 0, len(ops))
	rest := make(jsonpatch.Patch, 0, len(ops))
	for _, op := range ops {
		if op.Kind() != "test" {
			canonOps, rest = append(canonOps, op), append(rest, op)
			continue
		}
		if canonOps, err = appendCanonicalTest(canonOps, op); err != nil {
			return nil, err
		}
	}
	if _, err := canonOps.ApplyWithOptions(canonDoc, patchOptions()); err != nil {
		return nil, err
	}
	return rest.ApplyWithOptions(doc, patchOptions())
}

// appendCanonicalTest appends op, a test, with its value canonical.
func appendCanonicalTest(ops jsonpatch.Patch, op jsonpatch.Operation) (jsonpatch.Patch, error) {
	raw, ok := op["value"]
	if !ok || raw == nil {
		return append(ops, op), nil // the library reports the missing value
	}
	v, err := canonicalJSON(*raw)
	if err != nil {
		return nil, err
	}
	c := make(jsonpatch.Operation, len(op))
	for k, r := range op {
		c[k] = r
	}
	msg := json.RawMessage(v)
	c["value"] = &msg
	return append(ops, c), nil
}

// numberMark starts the string that stands for a number in canonical
// form: a NUL no document string carries in practice, and its exact value.
const numberMark = "\x00number:"

// maxCanonicalDigits bounds the numbers that are made canonical: longer
// ones, and ones with an exponent of more than three digits, are compared
// by their text, so that no number costs much big-number arithmetic.
const maxCanonicalDigits = 1000

// canonicalJSON re-encodes a JSON value with every number replaced by a
// string naming its exact value, so that 1.5 and 1.50, 0 and -0, 100 and
// 1e2 encode alike.
func canonicalJSON(data []byte) ([]byte, error) {
	v, err := decodeValue(data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(canonical(v))
}

// decodeValue decodes one JSON value, keeping numbers exact.
func decodeValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// canonical replaces the numbers in v, in place, by their canonical form.
func canonical(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = canonical(e)
		}
	case []any:
		for i, e := range x {
			x[i] = canonical(e)
		}
	case json.Number:
		return numberMark + exactValue(string(x))
	}
	return v
}

// exactValue names a JSON number's exact value, as a reduced fraction.
func exactValue(n string) string {
	if len(n) > maxCanonicalDigits {
		return n
	}
	if i := strings.IndexAny(n, "eE"); i >= 0 && len(strings.TrimLeft(n[i+1:], "+-0")) > 3 {
		return n
	}
	r, ok := new(big.Rat).SetString(n)
	if !ok {
		return n
	}
	return r.RatString()
}
