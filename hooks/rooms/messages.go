package rooms

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
)

// Room messages: who may post, edit and delete (a clear 403 with the
// reason, decided in policy.go), the fields only the server sets (author,
// author_name, hidden ip and author_rank, mentions, edited, deleted_at), and
// the notifications a message sends.

// roomMessageImmutable are the fields an edit cannot change (edited and
// edited_at are the server's: an author cannot hide that they edited).
var roomMessageImmutable = []string{"room", "author", "guest", "author_name", "reply_to", "deleted_at", "edited", "edited_at", "client_id"}

func bindRoomMessages(app core.App) {
	app.OnRecordCreateRequest("room_messages").BindFunc(createRoomMessage)
	app.OnRecordUpdateRequest("room_messages").BindFunc(editRoomMessage)
	app.OnRecordDeleteRequest("room_messages").BindFunc(deleteRoomMessage)
	salon.HandleJob(app, roomNoticesJob, sendRoomNotices)
}

func createRoomMessage(e *core.RecordRequestEvent) error {
	msg := e.Record
	// a retry of a message already saved answers the first one
	if replay, err := salon.ReplayCreate(e, roomMessageOwner(e.Auth), "room"); replay || err != nil {
		return err
	}
	room, err := e.App.FindRecordById("rooms", msg.GetString("room"))
	if err != nil {
		return e.BadRequestError("Choose an existing room.", nil)
	}
	if err := CanPostRoom(e.App, e.Auth, room); err != nil {
		return salon.Answer(e.RequestEvent, err)
	}

	msg.Set("body", strings.TrimSpace(msg.GetString("body")))
	if msg.GetString("body") == "" && len(msg.GetStringSlice("attachments")) == 0 && len(msg.GetUnsavedFiles("attachments")) == 0 {
		return e.BadRequestError("Write a message or attach a file.", nil)
	}
	if id := msg.GetString("reply_to"); id != "" {
		parent, err := e.App.FindRecordById("room_messages", id)
		if err != nil || parent.GetString("room") != room.Id {
			return e.BadRequestError("You can only reply to a message in the same room.", nil)
		}
	}

	// the server, not the client, says who wrote it
	msg.Set("author", "")
	msg.Set("guest", "")
	msg.Set("author_rank", "")
	switch {
	case e.Auth.IsSuperuser():
		msg.Set("author_name", "Operator")
		msg.Set("author_rank", "superuser")
	case e.Auth.Collection().Name == "guests":
		msg.Set("guest", e.Auth.Id)
		msg.Set("author_name", e.Auth.GetString("name"))
	default:
		msg.Set("author", e.Auth.Id)
		msg.Set("author_name", e.Auth.GetString("name"))
		if id := e.Auth.GetString("rank"); id != "" {
			if rank, err := salon.Rank(e.App, id); err == nil {
				msg.Set("author_rank", rank.Name)
			}
		}
	}
	// IPs are kept only where the retention setting allows it at all
	if settings, err := salon.Settings(e.App); err != nil {
		return e.InternalServerError("", err)
	} else if settings.GetInt("room_ip_retention_days") > 0 {
		msg.Set("ip", e.RealIP())
	} else {
		msg.Set("ip", "")
	}
	msg.Set("edited", false)
	msg.Set("edited_at", "")
	msg.Set("deleted_at", "")
	msg.Set("deleted_by", "")

	mentions, err := resolveMentions(e.App, room, msg.GetString("body"), msg.GetStringSlice("mentions"), e.Auth.Id)
	if err != nil {
		return e.InternalServerError("", err)
	}
	msg.Set("mentions", mentions)

	// the notices are a job committed with the message: a crash right
	// after the answer cannot lose them
	if len(mentions) > 0 || room.GetBool("notify_members") {
		done := salon.WithInsert(e.App, msg, func(tx core.App) error {
			return queueRoomNotices(tx, room, msg, mentions)
		})
		defer done()
	}
	err = e.Next()
	if err != nil && msg.GetString("client_id") != "" {
		// a concurrent retry with the same client_id won the race
		if replay, rerr := salon.ReplayCreate(e, roomMessageOwner(e.Auth), "room"); replay || rerr != nil {
			return rerr
		}
	}
	return err
}

