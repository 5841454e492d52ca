package live

import (
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cast"

	"salonbase/hooks/salon"
)

// bindChat: the server sets a chat line's author, like every other author
// field (the create rule lets a client leave it out).
func bindChat(app core.App) {
	app.OnRecordCreateRequest("live_chat_messages").BindFunc(func(e *core.RecordRequestEvent) error {
		if !e.HasSuperuserAuth() && e.Auth != nil {
			e.Record.Set("author", e.Auth.Id)
		}
		return e.Next()
	})
}

// GuardChatWrites gives a refused chat line its reason (router-wide
// middleware: PocketBase checks a create rule before the create hooks run,
// and answers its refusal with a bare "Failed to create record."). The
// rules still decide the same.
func GuardChatWrites(e *core.RequestEvent) error {
	if e.Request.Method != http.MethodPost || !strings.HasPrefix(e.Request.URL.Path, "/api/collections/") || e.HasSuperuserAuth() {
		return e.Next()
	}
	name := e.Request.PathValue("collection")
	if name == "" || e.Request.PathValue("id") != "" {
		return e.Next()
	}
	collection, err := e.App.FindCachedCollectionByNameOrId(name)
	if err != nil || collection.Name != "live_chat_messages" {
		return e.Next()
	}
	if !salon.IsMember(e.Auth) {
		return salon.Deny("not_member", "Only members write in a stream's chat.")
	}
	info, err := e.RequestInfo()
	if err != nil {
		return e.Next() // the records handler reports the malformed body
	}
	if a := cast.ToString(info.Body["author"]); a != "" && a != e.Auth.Id {
		return salon.Deny("not_yours", "You can only write chat lines as yourself.")
	}
	stream, err := e.App.FindRecordById("live_streams", cast.ToString(info.Body["stream"]))
	if err != nil {
		return e.Next() // the rules and validation answer
	}
	if err := CanWatch(e.App, e.Auth, stream); err != nil {
		if _, ok := salon.AsRefusal(err); ok {
			return e.NotFoundError("No such live stream.", nil) // as the stream itself
		}
		return e.InternalServerError("", err)
	}
	if stream.GetString("status") == "ended" {
		return salon.Refuse(http.StatusConflict, "stream_ended", "This stream has ended: its chat is closed.")
	}
	return e.Next()
}
