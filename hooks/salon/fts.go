package salon

import (
	"encoding/hex"
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

// BigramMatch is the FTS5 MATCH expression that finds the texts holding
// the two-character word in the bigram indexes of the migration 1795531001
// (room_messages_grams, forum_search_grams), "" for any other word. The
// index may hold more rows than LIKE matches (a bigram is indexed wherever
// it occurs): the caller keeps the word's LIKE condition.
func BigramMatch(word string) string {
	if utf8.RuneCountInString(word) != 2 {
		return ""
	}
	return `"` + bigramToken(word) + `"`
}

// bigramToken is the index's token of a two-character word: its UTF-8
// bytes in hex after lower-casing ASCII letters only, as SQLite's lower()
// (and LIKE) do.
func bigramToken(word string) string {
	b := []byte(word)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return strings.ToUpper(hex.EncodeToString(b))
}

// RoomBigramMatch is the MATCH expression of room's messages in
// room_messages_grams: the room's token ('r' + its id in hex).
func RoomBigramMatch(room string) string {
	return `"r` + strings.ToUpper(hex.EncodeToString([]byte(room))) + `"`
}

// RoomSearchKey is the 3-character key under which the room message index
// holds room id's messages (see the migration 1795519001): three
// private-use characters, U+E000 + a base-31 number of 5 of the id's
// characters mod 6400 each. Two rooms may share a key, so a search also
// filters on the room.
func RoomSearchKey(id string) string {
	runes := []rune(id)
	key := make([]rune, 3)
	for k := range key {
		v := 0
		for i := 5 * k; i < 5*k+5; i++ {
			c := 0
			if i < len(runes) {
				c = int(runes[i])
			}
			v = v*31 + c
		}
		key[k] = 0xE000 + rune(v%6400)
	}
	return string(key)
}
