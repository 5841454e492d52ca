package rooms

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"salonbase/hooks/salon"
)

// CSV export of a room for admins: UTF-8 with a byte order mark and RFC
// 4180 quoting, so Excel opens Japanese text correctly; rows are streamed
// from one query, so a room of a million messages never sits in memory.
// Deleted messages are included (that is what moderation needs).

var exportHeader = []string{
	"time_utc", "message_id", "author_name", "author_kind", "rank_at_post", "ip",
	"message", "attachments", "reply_to", "edited", "deleted_at",
}

var unsafeFilename = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func roomExportRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.GET("/rooms/{id}/export.csv", exportRoom).Bind(apis.RequireAuth())
}

func exportRoom(e *core.RequestEvent) error {
	if !salon.IsAdmin(e.Auth) {
		return salon.Deny("admins_only", "Only admins can export rooms.")
	}
	room, err := e.App.FindRecordById("rooms", e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("Room not found.", nil)
	}
	messages, err := e.App.FindCachedCollectionByNameOrId("room_messages")
	if err != nil {
		return e.InternalServerError("", err)
	}

	rows, err := e.App.ConcurrentDB().NewQuery(`
		SELECT m.id, m.created, m.author_name, m.author, m.guest, COALESCE(u.role, ''), m.author_rank, m.ip,
		       m.body, m.attachments, m.reply_to, m.edited, m.deleted_at
		FROM room_messages m LEFT JOIN users u ON u.id = m.author
		WHERE m.room = {:room}
		ORDER BY m.created, m.rowid`).Bind(dbx.Params{"room": room.Id}).Rows()
	if err != nil {
		return e.InternalServerError("", fmt.Errorf("export room %s: %w", room.Id, err))
	}
	defer rows.Close()

	// a big export may take longer than the server's write timeout
	_ = http.NewResponseController(e.Response).SetWriteDeadline(time.Time{})

	name := unsafeFilename.ReplaceAllString(room.GetString("name"), "_")
	if strings.Trim(name, "_") == "" {
		name = room.Id
	}
	filename := fmt.Sprintf("room-%s-%s.csv", name, time.Now().UTC().Format("20060102"))
	h := e.Response.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`,
		filename, url.PathEscape(fmt.Sprintf("room-%s.csv", room.GetString("name")))))
	h.Set("Cache-Control", "no-store")
	e.Response.WriteHeader(http.StatusOK)

	if _, err := e.Response.Write([]byte("\xEF\xBB\xBF")); err != nil {
		return nil // the client went away
	}
	w := csv.NewWriter(e.Response)
	w.UseCRLF = true // RFC 4180
	_ = w.Write(exportHeader)

	fileBase := "/api/files/" + messages.Id + "/"
	var (
		id, created, authorName, author, guest, role, rank, ip, body, attachments, replyTo, deletedAt string
		edited                                                                                        sql.NullBool
	)
	for n := 1; rows.Next(); n++ {
		if err := rows.Scan(&id, &created, &authorName, &author, &guest, &role, &rank, &ip,
			&body, &attachments, &replyTo, &edited, &deletedAt); err != nil {
			e.App.Logger().Error("room export scan", "room", room.Id, "error", err)
			return nil // headers are sent: all we can do is stop
		}
		kind := role
		switch {
		case guest != "":
			kind = "guest"
		case author == "":
			kind = "operator"
		case kind == "":
			kind = "former member"
		}
		var files []string
		_ = json.Unmarshal([]byte(attachments), &files)
		for i, f := range files {
			files[i] = fileBase + id + "/" + f
		}
		err := w.Write([]string{
			exportTime(created), id, cell(authorName), kind, cell(rank), ip,
			cell(body), strings.Join(files, "\n"), replyTo, fmt.Sprint(edited.Bool), exportTime(deletedAt),
		})
		if err != nil {
			return nil
		}
		if n%1000 == 0 {
			w.Flush()
			if w.Error() != nil {
				return nil
			}
			_ = http.NewResponseController(e.Response).Flush()
		}
	}
	w.Flush()
	if err := rows.Err(); err != nil {
		e.App.Logger().Error("room export", "room", room.Id, "error", err)
	}
	return nil
}

// exportTime formats a stored datetime for spreadsheets (UTC, no "T").
func exportTime(s string) string {
	if len(s) >= 19 {
		return s[:19]
	}
	return s
}

// cell neutralises spreadsheet formulas: text a member wrote must never run
// as a formula when an admin opens the export.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
