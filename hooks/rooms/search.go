package rooms

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"salonbase/hooks/salon"
)

// Search within a room: SQLite FTS5 with the trigram tokenizer over the body
// and a key of the room (see the migrations 1795430006 and 1795519001), ranked by a
// BM25-style score (sort=relevance, the default) or newest first
// (sort=newest). Words of
// fewer than three characters (common in Japanese: 東京, 会議) cannot use a
// trigram index, so they are matched with LIKE within the room instead; a
// query of two-character words only finds its rows through the bigram
// index of the migration 1795531001, newest first.

const (
	roomSearchDefaultPerPage = 20
	roomSearchMaxPerPage     = 100
	roomSearchMaxTerms       = 10
	roomSearchCountCap       = 1000 // totalItems stops counting here (totalCapped)
)

func roomSearchRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.GET("/rooms/{id}/search", searchRoom).Bind(apis.RequireAuth())
}

// roomSearchTerms splits q into terms; long ones become quoted FTS5 phrases,
// short ones LIKE patterns, and the two-character ones also MATCH
// expressions of the bigram index.
func roomSearchTerms(q string) (match string, likes, grams, long []string) {
	var phrases []string
	for _, term := range roomSearchWords(q) {
		if phrase, like := salon.FtsTerm(term); phrase != "" {
			phrases = append(phrases, phrase)
			long = append(long, term)
		} else {
			likes = append(likes, like)
			if g := salon.BigramMatch(term); g != "" {
				grams = append(grams, g)
			}
		}
	}
	return strings.Join(phrases, " "), likes, grams, long
}

// roomSearchWords returns the words of q that the search uses.
func roomSearchWords(q string) []string {
	words := strings.Fields(q)
	return words[:min(len(words), roomSearchMaxTerms)]
}

func searchRoom(e *core.RequestEvent) error {
	room, err := e.App.FindRecordById("rooms", e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("Room not found.", nil)
	}
	if err := CanReadRoom(e.App, e.Auth, room); err != nil {
		return salon.Answer(e, err)
	}
	q := strings.TrimSpace(e.Request.URL.Query().Get("q"))
	if q == "" {
		return e.BadRequestError("Give a search text: ?q=...", nil)
	}
	if utf8.RuneCountInString(q) > 200 {
		return e.BadRequestError("The search text can be at most 200 characters.", nil)
	}
	if err := salon.CheckText("q", q); err != nil {
		return err
	}
	// perPage above the maximum is trimmed to it, as it always was
	query := e.Request.URL.Query()
	if n, convErr := strconv.Atoi(query.Get("perPage")); convErr == nil && n > roomSearchMaxPerPage {
		query.Set("perPage", strconv.Itoa(roomSearchMaxPerPage))
	}
	page, perPage, err := salon.PageParams(query, roomSearchDefaultPerPage, roomSearchMaxPerPage)
	if err != nil {
		return err
	}

	sortBy := e.Request.URL.Query().Get("sort")
	if sortBy == "" {
		sortBy = "relevance"
	}
	if sortBy != "relevance" && sortBy != "newest" {
		return e.BadRequestError("sort must be relevance or newest.", nil)
	}

	match, likes, grams, long := roomSearchTerms(q)
	params := dbx.Params{"room": room.Id}
	from := "room_messages m"
	where := "m.room = {:room} AND m.deleted_at = ''"
	order := "m.created DESC"
	for i, like := range likes {
		p := "like" + strconv.Itoa(i)
		where += " AND m.body LIKE {:" + p + "} ESCAPE '\\'"
		params[p] = like
	}
	if len(long) > 1 {
		return searchRoomDriven(e, room.Id, where, params, long, roomSearchWords(q), sortBy, page, perPage)
	}
	if match != "" {
		// the room's key is a column of the index: FTS5 yields this room's
		// matches only (and those of a room sharing its key, which the
		// room condition drops), so the work follows the room, not the salon
		match = `{room_key}: "` + salon.RoomSearchKey(room.Id) + `" AND {body}: (` + match + ")"
		from = "room_messages_fts JOIN room_messages m ON m.rowid = room_messages_fts.rowid"
		where += " AND room_messages_fts MATCH {:match}"
		params["match"] = match
		// FTS5 walks its index in rowid order: no sort, stops at the page
		order = "room_messages_fts.rowid DESC"
		if sortBy == "relevance" {
			return searchRoomRanked(e, from, where, params, roomSearchWords(q), page, perPage)
		}
	} else if len(grams) > 0 {
		// two-character words only: the bigram index yields the room's
		// messages holding them (the LIKE conditions check each), newest
		// first as before, without reading the room's other messages
		from = "room_messages_grams JOIN room_messages m ON m.rowid = room_messages_grams.rowid"
		where += " AND room_messages_grams MATCH {:grams}"
		params["grams"] = salon.RoomBigramMatch(room.Id) + " " + strings.Join(grams, " ")
		order = "room_messages_grams.rowid DESC"
	}

	// counting every match of a very common word would cost as much as the
	// search itself: count up to a cap and say so
	var total int
	err = e.App.ConcurrentDB().NewQuery("SELECT count(*) FROM (SELECT 1 FROM " + from + " WHERE " + where +
		" LIMIT " + strconv.Itoa(roomSearchCountCap+1) + ")").Bind(params).Row(&total)
	if err != nil {
		return e.BadRequestError("Could not search for that text.", err)
	}
	var ids []string
	err = e.App.ConcurrentDB().NewQuery("SELECT m.id FROM " + from + " WHERE " + where + " ORDER BY " + order +
		" LIMIT " + strconv.Itoa(perPage) + " OFFSET " + strconv.Itoa((page-1)*perPage)).Bind(params).Column(&ids)
	if err != nil {
		return e.BadRequestError("Could not search for that text.", err)
	}
	return roomSearchAnswer(e, ids, total, page, perPage)
}

