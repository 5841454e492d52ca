package rooms

import (
	"net/http"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/salon"
)

// Changes in a room since a moment: what a client that was offline (a
// phone asleep, a restarted server) needs besides the new messages. Edits
// come back as records; deletions as ids, since a deleted message is gone
// from the members' lists and a plain list query could not tell the client
// which of the messages it shows are gone.

const roomChangesMax = 200

func roomChangesRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.GET("/rooms/{id}/changes", roomChanges).Bind(apis.RequireAuth())
}

func roomChanges(e *core.RequestEvent) error {
	room, err := e.App.FindRecordById("rooms", e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("Room not found.", nil)
	}
	if err := CanReadRoom(e.App, e.Auth, room); err != nil {
		return salon.Answer(e, err)
	}
	since, err := types.ParseDateTime(e.Request.URL.Query().Get("since"))
	if err != nil || since.IsZero() {
		return e.BadRequestError("Give since=, the time of the newest change you have (e.g. a message's updated).", nil)
	}

	// updated ascending: a client that gets `more` asks again from the last
	// item's updated (inclusive, so equal times are not skipped)
	type change struct {
		ID        string         `db:"id"`
		Updated   types.DateTime `db:"updated"`
		DeletedAt types.DateTime `db:"deleted_at"`
	}
	var rows []change
	err = e.App.ConcurrentDB().Select("id", "updated", "deleted_at").From("room_messages").
		Where(dbx.NewExp("room = {:room} AND updated >= {:since}", dbx.Params{"room": room.Id, "since": since.String()})).
		OrderBy("updated ASC", "id ASC").Limit(roomChangesMax + 1).All(&rows)
	if err != nil {
		return e.InternalServerError("", err)
	}
	more := len(rows) > roomChangesMax
	if more {
		rows = rows[:roomChangesMax]
	}

	var editedIDs []string
	deleted := []string{}
	next := since
	for _, r := range rows {
		next = r.Updated
		if r.DeletedAt.IsZero() {
			editedIDs = append(editedIDs, r.ID)
		} else {
			deleted = append(deleted, r.ID)
		}
	}
	records, err := e.App.FindRecordsByIds("room_messages", editedIDs)
	if err != nil {
		return e.InternalServerError("", err)
	}
	// FindRecordsByIds does not keep the order
	byID := make(map[string]*core.Record, len(records))
	for _, r := range records {
		byID[r.Id] = r
	}
	items := make([]*core.Record, 0, len(editedIDs))
	for _, id := range editedIDs {
		if r := byID[id]; r != nil {
			items = append(items, r)
		}
	}
	if err := apis.EnrichRecords(e, items); err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, map[string]any{
		"items":   items,
		"deleted": deleted,
		"more":    more,
		"next":    next,
	})
}
