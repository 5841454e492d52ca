package pb_migrations

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// A paid tip appears in the stream's chat: the server writes a chat line
// that points at the tip, so clients can show it as a tip. Members cannot
// write such lines themselves.
func init() {
	const noTip = " && @request.body.tip:isset = false"
	m.Register(func(app core.App) error {
		chat, err := app.FindCollectionByNameOrId("live_chat_messages")
		if err != nil {
			return err
		}
		tips, err := app.FindCollectionByNameOrId("tips")
		if err != nil {
			return err
		}
		chat.Fields.Add(&core.RelationField{Name: "tip", CollectionId: tips.Id, MaxSelect: 1,
			Help: "Set by the server on the chat line of a paid tip."})
		if chat.CreateRule != nil {
			chat.CreateRule = types.Pointer(*chat.CreateRule + noTip)
		}
		return app.Save(chat)
	}, func(app core.App) error {
		chat, err := app.FindCollectionByNameOrId("live_chat_messages")
		if err != nil {
			return err
		}
		if chat.CreateRule != nil {
			chat.CreateRule = types.Pointer(strings.TrimSuffix(*chat.CreateRule, noTip))
		}
		chat.Fields.RemoveByName("tip")
		return app.Save(chat)
	})
}
