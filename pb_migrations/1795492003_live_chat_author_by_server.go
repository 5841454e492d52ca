package pb_migrations

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The server sets live_chat_messages.author (hooks/live/chat.go), like every
// other author field: a client may leave it out, and may still not name
// someone else.
func init() {
	const given = " && @request.body.author = @request.auth.id"
	const optional = " && (@request.body.author:isset = false || @request.body.author = @request.auth.id)"
	swap := func(app core.App, from, to string) error {
		chat, err := app.FindCollectionByNameOrId("live_chat_messages")
		if err != nil {
			return err
		}
		if chat.CreateRule != nil {
			chat.CreateRule = types.Pointer(strings.Replace(*chat.CreateRule, from, to, 1))
		}
		return app.Save(chat)
	}
	m.Register(func(app core.App) error {
		return swap(app, given, optional)
	}, func(app core.App) error {
		return swap(app, optional, given)
	})
}
