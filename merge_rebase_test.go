package occ

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// skuOnly models order lines without their quantity.
type skuOnly struct {
	Lines []struct {
		SKU string `json:"sku"`
	} `json:"lines"`
}

func appendLineB(o *skuOnly) error {
	o.Lines = append(o.Lines, struct {
		SKU string `json:"sku"`
	}{SKU: "b"})
	return nil
}

func TestModifyKeepsUnmodelledMembersOfTheElementsOfAnArrayItChanges(t *testing.T) {
	api := newFakeAPI(`{"lines":[{"sku":"a","qty":2,"price":12345678901234567891}],"total":12345678901234567891}`)
	c := memClient(t, api)
	_, err := Modify(context.Background(), c, itemURL, appendLineB)
	require.NoError(t, err)
	assert.Equal(t, `{"lines":[{"sku":"a","qty":2,"price":12345678901234567891},{"sku":"b"}],"total":12345678901234567891}`, api.doc)
}

func TestModifyAlignsTheElementsItKeepsWhenItRemovesOne(t *testing.T) {
	api := newFakeAPI(`{"lines":[{"sku":"a","qty":1},{"sku":"b","qty":2},{"sku":"c","qty":3}]}`)
	c := memClient(t, api)
	_, err := Modify(context.Background(), c, itemURL, func(o *skuOnly) error {
		o.Lines = append(o.Lines[:1], o.Lines[2:]...) // drop b
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, `{"lines":[{"sku":"a","qty":1},{"sku":"c","qty":3}]}`, api.doc)
}

func TestPutKeepsUnmodelledMembersOfTheElementsOfAnArrayItChanges(t *testing.T) {
	api := newFakeAPI(`{"lines":[{"sku":"a","qty":2,"n":12345678901234567891}]}`)
	c := memClient(t, api)
	base, err := Get[skuOnly](context.Background(), c, itemURL)
	require.NoError(t, err)
	desired := base.Value
	require.NoError(t, appendLineB(&desired))
	_, err = Put(context.Background(), c, itemURL, base, desired)
	require.NoError(t, err)
	assert.Equal(t, `{"lines":[{"sku":"a","qty":2,"n":12345678901234567891},{"sku":"b"}]}`, api.doc)
}

// named models order lines by sku and name, without their quantity.
type named struct {
	Lines []struct {
		SKU  string `json:"sku"`
		Name string `json:"name"`
	} `json:"lines"`
}

func TestModifyAlignsTheElementsItKeepsWhenItRemovesOneAndEditsAnother(t *testing.T) {
	api := newFakeAPI(`{"lines":[{"sku":"a","name":"A","qty":1},{"sku":"b","name":"B","qty":2},{"sku":"c","name":"C","qty":3}]}`)
	c := memClient(t, api)
	_, err := Modify(context.Background(), c, itemURL, func(o *named) error {
		o.Lines = append(o.Lines[:1], o.Lines[2:]...) // drop b
		o.Lines[1].Name = "Cee"                       // and rename c
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, `{"lines":[{"sku":"a","name":"A","qty":1},{"sku":"c","name":"Cee","qty":3}]}`, api.doc)
}
