package rooms

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// searchRoomDriven answers a search of two or more words of 3+ characters.
// FTS5 finds the room's messages holding the rarest of them (salon.FtsDriver)
// newest first, and each is checked here for the others
// (salon.FtsContains, a MATCH on that one row when Go cannot tell), until
// the newest roomSearchCountCap+1 matches are found: the rows an AND of
// every word would give, in the same order, without decoding a common
// word's long posting lists over the whole room. The answer is then what
// searchRoomRanked or the newest-first page gives for those rows.
func searchRoomDriven(e *core.RequestEvent, room, where string, params dbx.Params, long, terms []string, sortBy string, page, perPage int) error {
	key := `{room_key}: "` + salon.RoomSearchKey(room) + `" AND {body}: `
	db := e.App.ConcurrentDB()
	d, err := salon.FtsDriver(db, "room_messages_fts", func(phrase string) string { return key + phrase }, long)
	if err != nil {
		return e.BadRequestError("Could not search for that text.", err)
	}
	driver, _ := salon.FtsTerm(long[d])
	others := append(append([]string{}, long[:d]...), long[d+1:]...)
	params["match"] = key + driver
	want := roomSearchCountCap + 1
	if sortBy == "newest" {
		want = max(want, page*perPage) // pages past the cap as the newest-first walk gives them
	}
	var rows []searchRow
	found, err := db.NewQuery("SELECT m.rowid, m.id, m.body FROM room_messages_fts JOIN room_messages m ON m.rowid = room_messages_fts.rowid" +
		" WHERE " + where + " AND room_messages_fts MATCH {:match} ORDER BY room_messages_fts.rowid DESC").Bind(params).Rows()
	if err != nil {
		return e.BadRequestError("Could not search for that text.", err)
	}
	defer found.Close()
	for len(rows) < want && found.Next() {
		var r searchRow
		if err := found.ScanStruct(&r); err != nil {
			return e.InternalServerError("", err)
		}
		ok, err := holdsAll(db, r.Rowid, r.Body, others)
		if err != nil {
			return e.BadRequestError("Could not search for that text.", err)
		}
		if ok {
			rows = append(rows, r)
		}
	}
	if err := found.Err(); err != nil {
		return e.BadRequestError("Could not search for that text.", err)
	}
	found.Close()

	total := len(rows)
	if sortBy == "newest" {
		var ids []string
		for _, r := range rows[min(len(rows), (page-1)*perPage):min(len(rows), page*perPage)] {
			ids = append(ids, r.ID)
		}
		return roomSearchAnswer(e, ids, total, page, perPage)
	}
	return answerRanked(e, rows, terms, page, perPage)
}

// holdsAll reports whether the message at rowid with body holds every one
// of words as the index matches them.
func holdsAll(db dbx.Builder, rowid int64, body string, words []string) (bool, error) {
	for _, w := range words {
		found, sure := salon.FtsContains(body, w)
		if !sure {
			phrase, _ := salon.FtsTerm(w)
			var n int
			err := db.NewQuery("SELECT count(*) FROM room_messages_fts WHERE room_messages_fts MATCH {:w} AND rowid = {:r}").
				Bind(dbx.Params{"w": "{body}: " + phrase, "r": rowid}).Row(&n)
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
