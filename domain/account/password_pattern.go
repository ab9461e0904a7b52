package account

import "strings"

// A password can pass every composition rule and still be guessed first:
// "Aaaaaaaaaaa1!", "Abcdefgh123!", "1qaz@WSX3edc" and "Zaq1@wsx#edc" were
// accepted (issue 10). isPredictable refuses a password made almost
// entirely of such patterns: runs of one character, one short unit
// repeated, alphabet or digit sequences (either direction) and walks
// over adjacent keys of a US QWERTY keyboard, shifted or not. Each
// pattern counts from 3 characters on; a password is predictable when at
// most maxUnpatterned of its characters lie outside every pattern found.

// maxUnpatterned is how many characters outside patterns still leave a
// password predictable ("Abcdefgh123!" has one: the "!").
const maxUnpatterned = 3

// minPatternLen is the shortest run, sequence or walk that counts.
const minPatternLen = 3

// maxRepeatUnit is the longest unit whose repetition counts ("Ab1!Ab1!").
const maxRepeatUnit = 6

// unshift maps a shifted US keyboard character to the key it is on, so
// that "@WSX" walks like "2wsx".
var unshift = strings.NewReplacer(
	"!", "1", "@", "2", "#", "3", "$", "4", "%", "5", "^", "6", "&", "7", "*", "8", "(", "9", ")", "0",
	"_", "-", "+", "=", "{", "[", "}", "]", "|", `\`, ":", ";", `"`, "'", "<", ",", ">", ".", "?", "/", "~", "`",
)

// keyRows are the rows of a US QWERTY keyboard, unshifted. Row r+1 is
// staggered half a key right of row r: its key i touches keys i and i+1
// of row r.
var keyRows = []string{"`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./"}

// keyPos is the row and column of every key.
var keyPos = func() map[byte][2]int {
	m := map[byte][2]int{}
	for r, row := range keyRows {
		for c := range len(row) {
			m[row[c]] = [2]int{r, c}
		}
	}
	// The number row starts with ` (one key left of 1): shift so that q
	// (row 1, column 0) sits below 1 and 2, as on the keyboard.
	for k, p := range m {
		if p[0] == 0 {
			m[k] = [2]int{0, p[1] - 1}
		}
	}
	return m
}()

// adjacentKeys reports whether a and b are neighbouring keys.
func adjacentKeys(a, b byte) bool {
	pa, oka := keyPos[a]
	pb, okb := keyPos[b]
	if !oka || !okb || a == b {
		return false
	}
	switch pb[0] - pa[0] {
	case 0:
		return pb[1]-pa[1] == 1 || pa[1]-pb[1] == 1
	case 1: // b on the row below a: b's column i touches a's i and i+1
		return pa[1] == pb[1] || pa[1] == pb[1]+1
	case -1:
		return pb[1] == pa[1] || pb[1] == pa[1]+1
	}
	return false
}

// isPredictable reports whether pw is (almost) nothing but patterns. Only
// ASCII is looked at; any other character counts as outside patterns.
func isPredictable(pw string) bool {
	s := []byte(unshift.Replace(strings.ToLower(pw)))
	n := len(s)
	covered := make([]bool, n)
	mark := func(i, j int) {
		if j-i >= minPatternLen {
			for k := i; k < j; k++ {
				covered[k] = true
			}
		}
	}
	for i := range n {
		// A run of one character.
		j := i + 1
		for j < n && s[j] == s[i] {
			j++
		}
		mark(i, j)
		// An alphabet or digit sequence, up or down.
		for _, d := range []int{1, -1} {
			j = i + 1
			for j < n && sameClass(s[j-1], s[j]) && int(s[j])-int(s[j-1]) == d {
				j++
			}
			mark(i, j)
		}
		// A keyboard walk.
		j = i + 1
		for j < n && adjacentKeys(s[j-1], s[j]) {
			j++
		}
		mark(i, j)
		// One short unit repeated.
		for l := 2; l <= maxRepeatUnit && i+2*l <= n; l++ {
			j = i + l
			for j < n && s[j] == s[j-l] {
				j++
			}
			if j-i >= 2*l {
				mark(i, j)
			}
		}
	}
	outside := 0
	for _, c := range covered {
		if !c {
			outside++
		}
	}
	return outside <= maxUnpatterned
}

// sameClass reports whether a and b are both ASCII letters or both digits.
func sameClass(a, b byte) bool {
	letter := func(c byte) bool { return c >= 'a' && c <= 'z' }
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	return letter(a) && letter(b) || digit(a) && digit(b)
}
