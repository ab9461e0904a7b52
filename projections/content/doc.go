// Package content holds the read side of publishing and downloads: three
// projections and the queries that read them.
//
//   - "articles" (rm_articles): published articles, newest first, by slug
//     and tag; withdrawn ones are kept but never shown.
//   - "videos" (rm_videos, rm_video_downloads): the catalogue and the
//     download count of each video and format.
//   - "download_stats" (rm_download_counts, rm_download_seen): downloads
//     and distinct accounts per day, ISO week and month, per video and
//     format and for all of them, kept incrementally so that every query of
//     GET /api/stats/downloads reads one row per bucket.
//
// Distinct accounts over a week or a month are counted across the whole
// bucket (an account downloading on three days of a week counts once for
// the week), which is why weeks and months have their own rows rather than
// sums of days. rm_download_seen remembers, per account and bucket, which
// (video, format) pairs the account already downloaded, so applying a
// download needs no scan of the log or of other downloads.
//
// Events are decoded with small local structs that follow the event
// contract (VideoPublished.v1, ..., VideoDownloaded.v1), so this package
// does not wait for the domain packages to change.
//
// It may import apperr (not found, invalid cursor), the event store port
// (eventstore), the projections runtime
// package (projections, for Projection and its errors), platform/pgerr (a
// database that cannot serve now), uuid and pgx.
package content
