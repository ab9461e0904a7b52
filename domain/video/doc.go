// Package video holds the video aggregate of the multimedia portal: what an
// editor publishes (title, description, duration and the downloadable
// formats with their sizes), later changes, withdrawal, and the rule that
// decides whether a format of a video can be downloaded.
//
// The package decides; it never does I/O. It may import the standard
// library and the shared domain helpers domain/internal/eventcodec (the
// event codec) and domain/internal/field (title, text and id checks) only,
// and time is passed in by the caller. Decision methods on
// *Video never mutate it: they return events that the caller appends to the
// stream "video-<id>" with the expected version Video.Version.
package video
