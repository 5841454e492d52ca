package salon_test

import (
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// TestFtsContainsAgreesWithTheIndex: wherever FtsContains says it is sure,
// it says what the trigram index's MATCH says (case folded, substring
// anywhere, Japanese, symbols, quotes), and for texts or words with
// non-ASCII cased letters (which FTS5 folds with its own tables) it says
// it is not sure, so the search asks the index.
func TestFtsContainsAgreesWithTheIndex(t *testing.T) {
	t.Parallel()
	db, err := core.DefaultDBConnect(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.NewQuery("CREATE VIRTUAL TABLE x USING fts5(body, tokenize='trigram')").Execute(); err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"Apple pie and APPLE juice", "明日の会議資料を確認", "say \"hello\" world", "kacolo 動チ東京シ ",
		"Straße und Äpfel", "ÄPFEL", "über alles", "x_y%z 100%", "tab\there", "ΑΒΓ δεζ", "Kelvin 5 \u212A", "5 k and 100%",
	}
	words := []string{
		"apple", "APP", "ple pie", "会議資", "資料を確認", "hello", `"hello"`, "kacolo", "東京シ",
		"äpfel", "Äpf", "STRASSE", "straße", "über", "ÜBER", "y%z", "00%", "αβγ", "ΔΕΖ", "kelvin", "5 k", "nothing",
	}
	surePairs := 0
	for i, text := range texts {
		if _, err := db.NewQuery("INSERT INTO x(rowid, body) VALUES ({:id}, {:body})").
			Bind(dbx.Params{"id": i + 1, "body": text}).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	for i, text := range texts {
		for _, w := range words {
			phrase, _ := salon.FtsTerm(w)
			var n int
			if err := db.NewQuery("SELECT count(*) FROM x WHERE x MATCH {:m} AND rowid = {:id}").
				Bind(dbx.Params{"m": phrase, "id": i + 1}).Row(&n); err != nil {
				t.Fatalf("MATCH %s: %v", phrase, err)
			}
			found, sure := salon.FtsContains(text, w)
			if !sure {
				continue
			}
			surePairs++
			if found != (n > 0) {
				t.Errorf("FtsContains(%q, %q) = %v, the index says %v", text, w, found, n > 0)
			}
		}
	}
	if surePairs < 100 {
		t.Errorf("only %d pairs were decided in Go: the check would always ask the index", surePairs)
	}
	for _, c := range []struct{ text, word string }{
		{"Straße und Äpfel", "apple"}, {"plain text", "äpfel"}, {"ΑΒΓ", "abc"}, {"Kelvin 5 \u212A", "5 k"}, {"bad \xff byte", "bad"},
	} {
		if _, sure := salon.FtsContains(c.text, c.word); sure {
			t.Errorf("FtsContains(%q, %q) was sure: FTS5 folds such letters with its own tables", c.text, c.word)
		}
	}
}
