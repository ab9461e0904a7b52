// Package eventcodec is the event codec shared by the domain packages
// (account, article, video): an explicit registry from stable type names to
// event types, and the Encode/Decode pair built on it.
//
// What lives here: the registry (New, Type), JSON encoding and decoding of
// registered events, the pointer-to-value rule (Value), and the sorted list
// of names (Names). What does not: the events themselves, their type names
// and their sentinel errors. Each domain package writes its names out and
// passes its own errors in (Errors), so that callers keep checking
// errors.Is(err, <package>.ErrUnknownEventType) and never see this package.
//
// Type names are never derived from Go names or by reflection; New only
// checks that each name matches what the type's EventType method returns.
//
// It may import the standard library only, and is imported only by the
// domain packages under domain/.
package eventcodec
