package salon

import (
	"unicode"
	"unicode/utf8"
)

// FtsContains reports whether the trigram index would match word (3+
// characters) in text: the tokenizer folds case and a phrase of trigrams
// matches where the folded word is a substring of the folded text. Go
// folds ASCII here exactly as FTS5 does; FTS5 folds other letters with
// its own Unicode tables, so sure is false when text or word holds a
// letter with case outside ASCII (or is not UTF-8): then only a MATCH
// can tell. Japanese, digits and symbols have no case and stay sure.
func FtsContains(text, word string) (found, sure bool) {
	if !asciiFoldable(word) || !asciiFoldable(text) {
		return false, false
	}
	return indexFolded(text, word) >= 0, true
}

// asciiFoldable is false when s is not UTF-8 or holds a non-ASCII rune
// with a case mapping.
func asciiFoldable(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if unicode.SimpleFold(r) != r {
			return false
		}
		i += size
	}
	return true
}

// indexFolded is strings.Index with ASCII letters compared case-blind.
func indexFolded(s, sub string) int {
	n := len(sub)
	if n == 0 {
		return 0
	}
	first := lowerASCII(sub[0])
	for i := 0; i+n <= len(s); i++ {
		if lowerASCII(s[i]) != first {
			continue
		}
		j := 1
		for j < n && lowerASCII(s[i+j]) == lowerASCII(sub[j]) {
			j++
		}
		if j == n {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
