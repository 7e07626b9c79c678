package jsonmerge

import "bytes"

// Rebase applies a change made in a view of doc onto doc itself: before is
// the view (doc decoded into a type that models part of it, and encoded
// again), after the view once changed. It returns doc with what the change
// altered, as compact JSON: members the view does not model, and values the
// change left alone, keep doc's exact text (numbers beyond float64
// included), also inside the arrays the change touched.
//
// Array elements are aligned by matching first the elements the change left
// unchanged (a common prefix and suffix, then a longest common subsequence
// of what remains), then, between those, the objects with the most members
// (key and value) in common, then, between those, by position where as many
// elements remain on both sides (the change edited them in place); last,
// an element still unmatched that equals one of before nothing matched is
// that one, moved (a sort). The
// tables of the last two steps are bounded by maxAlignCells; past it,
// elements pair by position only. An element of after matched with one of before is rebased
// onto the element of doc at before's index, so that it keeps doc's members;
// one that matches nothing is new and written as after has it; elements of
// before that nothing matches are removed. An array whose view has another
// length than doc's (the type does not model it element for element) is
// taken whole from after. Where the change altered a value, after wins.
//
// Its error, when an input is not exactly one valid JSON value or nests
// deeper than 10000 levels, names the input as [Merge]'s does: "base"
// (before), "mine" (after) or "theirs" (doc). Rebase is safe for
// concurrent use.
func Rebase(before, after, doc []byte) ([]byte, error) {
	docs, err := prepareMergeInputs(before, after, doc)
	if err != nil {
		return nil, err
	}
	mg := &merger{known: docs[:], align: true}
	out := make([]byte, 0, len(docs[2].doc)+len(docs[1].doc)/8)
	out, _ = mg.merge(out, docs[0].doc, docs[1].doc, docs[2].doc, nil, SideMine)
	return out, nil
}

// maxAlignCells bounds the tables that align the changed middle of an
// array: past it, elements pair by position only.
const maxAlignCells = 1 << 16

// mergeAligned appends the rebase of the array m onto t, b being t's view
// before the change (see [Rebase]). It reports false, having appended
// nothing, when b and t differ in length.
func (mg *merger) mergeAligned(dst, b, m, t []byte, prefer Side) ([]byte, bool) {
	be := mg.known.appendElements(nil, b)
	te := mg.known.appendElements(nil, t)
	if len(be) != len(te) {
		return dst, false
	}
	me := mg.known.appendElements(nil, m)
	from := alignElements(be, me)
	dst = append(dst, '[')
	first := true
	for i, e := range me {
		if j := from[i]; j >= 0 {
			dst, first = mg.element(dst, first, i, be[j], e, te[j], nil, prefer)
			continue
		}
		dst, first = mg.element(dst, first, i, nil, e, nil, nil, prefer)
	}
	return append(dst, ']'), true
}

// alignElements returns, for each element of m, the index of the element
// of b it derives from, or -1 for a new one. Equal elements at both ends
// match; in the middle, equal elements, then elements with members in
// common, anchor the alignment (see [alignBy]).
func alignElements(b, m [][]byte) []int {
	from := make([]int, len(m))
	pre := 0
	for pre < len(b) && pre < len(m) && bytes.Equal(b[pre], m[pre]) {
		from[pre] = pre
		pre++
	}
	suf := 0
	for suf < len(b)-pre && suf < len(m)-pre && bytes.Equal(b[len(b)-1-suf], m[len(m)-1-suf]) {
		from[len(m)-1-suf] = len(b) - 1 - suf
		suf++
	}
	similar := func(b, m [][]byte) []int { return alignBy(b, m, sharedMembers, alignByPosition) }
	for i, j := range alignBy(b[pre:len(b)-suf], m[pre:len(m)-suf], equalElements, similar) {
		if j >= 0 {
			j += pre
		}
		from[pre+i] = j
	}
	matchMoved(b, m, from)
	return from
}

