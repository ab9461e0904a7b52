// Package field holds the input rules that the content domain packages
// (article, video) apply in the same way: a title, an optional free text
// with a length limit, and the canonical lowercase UUID form of an id.
//
// What lives here: the checks, which report a broken rule through the
// calling package's own error constructor (Errorf), so that each package
// keeps its exported *FieldError type and its ErrInvalid sentinel. What does
// not: the error types, the limits (each package names its own, such as
// MaxTitleRunes) and the rules only one package has (tags, bodies,
// durations, formats).
//
// It may import the standard library only, and is imported only by the
// domain packages under domain/.
package field