// searchRoomRanked answers sort=relevance: the newest matches up to the
// count cap (the same walk that counts them) are scored in Go and ordered
// best first, newest first among equals. FTS5's bm25() would first count
// every term over the whole index, ~0.9 s for a common word in a salon of
// 1M messages; this costs in proportion to the page of matches it reads.
// Above the cap, the ranking is over the newest roomSearchCountCap matches.
func searchRoomRanked(e *core.RequestEvent, from, where string, params dbx.Params, terms []string, page, perPage int) error {
	var rows []searchRow
	err := e.App.ConcurrentDB().NewQuery("SELECT m.id, m.body FROM " + from + " WHERE " + where +
		" ORDER BY room_messages_fts.rowid DESC LIMIT " + strconv.Itoa(roomSearchCountCap+1)).Bind(params).All(&rows)
	if err != nil {
		return e.BadRequestError("Could not search for that text.", err)
	}
	return answerRanked(e, rows, terms, page, perPage)
}

// searchRow is a matching message, newest first.
type searchRow struct {
	Rowid int64  `db:"rowid"`
	ID    string `db:"id"`
	Body  string `db:"body"`
}

// answerRanked scores rows (the newest matches; past the count cap only
// the total counts them) and answers the page of them, best first, newest
// first among equals.
func answerRanked(e *core.RequestEvent, rows []searchRow, terms []string, page, perPage int) error {
	total := len(rows)
	rows = rows[:min(total, roomSearchCountCap)]
	docs := make([]salon.RankDoc, len(rows))
	for i, r := range rows {
		docs[i].Body = r.Body
	}
	scores := salon.RankScores(docs, terms)
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	var ids []string
	for _, i := range order[min(len(order), (page-1)*perPage):min(len(order), page*perPage)] {
		ids = append(ids, rows[i].ID)
	}
	return roomSearchAnswer(e, ids, total, page, perPage)
}

// roomSearchAnswer loads the messages of ids, in that order, as the list
// answer.
func roomSearchAnswer(e *core.RequestEvent, ids []string, total, page, perPage int) error {
	records, err := e.App.FindRecordsByIds("room_messages", ids)
	if err != nil {
		return e.InternalServerError("", err)
	}
	// keep the rank order
	byID := make(map[string]*core.Record, len(records))
	for _, r := range records {
		byID[r.Id] = r
	}
	items := make([]*core.Record, 0, len(ids))
	for _, id := range ids {
		if r := byID[id]; r != nil {
			items = append(items, r)
		}
	}
	if err := apis.EnrichRecords(e, items); err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, map[string]any{
		"page":        page,
		"perPage":     perPage,
		"totalItems":  min(total, roomSearchCountCap),
		"totalCapped": total > roomSearchCountCap,
		"totalPages":  (min(total, roomSearchCountCap) + perPage - 1) / perPage,
		"items":       items,
	})
}