// roomMessageOwner is who a new message of auth belongs to, as the
// client_id index sees it: a member, a guest, or (both empty) an operator.
func roomMessageOwner(auth *core.Record) dbx.HashExp {
	switch {
	case auth == nil || auth.IsSuperuser():
		return dbx.HashExp{"author": "", "guest": ""}
	case auth.Collection().Name == "guests":
		return dbx.HashExp{"author": "", "guest": auth.Id}
	default:
		return dbx.HashExp{"author": auth.Id, "guest": ""}
	}
}

func editRoomMessage(e *core.RecordRequestEvent) error {
	msg := e.Record
	original := msg.Original()
	room, err := e.App.FindRecordById("rooms", original.GetString("room"))
	if err != nil {
		return e.NotFoundError("", nil)
	}
	if err := CanPostRoom(e.App, e.Auth, room); err != nil {
		return salon.Answer(e.RequestEvent, err)
	}
	for _, f := range roomMessageImmutable {
		if msg.GetString(f) != original.GetString(f) {
			return e.BadRequestError(fmt.Sprintf("The %s of a message cannot be changed: only its text and attachments.", f), nil)
		}
	}
	msg.Set("body", strings.TrimSpace(msg.GetString("body")))
	if msg.GetString("body") == "" && len(msg.GetStringSlice("attachments")) == 0 && len(msg.GetUnsavedFiles("attachments")) == 0 {
		return e.BadRequestError("A message cannot be empty: delete it instead.", nil)
	}

	mentions, err := resolveMentions(e.App, room, msg.GetString("body"), msg.GetStringSlice("mentions"), e.Auth.Id)
	if err != nil {
		return e.InternalServerError("", err)
	}
	msg.Set("mentions", mentions)
	if msg.GetString("body") != original.GetString("body") ||
		!slices.Equal(msg.GetStringSlice("attachments"), original.GetStringSlice("attachments")) ||
		len(msg.GetUnsavedFiles("attachments")) > 0 {
		msg.Set("edited", true)
		msg.Set("edited_at", types.NowDateTime())
	}

	var added []string
	for _, id := range mentions {
		if !slices.Contains(original.GetStringSlice("mentions"), id) {
			added = append(added, id)
		}
	}
	return salon.ChainInTx(&e.App, func(tx core.App) error {
		if err := e.Next(); err != nil {
			return err
		}
		return queueRoomNotices(tx, room, msg, added)
	})
}

// deleteRoomMessage soft-deletes: the message disappears for members but
// stays for moderation and the CSV export. A superuser deleting an already
// deleted message removes it for good (e.g. a legal request).
func deleteRoomMessage(e *core.RecordRequestEvent) error {
	msg := e.Record
	if !msg.GetDateTime("deleted_at").IsZero() {
		if e.HasSuperuserAuth() {
			return e.Next()
		}
		return e.NotFoundError("", nil)
	}
	room, err := e.App.FindRecordById("rooms", msg.GetString("room"))
	if err != nil {
		return e.NotFoundError("", nil)
	}
	auth := e.Auth
	own := auth != nil && ((auth.Collection().Name == "users" && msg.GetString("author") == auth.Id) ||
		(auth.Collection().Name == "guests" && msg.GetString("guest") == auth.Id))
	switch {
	case e.HasSuperuserAuth() || CanModerateRoom(auth, room):
	case !own:
		return salon.Deny("not_yours", "You can only delete your own messages.")
	case !room.GetBool("members_can_delete_own"):
		return salon.Deny("room_no_self_delete", "This room does not let members delete their messages: ask a moderator.")
	}

	msg.Set("deleted_at", types.NowDateTime())
	if auth != nil && auth.Collection().Name == "users" {
		msg.Set("deleted_by", auth.Id)
	}
	if err := e.App.Save(msg); err != nil {
		return e.BadRequestError("Could not delete the message.", err)
	}
	return e.NoContent(http.StatusNoContent)
}

