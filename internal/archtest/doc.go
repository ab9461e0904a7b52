// Package archtest holds no code, only a test: the import rules each
// package's doc.go states ("It may import ...") are written once more as a
// table in archtest_test.go, and the test checks every package's imports
// (from `go list -json`) against its row, that no production package
// imports test support, that adapters are imported only by the wiring in
// cmd/, and that each doc.go names the packages its row allows. A new
// package, or a new import, fails the test until its doc.go and its row
// say it may.
//
// It may import the standard library only.
package archtest
