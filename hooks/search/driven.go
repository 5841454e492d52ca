package search

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// longWords returns the terms of 3+ characters (those the trigram index
// matches).
func longWords(terms []string) []string {
	var out []string
	for _, t := range terms {
		if phrase, _ := salon.FtsTerm(t); phrase != "" {
			out = append(out, t)
		}
	}
	return out
}

// drivenCandidates returns the newest searchCandidates rows of sql (which
// selects a SearchHit's columns from table's matches of {:match}, newest
// first, with the other conditions bound in params) that hold every one
// of words. FTS5 finds the matches of the rarest word (salon.FtsDriver);
// each row is checked here for the others, in its title or body as a
// phrase matches either column (salon.FtsContains, or a MATCH on that row
// when Go cannot tell). The rows are those an AND of every word gives,
// without FTS5 decoding a common word's long posting lists over the whole
// range: the cost of the two-word searches.
func drivenCandidates(app core.App, table string, match func(phrase string) string, words []string, sql string, params dbx.Params) ([]SearchHit, error) {
	db := app.DB()
	d, err := salon.FtsDriver(db, table, match, words)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", table, err)
	}
	driver, _ := salon.FtsTerm(words[d])
	params["match"] = match(driver)
	others := append(append([]string{}, words[:d]...), words[d+1:]...)
	kind := ""
	if table == "room_messages_fts" {
		kind = "room_message"
	}
	hits, err := readCandidates(db.NewQuery(sql).Bind(params), kind, func(h *SearchHit) (bool, error) {
		return holdsAll(db, table, match, h, others)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", table, err)
	}
	return hits, nil
}

// holdsAll reports whether h's title or body holds each of words as
// table's index matches it.
func holdsAll(db dbx.Builder, table string, match func(phrase string) string, h *SearchHit, words []string) (bool, error) {
	for _, w := range words {
		found, sure := salon.FtsContains(h.Body, w)
		if !found && sure && h.Title != "" {
			found, sure = salon.FtsContains(h.Title, w)
		}
		if !sure {
			phrase, _ := salon.FtsTerm(w)
			var n int
			err := db.NewQuery("SELECT count(*) FROM " + table + " WHERE " + table + " MATCH {:w} AND rowid = {:r}").
				Bind(dbx.Params{"w": match(phrase), "r": h.DocID}).Row(&n)
			if err != nil {
				return false, err
			}
			found = n > 0
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}
