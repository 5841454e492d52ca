package members

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Follows: a member follows another to hear about their posts, lives and
// events (the features that publish call FollowerIDs).
func bindFollows(app core.App) {
	app.OnRecordCreateRequest("follows").BindFunc(func(e *core.RecordRequestEvent) error {
		if !e.HasSuperuserAuth() {
			e.Record.Set("follower", e.Auth.Id)
		}
		follower, followee := e.Record.GetString("follower"), e.Record.GetString("followee")
		if followee == "" {
			return e.BadRequestError("Say whom to follow (followee).", nil)
		}
		if follower == followee {
			return e.BadRequestError("You cannot follow yourself.", nil)
		}
		n, err := e.App.CountRecords("follows", dbx.HashExp{"follower": follower, "followee": followee})
		if err != nil {
			return err
		}
		if n > 0 {
			return e.BadRequestError("You already follow this member.", nil)
		}
		return e.Next()
	})
}

// FollowerIDs returns the ids of the active members who follow user.
func FollowerIDs(app core.App, user string) ([]string, error) {
	var ids []string
	err := app.DB().Select("follows.follower").From("follows").
		InnerJoin("users", dbx.NewExp("users.id = follows.follower")).
		Where(dbx.HashExp{"follows.followee": user, "users.suspended": false}).
		Column(&ids)
	return ids, err
}