// resolveMentions returns the members a message mentions: the ids the
// client sent plus every member whose name follows an "@" in the body
// (names may contain spaces or be Japanese), keeping only those who can read
// the room, never the author.
func resolveMentions(app core.App, room *core.Record, body string, given []string, authorID string) ([]string, error) {
	var candidates []string
	if strings.Contains(body, "@") {
		err := app.DB().Select("id").From("users").
			Where(dbx.NewExp("name != '' AND suspended = FALSE AND instr(lower({:body}), '@' || lower(name)) > 0", dbx.Params{"body": body})).
			Limit(100).Column(&candidates)
		if err != nil {
			return nil, fmt.Errorf("resolve mentions: %w", err)
		}
	}
	for _, id := range given {
		if !slices.Contains(candidates, id) {
			candidates = append(candidates, id)
		}
	}
	candidates = slices.DeleteFunc(candidates, func(id string) bool { return id == authorID || id == "" })
	if len(candidates) == 0 {
		return []string{}, nil
	}
	readers, err := RoomReaders(app, room, candidates)
	if err != nil {
		return nil, err
	}
	if len(readers) > 50 {
		readers = readers[:50]
	}
	return readers, nil
}

// roomNoticesJob is the job a new or edited message leaves: its notices.
const roomNoticesJob = "rooms.message_notices"

type roomNotices struct {
	Message   string   `json:"message"`
	Mentioned []string `json:"mentioned"`
}

// queueRoomNotices queues, in the message's transaction, the notices it
// sends (see sendRoomNotices), when it sends any.
func queueRoomNotices(tx core.App, room, msg *core.Record, mentioned []string) error {
	if len(mentioned) == 0 && !room.GetBool("notify_members") {
		return nil
	}
	return salon.Enqueue(tx, roomNoticesJob, roomNotices{Message: msg.Id, Mentioned: mentioned})
}

// sendRoomNotices is the job: a "mention" notification to each mentioned
// member (unless they muted the room), and, when the room notifies its
// members, a "room_post" notification to every member who chose "all"
// (written in chunks by notify.Later).
func sendRoomNotices(tx core.App, payload json.RawMessage) error {
	var job roomNotices
	if err := json.Unmarshal(payload, &job); err != nil {
		return fmt.Errorf("room notices job: %w", err)
	}
	msg, err := tx.FindRecordById("room_messages", job.Message)
	if err != nil {
		return nil // deleted for good since: nothing to tell
	}
	room, err := tx.FindRecordById("rooms", msg.GetString("room"))
	if err != nil {
		return nil
	}
	author := msg.GetString("author")
	name := msg.GetString("author_name")
	body := msg.GetString("body")
	if body == "" {
		body = "(attachment)"
	}
	url := "/rooms/" + room.Id + "?message=" + msg.Id
	var muted []string
	err = tx.DB().Select("user").From("room_members").
		Where(dbx.HashExp{"room": room.Id, "notify": "none"}).Column(&muted)
	if err != nil {
		return fmt.Errorf("room notices: %w", err)
	}
	mentions := slices.DeleteFunc(slices.Clone(job.Mentioned), func(id string) bool { return slices.Contains(muted, id) })
	if err := notify.Notify(tx, mentions, notify.Notification{
		Kind: "mention", Title: fmt.Sprintf("%s mentioned you in %s", name, room.GetString("name")),
		Body: body, URL: url, SourceCollection: "room_messages", SourceID: msg.Id,
		Vars: map[string]string{"AUTHOR": name, "ROOM": room.GetString("name")},
	}); err != nil {
		return fmt.Errorf("room mention notices: %w", err)
	}
	if !room.GetBool("notify_members") {
		return nil
	}
	var all []string
	err = tx.DB().Select("user").From("room_members").
		Where(dbx.HashExp{"room": room.Id, "notify": "all"}).Column(&all)
	if err != nil {
		return fmt.Errorf("room notices: %w", err)
	}
	all = slices.DeleteFunc(all, func(id string) bool { return id == author || slices.Contains(job.Mentioned, id) })
	if all, err = RoomReaders(tx, room, all); err != nil {
		return fmt.Errorf("room notices: %w", err)
	}
	return notify.Later(tx, all, notify.Notification{
		Kind: "room_post", Title: fmt.Sprintf("%s in %s", name, room.GetString("name")),
		Body: body, URL: url, SourceCollection: "room_messages", SourceID: msg.Id,
		Vars: map[string]string{"AUTHOR": name, "ROOM": room.GetString("name")},
	})
}
