package salon

import (
	"fmt"

	"github.com/pocketbase/dbx"
)

// ftsDriverSample is how many of a word's newest matches FtsDriver reads
// to judge how common the word is.
const ftsDriverSample = 64

// FtsDriver returns the index in words (3+ characters each) of the word
// whose matches are sparsest among the newest rows of the FTS5 table: the
// one to let FTS5 find (the others are then checked on its rows, see
// FtsContains). An AND of trigram phrases makes FTS5 decode every word's
// posting lists over the whole range it walks, and a common word's lists
// are long; the rarest word alone yields few rows to check. match turns
// one quoted phrase into the MATCH expression (with a column filter or a
// room key). Each word costs a walk of its newest ftsDriverSample matches.
func FtsDriver(db dbx.Builder, table string, match func(phrase string) string, words []string) (int, error) {
	best, bestCount, bestLow := 0, ftsDriverSample+1, int64(0)
	for i, w := range words {
		phrase, _ := FtsTerm(w)
		var rowids []int64
		err := db.NewQuery("SELECT rowid FROM " + table + " WHERE " + table + " MATCH {:m} ORDER BY rowid DESC LIMIT " +
			fmt.Sprint(ftsDriverSample)).Bind(dbx.Params{"m": match(phrase)}).Column(&rowids)
		if err != nil {
			return 0, fmt.Errorf("how common is %q: %w", w, err)
		}
		// fewer matches wins; among full samples, the one reaching
		// further back (its matches thinner) does
		low := int64(0)
		if len(rowids) > 0 {
			low = rowids[len(rowids)-1]
		}
		if len(rowids) < bestCount || (len(rowids) == bestCount && low < bestLow) {
			best, bestCount, bestLow = i, len(rowids), low
		}
	}
	return best, nil
}
