// Package eventstoretest is the contract every event store adapter must pass:
// one call, Run, runs the whole suite against a fresh store per test.
//
// Test support only: it may import the eventstore port and the standard
// library.
package eventstoretest
