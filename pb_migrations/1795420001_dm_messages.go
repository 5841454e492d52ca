package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// dm_messages: e-mail-like direct messages (docs/design.md, README "Direct messages").
//
// Only the two parties and admins see a message; each party hides it from
// their own view with their deletion flag (the record stays for the other
// side and for moderation). The rules mirror hooks/dm.go, which answers the
// same refusals with clear messages and applies the DM policy on create.
// sender and recipient are not required in the schema so that deleting a
// member keeps the other side's copy (PocketBase unsets the reference); the
// create hook requires both.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}

		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"
		const party = "((sender = @request.auth.id && sender_deleted = false) || (recipient = @request.auth.id && recipient_deleted = false))"
		const contentKept = "@request.body.sender:changed = false && @request.body.recipient:changed = false" +
			" && @request.body.subject:changed = false && @request.body.body:changed = false" +
			" && @request.body.attachments:changed = false && @request.body.reply_to:changed = false" +
			" && @request.body.client_id:changed = false"

		c := core.NewBaseCollection("dm_messages")
		c.ListRule = types.Pointer(admin + " || (" + active + " && " + party + ")")
		c.ViewRule = c.ListRule
		c.CreateRule = types.Pointer(active +
			" && (@request.body.sender:isset = false || @request.body.sender = @request.auth.id)" +
			" && (@request.body.read_at:isset = false || @request.body.read_at = '')" +
			" && (@request.body.sender_deleted:isset = false || @request.body.sender_deleted = false)" +
			" && (@request.body.recipient_deleted:isset = false || @request.body.recipient_deleted = false)")
		// a party's delete hides the message for them only (hooks/dm.go);
		// an admin who is not a party deletes it for everyone (moderation)
		c.DeleteRule = c.ListRule

		c.Fields.Add(
			&core.RelationField{Name: "sender", CollectionId: users.Id, MaxSelect: 1},
			&core.RelationField{Name: "recipient", CollectionId: users.Id, MaxSelect: 1},
			&core.TextField{Name: "subject", Max: 200, Presentable: true},
			&core.TextField{Name: "body", Max: 20000},
			&core.FileField{Name: "attachments", MaxSelect: 10, MaxSize: 100 << 20, Protected: true,
				Help: "Hard cap per file; the salon's limit is salon_settings.dm_max_attachment_mb."},
			&core.DateField{Name: "read_at"},
			&core.BoolField{Name: "sender_deleted", Help: "Hidden from the sender's view."},
			&core.BoolField{Name: "recipient_deleted", Help: "Hidden from the recipient's view."},
			&core.TextField{Name: "client_id", Max: 64, Pattern: `^[A-Za-z0-9_.:-]*$`,
				Help: "Client-generated id: a retried send with the same id returns the first message."},
		)
		addTimestamps(c)
		// (recipient, created) and (sender, created) serve inbox and sent
		// views; the trailing columns cover the rules' deletion checks, the
		// unread counts and the conversation list without table lookups
		c.AddIndex("idx_dm_recipient_created", false, "recipient, created, recipient_deleted, read_at, sender, sender_deleted", "")
		c.AddIndex("idx_dm_sender_created", false, "sender, created, sender_deleted, recipient, recipient_deleted, read_at", "")
		c.AddIndex("idx_dm_client_id", true, "sender, client_id", "client_id != ''")
		if err := app.Save(c); err != nil {
			return err
		}

		// a self relation needs the collection id, and the update rule names it
		c.Fields.Add(&core.RelationField{Name: "reply_to", CollectionId: c.Id, MaxSelect: 1})
		c.UpdateRule = types.Pointer(active + " && " + contentKept + " && (" +
			"(sender = @request.auth.id && sender_deleted = false && @request.body.read_at:changed = false && @request.body.recipient_deleted:changed = false)" +
			" || (recipient = @request.auth.id && recipient_deleted = false && @request.body.sender_deleted:changed = false))")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("dm_messages")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
