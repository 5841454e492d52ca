package hooks

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// Search within a room: SQLite FTS5 with the trigram tokenizer (see the
// migration 1795430006), ranked by bm25, newest first among equals. Words of
// fewer than three characters (common in Japanese: 東京, 会議) cannot use a
// trigram index, so they are matched with LIKE within the room instead.

const (
	searchDefaultPerPage = 20
	searchMaxPerPage     = 100
	searchMaxTerms       = 10
)

func bindRoomSearch(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.GET("/api/salon/rooms/{id}/search", searchRoom).Bind(apis.RequireAuth())
		return se.Next()
	})
}

// searchTerms splits q into terms; long ones become quoted FTS5 phrases,
// short ones LIKE patterns.
func searchTerms(q string) (match string, likes []string) {
	var phrases []string
	for i, term := range strings.Fields(q) {
		if i == searchMaxTerms {
			break
		}
		if utf8.RuneCountInString(term) >= 3 {
			phrases = append(phrases, `"`+strings.ReplaceAll(term, `"`, `""`)+`"`)
		} else {
			r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
			likes = append(likes, "%"+r.Replace(term)+"%")
		}
	}
	return strings.Join(phrases, " "), likes
}

func searchRoom(e *core.RequestEvent) error {
	room, err := e.App.FindRecordById("rooms", e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("Room not found.", nil)
	}
	if err := CanReadRoom(e.App, e.Auth, room); err != nil {
		return answerDenied(e, err)
	}
	q := strings.TrimSpace(e.Request.URL.Query().Get("q"))
	if q == "" {
		return e.BadRequestError("Give a search text: ?q=...", nil)
	}
	if utf8.RuneCountInString(q) > 200 {
		return e.BadRequestError("The search text can be at most 200 characters.", nil)
	}
	page, _ := strconv.Atoi(e.Request.URL.Query().Get("page"))
	if page < 1 {
		page = 1
	}
	perPage, _ := strconv.Atoi(e.Request.URL.Query().Get("perPage"))
	if perPage < 1 {
		perPage = searchDefaultPerPage
	}
	perPage = min(perPage, searchMaxPerPage)

	match, likes := searchTerms(q)
	where := dbx.And(dbx.HashExp{"m.room": room.Id}, dbx.NewExp("m.deleted_at = ''"))
	for i, like := range likes {
		p := "like" + strconv.Itoa(i)
		where = dbx.And(where, dbx.NewExp("m.body LIKE {:"+p+"} ESCAPE '\\'", dbx.Params{p: like}))
	}

	base := e.App.ConcurrentDB().Select().From("room_messages m")
	order := "m.created DESC"
	if match != "" {
		base = base.InnerJoin("room_messages_fts", dbx.NewExp("room_messages_fts.rowid = m.rowid"))
		where = dbx.And(where, dbx.NewExp("room_messages_fts MATCH {:match}", dbx.Params{"match": match}))
		order = "bm25(room_messages_fts), m.created DESC"
	}

	var total int
	if err := base.Select("count(*)").Where(where).Row(&total); err != nil {
		return e.BadRequestError("Could not search for that text.", err)
	}
	var ids []string
	err = base.Select("m.id").Where(where).OrderBy(order).
		Limit(int64(perPage)).Offset(int64((page - 1) * perPage)).Column(&ids)
	if err != nil {
		return e.BadRequestError("Could not search for that text.", err)
	}

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
		"page":       page,
		"perPage":    perPage,
		"totalItems": total,
		"totalPages": (total + perPage - 1) / perPage,
		"items":      items,
	})
}
