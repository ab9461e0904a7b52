// Command readmecheck runs README's shell blocks, in order, in one bash
// session, and checks each command's exit status and, where README shows
// a reply, its shape: a JSON reply must have the top-level fields README
// shows (and no others), an error reply must carry the code README shows,
// an HTTP status line must match. Values (ids, times, counts) are not
// compared: they differ on every run.
//
// scripts/readme-check.sh gives it a fresh server, database and Mailpit
// and the -subst rewrites from README's ports to theirs; see that script.
//
// It may import only the standard library.
package main
