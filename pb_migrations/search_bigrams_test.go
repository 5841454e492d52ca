package pb_migrations_test

import (
	"fmt"
	mrand "math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"salonbase/hooks/salon"
)

// TestSearchBigrams: rooms messages and forum texts written before the
// migration 1795531001 are in its bigram indexes after it, and later
// writes (edits, moves, deletions) keep them in step: for every
// two-character word of an alphabet with upper and lower case, Japanese,
// accented letters, LIKE's wildcards and spaces, the rows the index yields
// and LIKE keeps are exactly the rows LIKE alone finds (in a room, and over
// topics' titles and bodies). The revert drops the indexes.
func TestSearchBigrams(t *testing.T) {
	t.Parallel()
	app, err := tests.NewTestAppWithConfig(core.BaseAppConfig{DataDir: t.TempDir(), EncryptionEnv: "pb_test_env"})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	runner := core.NewMigrationsRunner(app, core.AppMigrations)
	revertTo := func(name string) {
		t.Helper()
		reverted, err := runner.Down(1)
		for err == nil && len(reverted) == 1 && reverted[0] != name {
			reverted, err = runner.Down(1)
		}
		if err != nil || len(reverted) != 1 {
			t.Fatalf("revert %s: %v %v", name, reverted, err)
		}
	}
	revertTo("1795531001_search_bigrams.go")

	exec := func(sql string, params dbx.Params) {
		t.Helper()
		if _, err := app.DB().NewQuery(sql).Bind(params).Execute(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	alphabet := []string{"a", "A", "b", "会", "議", "É", "é", "%", "_", " ", "\n", "　"}
	rng := mrand.New(mrand.NewSource(7))
	text := func() string {
		var sb strings.Builder
		for range rng.Intn(12) {
			sb.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		return sb.String()
	}
	rooms := []string{"a0b1c2d3e4f5g6h", "zzzzzzzzzzzzzzz"}
	message := func(i int, body string) {
		exec("INSERT INTO room_messages (id, room, author, author_name, body, created, updated)"+
			" VALUES ({:id}, {:room}, 'author000000001', 'A', {:body}, '2026-11-30 10:00:00.000Z', '2026-11-30 10:00:00.000Z')",
			dbx.Params{"id": fmt.Sprintf("message%08d", i), "room": rooms[i%2], "body": body})
	}
	topic := func(i int, title, body string) {
		exec("INSERT INTO forum_topics (id, category, author, title, body, tags, pinned, created, updated)"+
			" VALUES ({:id}, 'category0000001', 'author000000001', {:title}, {:body}, '[]', false, '2026-11-30 10:00:00.000Z', '2026-11-30 10:00:00.000Z')",
			dbx.Params{"id": fmt.Sprintf("topic%010d", i), "title": title, "body": body})
	}
	for i := range 200 {
		message(i, text())
		topic(i, text(), text())
	}

	if _, err := runner.Up(); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	ids := func(sql string, params dbx.Params) []string {
		t.Helper()
		var out []string
		if err := app.DB().NewQuery(sql).Bind(params).Column(&out); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		slices.Sort(out)
		return out
	}
	compare := func(stage string) {
		t.Helper()
		found := 0
		for _, x := range alphabet {
			for _, y := range alphabet {
				word := x + y
				if strings.TrimSpace(x) == "" || strings.TrimSpace(y) == "" {
					continue // a searched word never holds a space
				}
				_, like := salon.FtsTerm(word)
				for _, room := range rooms {
					p := dbx.Params{"room": room, "like": like, "grams": salon.RoomBigramMatch(room) + " " + salon.BigramMatch(word)}
					want := ids(`SELECT id FROM room_messages WHERE room = {:room} AND body LIKE {:like} ESCAPE '\'`, p)
					got := ids(`SELECT m.id FROM room_messages_grams g JOIN room_messages m ON m.rowid = g.rowid
						WHERE room_messages_grams MATCH {:grams} AND m.room = {:room} AND m.body LIKE {:like} ESCAPE '\'`, p)
					if !slices.Equal(got, want) {
						t.Errorf("%s: messages of %s holding %q: index %v, LIKE %v", stage, room, word, got, want)
					}
					found += len(want)
				}
				p := dbx.Params{"like": like, "grams": salon.BigramMatch(word)}
				want := ids(`SELECT ref FROM forum_search_docs WHERE title LIKE {:like} ESCAPE '\' OR body LIKE {:like} ESCAPE '\'`, p)
				got := ids(`SELECT d.ref FROM forum_search_grams g JOIN forum_search_docs d ON d.docid = g.rowid
					WHERE forum_search_grams MATCH {:grams} AND (d.title LIKE {:like} ESCAPE '\' OR d.body LIKE {:like} ESCAPE '\')`, p)
				if !slices.Equal(got, want) {
					t.Errorf("%s: forum texts holding %q: index %v, LIKE %v", stage, word, got, want)
				}
				found += len(want)
			}
		}
		if found < 1000 {
			t.Fatalf("%s: only %d matches in all: the texts do not exercise the index", stage, found)
		}
	}
	compare("upgraded")

	// later writes: new rows, edits, moves to the other room, deletions
	for i := 200; i < 300; i++ {
		message(i, text())
		topic(i, text(), text())
	}
	for i := 0; i < 300; i += 3 {
		exec("UPDATE room_messages SET body = {:body} WHERE id = {:id}", dbx.Params{"id": fmt.Sprintf("message%08d", i), "body": text()})
		exec("UPDATE forum_topics SET title = {:title} WHERE id = {:id}", dbx.Params{"id": fmt.Sprintf("topic%010d", i), "title": text()})
	}
	for i := 1; i < 300; i += 7 {
		exec("UPDATE room_messages SET room = {:room} WHERE id = {:id}", dbx.Params{"id": fmt.Sprintf("message%08d", i), "room": rooms[(i+1)%2]})
		exec("UPDATE forum_topics SET body = {:body} WHERE id = {:id}", dbx.Params{"id": fmt.Sprintf("topic%010d", i), "body": text()})
	}
	for i := 2; i < 300; i += 5 {
		exec("DELETE FROM room_messages WHERE id = {:id}", dbx.Params{"id": fmt.Sprintf("message%08d", i)})
		exec("DELETE FROM forum_topics WHERE id = {:id}", dbx.Params{"id": fmt.Sprintf("topic%010d", i)})
	}
	compare("after later writes")
	exec("INSERT INTO room_messages_grams(room_messages_grams) VALUES ('integrity-check')", nil)
	exec("INSERT INTO forum_search_grams(forum_search_grams) VALUES ('integrity-check')", nil)

	revertTo("1795531001_search_bigrams.go")
	var n int
	if err := app.DB().NewQuery("SELECT count(*) FROM sqlite_master WHERE name LIKE '%\\_grams%' ESCAPE '\\'").Row(&n); err != nil || n != 0 {
		t.Fatalf("after the revert: %d tables or triggers of the bigram indexes left (%v)", n, err)
	}
}
