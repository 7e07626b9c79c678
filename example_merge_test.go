package occ_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/occ-go/occ"
)

// A person edited the title of the document they loaded; meanwhile someone
// else changed its status. ThreeWay keeps both edits.
func ExampleThreeWay() {
	base := []byte(`{"title":"Draft","status":"open","tags":["a"]}`)
	mine := []byte(`{"title":"Final","status":"open","tags":["a"]}`)
	theirs := []byte(`{"title":"Draft","status":"closed","tags":["a"]}`)

	merged, err := occ.ThreeWay().Merge(context.Background(), base, mine, theirs)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(merged))
	// Output: {"title":"Final","status":"closed","tags":["a"]}
}

// Both sides changed the same field: the MergeConflictError says where, and
// what each side holds, so an application can ask a person.
func ExampleMergeConflictError() {
	base := []byte(`{"user":{"email":"ann@old.example","name":"Ann"}}`)
	mine := []byte(`{"user":{"email":"ann@new.example","name":"Ann"}}`)
	theirs := []byte(`{"user":{"email":"ann@work.example","name":"Anne"}}`)

	_, err := occ.ThreeWay().Merge(context.Background(), base, mine, theirs)
	var mce *occ.MergeConflictError
	if errors.As(err, &mce) {
		for _, c := range mce.Conflicts {
			fmt.Printf("%s: base %s, mine %s, theirs %s\n", c.Path, c.Base, c.Mine, c.Theirs)
		}
	}
	fmt.Println(errors.Is(err, occ.ErrConflict))
	// Output:
	// /user/email: base "ann@old.example", mine "ann@new.example", theirs "ann@work.example"
	// true
}

// Arrays are replaced whole unless merged by a key: here both sides edited
// different line items, and one added an item.
func ExampleMergeArraysByKey() {
	base := []byte(`{"lines":[{"sku":"A","qty":1},{"sku":"B","qty":1}]}`)
	mine := []byte(`{"lines":[{"sku":"A","qty":2},{"sku":"B","qty":1}]}`)
	theirs := []byte(`{"lines":[{"sku":"A","qty":1},{"sku":"B","qty":5},{"sku":"C","qty":1}]}`)

	m := occ.ThreeWay(occ.MergeArraysByKey("/lines", "sku"))
	merged, err := m.Merge(context.Background(), base, mine, theirs)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(merged))
	// Output: {"lines":[{"sku":"A","qty":2},{"sku":"B","qty":5},{"sku":"C","qty":1}]}
}

// A tie-break resolves conflicts instead of reporting them.
func ExamplePreferMineAt() {
	base := []byte(`{"theme":"light","name":"a"}`)
	mine := []byte(`{"theme":"dark","name":"b"}`)
	theirs := []byte(`{"theme":"blue","name":"c"}`)

	m := occ.ThreeWay(occ.PreferMineAt("/theme"), occ.PreferTheirs())
	merged, _ := m.Merge(context.Background(), base, mine, theirs)
	fmt.Println(string(merged))
	// Output: {"theme":"dark","name":"c"}
}