// matchMoved matches each element of m that from leaves new with an equal
// element of b that nothing matched: the change moved it, as a sort does.
func matchMoved(b, m [][]byte, from []int) {
	used := make([]bool, len(b))
	for _, j := range from {
		if j >= 0 {
			used[j] = true
		}
	}
	free := map[string][]int{}
	for j, e := range b {
		if !used[j] {
			free[string(e)] = append(free[string(e)], j)
		}
	}
	for i, j := range from {
		if js := free[string(m[i])]; j < 0 && len(js) > 0 {
			from[i], free[string(m[i])] = js[0], js[1:]
		}
	}
}

// scorer returns the score of pairing b[i] with m[j], for a matching.
type scorer func(b, m [][]byte) func(i, j int) int

// alignBy aligns b and m on the pairs of elements of a best order-keeping
// matching by score (of pairs scoring above 0; none when the table would
// exceed maxAlignCells), and the elements between two matched pairs by gap.
func alignBy(b, m [][]byte, score scorer, gap func(b, m [][]byte) []int) []int {
	from := make([]int, len(m))
	var anchors [][2]int // (index in b, index in m), in order
	if len(b)*len(m) <= maxAlignCells {
		anchors = bestMatching(len(b), len(m), score(b, m))
	}
	anchors = append(anchors, [2]int{len(b), len(m)})
	bi, mi := 0, 0
	for _, a := range anchors {
		for k, j := range gap(b[bi:a[0]], m[mi:a[1]]) {
			if j >= 0 {
				j += bi
			}
			from[mi+k] = j
		}
		if a[1] < len(m) {
			from[a[1]] = a[0]
		}
		bi, mi = a[0]+1, a[1]+1
	}
	return from
}

// alignByPosition pairs b and m element by element when they are as long
// (the change edited them in place), and else pairs none.
func alignByPosition(b, m [][]byte) []int {
	from := make([]int, len(m))
	for i := range m {
		from[i] = -1
		if len(b) == len(m) {
			from[i] = i
		}
	}
	return from
}

// bestMatching returns the index pairs of an order-keeping matching of nb
// and nm elements whose total score is highest, of pairs scoring above 0.
func bestMatching(nb, nm int, score func(i, j int) int) [][2]int {
	w := nm + 1
	scores := make([]int32, nb*nm)
	best := make([]int32, (nb+1)*w) // best[i*w+j]: of b[i:] and m[j:]
	for i := nb - 1; i >= 0; i-- {
		for j := nm - 1; j >= 0; j-- {
			s := int32(score(i, j))
			scores[i*nm+j] = s
			best[i*w+j] = max(best[(i+1)*w+j], best[i*w+j+1])
			if s > 0 {
				best[i*w+j] = max(best[i*w+j], s+best[(i+1)*w+j+1])
			}
		}
	}
	var out [][2]int
	for i, j := 0, 0; i < nb && j < nm; {
		switch s := scores[i*nm+j]; {
		case s > 0 && best[i*w+j] == s+best[(i+1)*w+j+1]:
			out = append(out, [2]int{i, j})
			i, j = i+1, j+1
		case best[i*w+j] == best[(i+1)*w+j]:
			i++
		default:
			j++
		}
	}
	return out
}

// equalElements scores 1 for equal elements, else 0.
func equalElements(b, m [][]byte) func(i, j int) int {
	return func(i, j int) int {
		if bytes.Equal(b[i], m[j]) {
			return 1
		}
		return 0
	}
}

// sharedMembers scores the members two objects hold with the same key and
// the same value; 0 unless both are objects. Each element is scanned once.
func sharedMembers(b, m [][]byte) func(i, j int) int {
	bx := make([]memberIndex, len(b))
	for i, e := range b {
		if isKind(e, '{') {
			bx[i] = newMemberIndex(tapes(nil).appendMembers(nil, e))
		}
	}
	ms := make([][]member, len(m))
	for j, e := range m {
		if isKind(e, '{') {
			ms[j] = tapes(nil).appendMembers(nil, e)
		}
	}
	return func(i, j int) int {
		n := 0
		for _, am := range ms[j] {
			if v, ok := bx[i].find(am.key); ok && bytes.Equal(am.val, v) {
				n++
			}
		}
		return n
	}
}
