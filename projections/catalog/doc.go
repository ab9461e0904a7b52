// Package catalog lists every read model, so that `serve`, `project` and
// `multimedia projections` work on the same set. It may import the
// projections package and its read-model sub-packages
// (projections/accounts, projections/content).
package catalog
