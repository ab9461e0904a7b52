// Package streams is the one declared list of the stream families the
// service writes ("account-", "email-", "article-", "slug-", "video-",
// "downloads-"): the EventStoreDB adapter subscribes with a server-side
// filter on these prefixes, so that $all's other streams (the server's,
// its projections', other applications') never reach the projections. A
// new family of streams is added here, or its events are never projected
// on EventStoreDB; the test checks every domain StreamID function against
// the list.
//
// It may import the standard library and the domain packages that name
// the streams (domain/account, domain/article, domain/video,
// domain/download), nothing else.
package streams
