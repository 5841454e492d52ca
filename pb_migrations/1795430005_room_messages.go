package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// roomMessageMediaTypes are the attachment types a chat room accepts:
// pictures, video and audio (checked against the sniffed content).
var roomMessageMediaTypes = []string{
	"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/heic", "image/heif",
	"video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "video/3gpp",
	"audio/mpeg", "audio/mp4", "audio/ogg", "audio/wav", "audio/webm", "audio/aac", "audio/x-m4a",
}

// room_messages: what members and guests write in a room. The read rule is
// the room's: rank high enough, joined if the room has a password, or a
// guest with a live link to this room. Soft-deleted messages (deleted_at) are
// visible to admins only. Writes go through hooks/room_messages.go, which
// answers refusals with a 403 and a reason, sets the author, the hidden
// ip/author_rank (for the CSV export) and the mentions.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		guests, err := app.FindCollectionByNameOrId("guests")
		if err != nil {
			return err
		}
		rooms, err := app.FindCollectionByNameOrId("rooms")
		if err != nil {
			return err
		}

		c := core.NewBaseCollection("room_messages")
		memberRead := "(" + roomsActiveMember + " && (@request.auth.role = 'admin' ||" +
			" ((room.min_rank = '' || @request.auth.rank.level >= room.min_rank.level)" +
			" && (room.password_protected = false || (@collection.room_members:m.room ?= room && @collection.room_members:m.user ?= @request.auth.id)))))"
		read := "(deleted_at = '' || @request.auth.role = 'admin') && (" + memberRead + " || " + guestLiveRule("room", "room.") + ")"
		c.ListRule = types.Pointer(read)
		c.ViewRule = c.ListRule
		// who may post where is decided in the create hook (a clear 403);
		// the rule admits only members and guests at all
		c.CreateRule = types.Pointer(roomsActiveMember + " || @request.auth.collectionName = 'guests'")
		c.UpdateRule = types.Pointer("deleted_at = '' && ((" + roomsActiveMember + " && author = @request.auth.id)" +
			" || (@request.auth.collectionName = 'guests' && guest = @request.auth.id))")
		// a delete is a soft delete; the hook decides whether the reader may
		c.DeleteRule = c.ListRule

		c.Fields.Add(
			&core.RelationField{Name: "room", CollectionId: rooms.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "author", CollectionId: users.Id, MaxSelect: 1},
			&core.RelationField{Name: "guest", CollectionId: guests.Id, MaxSelect: 1},
			&core.TextField{Name: "author_name", Max: 100},
			&core.TextField{Name: "body", Max: 10000},
			&core.FileField{Name: "attachments", MaxSelect: 10, MaxSize: 500 << 20, Protected: true,
				MimeTypes: roomMessageMediaTypes, Thumbs: []string{"320x0", "100x100"},
				Help: "Pictures, video, audio. MaxSize is the per-file upload limit."},
			&core.BoolField{Name: "edited"},
			&core.DateField{Name: "edited_at"},
			&core.DateField{Name: "deleted_at"},
			&core.RelationField{Name: "deleted_by", CollectionId: users.Id, MaxSelect: 1, Hidden: true},
			&core.TextField{Name: "ip", Hidden: true, Max: 64},
			&core.TextField{Name: "author_rank", Hidden: true, Max: 100},
		)
		addTimestamps(c)
		c.Fields.Add(&core.RelationField{Name: "mentions", CollectionId: users.Id, MaxSelect: 50})
		if err := app.Save(c); err != nil {
			return err
		}
		// reply_to points into the same collection, so it needs its id
		c.Fields.Add(&core.RelationField{Name: "reply_to", CollectionId: c.Id, MaxSelect: 1})
		c.AddIndex("idx_room_messages_room_created", false, "room, created", "")
		c.AddIndex("idx_room_messages_author", false, "author", "")
		c.AddIndex("idx_room_messages_ip_created", false, "created", "ip != ''")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("room_messages")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
