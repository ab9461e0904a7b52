// Package download holds the download records of the portal: the
// VideoDownloaded event, the rule that only a verified account downloads
// (Record, asking the account through Downloader) and the streams the
// records live in.
//
// Downloads have streams of their own, one per account and calendar month
// (UTC): "downloads-<account id>-<yyyy-mm>" (StreamID). They are kept off
// the account stream because they grow without bound and no account rule
// depends on them: an account's commands read only the account stream, so
// their cost does not grow with the downloads made. Per account and month
// rather than one stream per download, because then an account's downloads
// are found from its id and the months since it registered (StreamIDs),
// with no index to keep, and each stream stays as small as one month of one
// account's downloads (what the audit chain reads before its first append
// to a stream in a process). Downloads recorded before 2026-12 stay on the
// account streams, where the account and audit code read them as before.
//
// The events carry the account id but no personal data (no address, no
// client IP: that is in the metadata the commands add), so erasing an
// account's key leaves them as they are.
//
// It may import the standard library and domain/internal/eventcodec.
package download
