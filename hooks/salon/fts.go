package salon

import (
	"strings"
	"unicode/utf8"
)

// ftsMinRunes: the trigram tokenizer indexes runs of 3 characters, so a
// shorter word (common in Japanese: 東京) cannot go through MATCH.
const ftsMinRunes = 3

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// FtsTerm turns one word a member typed into a quoted FTS5 phrase, so the
// input cannot inject FTS syntax, or, for a word too short for the trigram
// index, into a LIKE pattern escaped for ESCAPE '\'. Exactly one is set.
func FtsTerm(word string) (phrase, like string) {
	if utf8.RuneCountInString(word) >= ftsMinRunes {
		return `"` + strings.ReplaceAll(word, `"`, `""`) + `"`, ""
	}
	return "", "%" + likeEscaper.Replace(word) + "%"
}
