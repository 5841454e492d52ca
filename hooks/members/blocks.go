package members

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Blocks: a member blocks another to stop their DMs (admins are not
// affected). The API rules limit each member to their own blocks.
func bindBlocks(app core.App) {
	app.OnRecordCreateRequest("blocks").BindFunc(func(e *core.RecordRequestEvent) error {
		if !e.HasSuperuserAuth() {
			e.Record.Set("user", e.Auth.Id)
		}
		user, blocked := e.Record.GetString("user"), e.Record.GetString("blocked")
		if blocked == "" {
			return e.BadRequestError("Say whom to block (blocked).", nil)
		}
		if user == blocked {
			return e.BadRequestError("You cannot block yourself.", nil)
		}
		n, err := e.App.CountRecords("blocks", dbx.HashExp{"user": user, "blocked": blocked})
		if err != nil {
			return err
		}
		if n > 0 {
			return e.BadRequestError("You have already blocked this member.", nil)
		}
		return e.Next()
	})
}

// IsBlocked reports whether user has blocked other.
func IsBlocked(app core.App, user, other string) (bool, error) {
	var n int
	err := app.DB().Select("count(*)").From("blocks").
		Where(dbx.HashExp{"user": user, "blocked": other}).
		Row(&n)
	return n > 0, err
}
