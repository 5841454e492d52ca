package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Two-character words (common in Japanese: 会議, 東京) are below the size of
// the trigram indexes, so the searches matched them with LIKE over every row
// of a room or the salon. These indexes hold each text's two-character
// pieces (bigrams): one token per bigram, its UTF-8 bytes in hex after
// ASCII lower-casing (LIKE's own case folding), so the unicode61 tokenizer
// keeps it whole. The searches look a two-character word up here and keep
// the LIKE condition on the rows found, so the results are those of LIKE.
//
// Bigrams holding a space, tab, line break or ideographic space are left
// out: a searched word never holds one. The room message index also holds
// the token 'r' + hex(room id), so a room's matches come out of the index
// without the salon's. detail='none' (the searches need no positions) keeps
// the indexes small. The triggers give the old tokens to FTS5's 'delete'
// command, as for the trigram index, rather than contentless_delete=1, which
// SQLite before 3.43 (Debian's sqlite3 shell) cannot open.
// hooks/salon (SearchBigram, RoomBigramToken) makes the same tokens in Go.
func init() {
	m.Register(func(app core.App) error {
		return execAll(app,
			`CREATE VIRTUAL TABLE room_messages_grams USING fts5(grams, content='', detail='none')`,
			`CREATE TRIGGER room_messages_grams_ai AFTER INSERT ON room_messages BEGIN
				INSERT INTO room_messages_grams(rowid, grams) VALUES (new.rowid, `+roomGramsSQL("new")+`);
			END`,
			`CREATE TRIGGER room_messages_grams_ad AFTER DELETE ON room_messages BEGIN
				INSERT INTO room_messages_grams(room_messages_grams, rowid, grams) VALUES ('delete', old.rowid, `+roomGramsSQL("old")+`);
			END`,
			`CREATE TRIGGER room_messages_grams_au AFTER UPDATE OF body, room ON room_messages BEGIN
				INSERT INTO room_messages_grams(room_messages_grams, rowid, grams) VALUES ('delete', old.rowid, `+roomGramsSQL("old")+`);
				INSERT INTO room_messages_grams(rowid, grams) VALUES (new.rowid, `+roomGramsSQL("new")+`);
			END`,
			`INSERT INTO room_messages_grams(rowid, grams) SELECT rowid, `+roomGramsSQL("room_messages")+` FROM room_messages`,

			`CREATE VIRTUAL TABLE forum_search_grams USING fts5(grams, content='', detail='none')`,
			`CREATE TRIGGER forum_search_grams_ai AFTER INSERT ON forum_search_docs BEGIN
				INSERT INTO forum_search_grams(rowid, grams) VALUES (new.docid, `+forumGramsSQL("new")+`);
			END`,
			`CREATE TRIGGER forum_search_grams_ad AFTER DELETE ON forum_search_docs BEGIN
				INSERT INTO forum_search_grams(forum_search_grams, rowid, grams) VALUES ('delete', old.docid, `+forumGramsSQL("old")+`);
			END`,
			`CREATE TRIGGER forum_search_grams_au AFTER UPDATE OF title, body ON forum_search_docs BEGIN
				INSERT INTO forum_search_grams(forum_search_grams, rowid, grams) VALUES ('delete', old.docid, `+forumGramsSQL("old")+`);
				INSERT INTO forum_search_grams(rowid, grams) VALUES (new.docid, `+forumGramsSQL("new")+`);
			END`,
			`INSERT INTO forum_search_grams(rowid, grams) SELECT docid, `+forumGramsSQL("forum_search_docs")+` FROM forum_search_docs`,
		)
	}, func(app core.App) error {
		return execAll(app,
			`DROP TRIGGER IF EXISTS room_messages_grams_ai`,
			`DROP TRIGGER IF EXISTS room_messages_grams_ad`,
			`DROP TRIGGER IF EXISTS room_messages_grams_au`,
			`DROP TABLE IF EXISTS room_messages_grams`,
			`DROP TRIGGER IF EXISTS forum_search_grams_ai`,
			`DROP TRIGGER IF EXISTS forum_search_grams_ad`,
			`DROP TRIGGER IF EXISTS forum_search_grams_au`,
			`DROP TABLE IF EXISTS forum_search_grams`,
		)
	})
}

// roomGramsSQL is the indexed text of a room message (row: new or the
// table): the room's token, then the body's bigrams.
func roomGramsSQL(row string) string {
	return `'r' || hex(` + row + `.room) || ' ' || ` + bigramsSQL(row+".body")
}

// forumGramsSQL is the indexed text of a topic or post: the bigrams of its
// title and body (the space between them makes no bigram).
func forumGramsSQL(row string) string {
	return bigramsSQL(row + ".title || ' ' || " + row + ".body")
}

// bigramsSQL is the SQL of the bigram tokens of text, separated by spaces
// (the empty string for a text of fewer than two characters). json_each over an array of
// length(text)-1 zeros numbers the positions: a trigger may not hold a
// recursive CTE.
func bigramsSQL(text string) string {
	t := "(" + text + ")"
	gram := "substr(" + t + ", j.key + 1, 2)"
	return "coalesce((SELECT group_concat(hex(lower(" + gram + ")), ' ')" +
		" FROM json_each('[' || substr(replace(hex(zeroblob(length(" + t + ") - 1)), '00', ',0'), 2) || ']') j" +
		" WHERE trim(" + gram + ", ' ' || char(9, 10, 13, 12288)) = " + gram + "), '')"
}
