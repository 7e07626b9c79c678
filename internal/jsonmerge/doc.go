// Package jsonmerge is occ's JSON engine: a byte-level three-way merge of
// JSON documents (base, mine, theirs) that keeps every non-overlapping edit
// and reports true conflicts path by path, and the rendering of a change as
// an RFC 6902 JSON Patch or an RFC 7396 JSON Merge Patch.
//
// The merge validates and compacts its inputs in one scan, then walks the
// three documents together, copying unchanged bytes through: members the
// merge does not touch keep their exact text, numbers included. The public
// API (occ.ThreeWay, occ.Merger and their options) lives in package occ.
package jsonmerge
