package account

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
)

// commonPasswordsText is the list of common and breached passwords refused by
// the password policy: one per line, lower-cased, de-duplicated (49,233
// entries).
//
// Source: src/passwords.json of the npm package @zxcvbn-ts/language-common
// version 4.1.3 (https://github.com/zxcvbn-ts/zxcvbn), a frequency list built
// from breached-password corpora. Licence: MIT, Copyright (c) 2012-2016 Dan
// Wheeler and Dropbox, Inc., Copyright (c) 2021 @zxcvbn-ts.
//
//go:embed commonpasswords.txt
var commonPasswordsText string

// commonPasswords builds the lookup set once, on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	lines := strings.Split(commonPasswordsText, "\n")
	set := make(map[string]struct{}, len(lines))
	for _, line := range lines {
		if line = strings.TrimSpace(line); line != "" {
			set[strings.ToLower(line)] = struct{}{}
		}
	}
	return set
})

// IsCommonPassword reports whether pw, case-insensitively, is on the embedded
// list of common and breached passwords, or is such a password dressed up
// with leading or trailing digits and symbols ("Password123!" is
// "password"): the composition rules alone push people to exactly that.
func IsCommonPassword(pw string) bool {
	set := commonPasswords()
	lower := strings.ToLower(pw)
	if _, ok := set[lower]; ok {
		return true
	}
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if len(core) < 4 || core == lower {
		return false
	}
	_, ok := set[core]
	return ok
}

// CommonPasswordCount is the size of the embedded list, for tests and docs.
func CommonPasswordCount() int { return len(commonPasswords()) }
