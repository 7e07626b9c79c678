package occ

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// propSchema is the members the partial type of the current iteration of
// TestModifyPropertyUnmodelledMembersSurvive models: of the document, and
// of each element of its "lines" array (always modelled, like "sku").
var propSchema struct{ top, elem []string }

// partial is a random partial type: it decodes a document as a Go struct
// of propSchema's members would, numbers into float64, and encodes it again.
type partial struct {
	Top   map[string]any
	Lines []map[string]any
}

func (p *partial) UnmarshalJSON(b []byte) error {
	var d struct {
		Lines []map[string]any `json:"lines"`
	}
	var top map[string]any
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	p.Top = project(top, propSchema.top)
	for _, e := range d.Lines {
		p.Lines = append(p.Lines, project(e, propSchema.elem))
	}
	return nil
}

func (p partial) MarshalJSON() ([]byte, error) {
	out := map[string]any{"lines": p.Lines}
	for k, v := range p.Top {
		out[k] = v
	}
	return json.Marshal(out)
}

// project keeps the members of o named in names.
func project(o map[string]any, names []string) map[string]any {
	out := map[string]any{}
	for _, n := range names {
		if v, ok := o[n]; ok {
			out[n] = v
		}
	}
	return out
}

// propValues are member values whose text a decode into float64 or any
// does not keep.
var propValues = []string{`12345678901234567891`, `1.5`, `1e2`, `-0.0`, `0.1000000000000000055511151231257827`,
	`"x"`, `"\u00e9"`, `true`, `null`, `{"n":12345678901234567891,"s":"y"}`, `[1,2.50,"z"]`, `[]`, `{}`}

// propMembers are the member names the generator draws from.
var propMembers = []string{"a", "b", "c", "qty", "price", "note"}

// genDoc returns a random compact document with n lines, each with a
// distinct sku.
func genDoc(r *rand.Rand, n int) string {
	var sb strings.Builder
	sb.WriteString("{")
	for _, k := range propMembers[:r.IntN(len(propMembers))] {
		fmt.Fprintf(&sb, "%q:%s,", k, propValues[r.IntN(len(propValues))])
	}
	sb.WriteString(`"lines":[`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"sku":"s%d"`, i)
		for _, k := range propMembers {
			if r.IntN(2) == 0 {
				fmt.Fprintf(&sb, ",%q:%s", k, propValues[r.IntN(len(propValues))])
			}
		}
		sb.WriteString("}")
	}
	sb.WriteString("]}")
	return sb.String()
}

// subset returns a random subset of names.
func subset(r *rand.Rand, names []string) []string {
	var out []string
	for _, n := range names {
		if r.IntN(2) == 0 {
			out = append(out, n)
		}
	}
	return out
}

// propChange is a random change of a partial document: it edits modelled
// members, removes lines and appends lines, and records which lines it kept
// and which of their members it edited.
type propChange struct {
	seed   uint64
	kept   []int           // the original index of each line it kept, in order
	edited map[[2]any]bool // (original index, member) it set
}

func (c *propChange) apply(p *partial) error {
	r := rand.New(rand.NewPCG(c.seed, 1))
	c.kept, c.edited = nil, map[[2]any]bool{}
	var lines []map[string]any
	for i, e := range p.Lines {
		if r.IntN(5) == 0 {
			continue // removed
		}
		for _, k := range propSchema.elem {
			if k != "sku" && r.IntN(3) == 0 {
				e[k] = float64(r.IntN(1 << 20))
				c.edited[[2]any{i, k}] = true
			}
		}
		c.kept = append(c.kept, i)
		lines = append(lines, e)
	}
	for j := range r.IntN(3) {
		lines = append(lines, map[string]any{"sku": fmt.Sprintf("new%d", j)})
	}
	p.Lines = lines
	for _, k := range propSchema.top {
		if r.IntN(3) == 0 {
			p.Top[k] = "edited"
		}
	}
	return nil
}

// rawDoc splits a document into its members and its lines' members.
func rawDoc(t *testing.T, doc string) (map[string]json.RawMessage, []map[string]json.RawMessage) {
	t.Helper()
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(doc), &top))
	var lines []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(top["lines"], &lines))
	return top, lines
}

// modifyPartial changes the document at itemURL with Modify.
func modifyPartial(c *Client, ch *propChange) error {
	_, err := Modify(context.Background(), c, itemURL, ch.apply)
	return err
}

// putPartial changes the document at itemURL with Put, from a read.
func putPartial(c *Client, ch *propChange) error {
	base, err := Get[partial](context.Background(), c, itemURL)
	if err != nil {
		return err
	}
	var desired partial
	if err := json.Unmarshal(base.Raw, &desired); err != nil {
		return err
	}
	if err := ch.apply(&desired); err != nil {
		return err
	}
	_, err = Put(context.Background(), c, itemURL, base, desired)
	return err
}

func TestModifyPropertyUnmodelledMembersSurvive(t *testing.T) {
	t.Run("Modify", func(t *testing.T) { checkUnmodelledMembersSurvive(t, modifyPartial) })
	t.Run("Put", func(t *testing.T) { checkUnmodelledMembersSurvive(t, putPartial) })
}

// checkUnmodelledMembersSurvive checks that change, through random partial
// types, keeps every member of the document that it did not set, in every
// element it did not remove, byte for byte.
func checkUnmodelledMembersSurvive(t *testing.T, change func(*Client, *propChange) error) {
	r := rand.New(rand.NewPCG(16, 2))
	for it := range propIterations {
		before := genDoc(r, r.IntN(6))
		propSchema.top = subset(r, propMembers)
		propSchema.elem = append([]string{"sku"}, subset(r, propMembers)...)
		api := newFakeAPI(before)
		ch := &propChange{seed: r.Uint64()}
		require.NoError(t, change(memClient(t, api), ch), "iteration %d", it)
		msg := fmt.Sprintf("iteration %d: schema %v, before %s, after %s", it, propSchema, before, api.doc)

		top0, lines0 := rawDoc(t, before)
		top1, lines1 := rawDoc(t, api.doc)
		for k, v := range top0 {
			if k != "lines" && !slices.Contains(propSchema.top, k) {
				require.Equal(t, string(v), string(top1[k]), msg)
			}
		}
		require.GreaterOrEqual(t, len(lines1), len(ch.kept), msg)
		for at, orig := range ch.kept {
			for k, v := range lines0[orig] {
				if !ch.edited[[2]any{orig, k}] {
					require.Equal(t, string(v), string(lines1[at][k]), "member %q of line %d, now %d; %s", k, orig, at, msg)
				}
			}
		}
	}
}
