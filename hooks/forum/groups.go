package forum

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
)

// Groups: themed groups with their own board (a forum category scoped to
// the group). Visibility is open (join at once), approval (owner or
// moderators approve requests) or secret (invisible to non-members, joined
// by invitation). Membership changes go through the routes below so each
// refusal is a clear 4xx; the collection rules decide who sees what.
//
// Each group also gets its own chat room (groups.room, rooms.group): only
// its active members and admins read and write it (canEnterRoom and
// RoomReaders in hooks/rooms/policy.go, and the rules added by the group_rooms
// migration).

func bindGroups(app core.App) {
	app.OnRecordCreateRequest("groups").BindFunc(createGroup)
	app.OnRecordUpdateRequest("groups").BindFunc(updateGroup)
}

func groupRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	gr := g.Group("/groups")
	gr.GET("/themes", groupThemes)
	gr.POST("/{id}/join", joinGroup)
	gr.POST("/{id}/invite", inviteToGroup)
	gr.POST("/{id}/transfer", transferGroup)
	gr.POST("/{id}/members/{user}/{action}", manageMember)
}

func createGroup(e *core.RecordRequestEvent) error {
	if !e.HasSuperuserAuth() {
		e.Record.Set("owner", e.Auth.Id)
		settings, err := salon.Settings(e.App)
		if err != nil {
			return e.InternalServerError("", err)
		}
		min := settings.GetString("group_create_min_rank")
		if ok, err := salon.HasRank(e.App, e.Auth, min); err != nil {
			return e.InternalServerError("", err)
		} else if !ok {
			return salon.Deny("rank_too_low", "Creating groups needs the %s rank or above.", salon.RankName(e.App, min))
		}
	}
	e.Record.Set("theme", normalizeTheme(e.Record.GetString("theme")))
	e.Record.Set("member_count", 0)
	e.Record.Set("category", "")
	e.Record.Set("room", "")
	return salon.ChainInTx(&e.App, func(tx core.App) error {
		if err := e.Next(); err != nil {
			return err
		}
		return setUpGroup(tx, e.Record)
	})
}

// setUpGroup gives a new group its board, its chat room and its owner's
// membership.
func setUpGroup(tx core.App, group *core.Record) error {
	cats, err := tx.FindCachedCollectionByNameOrId("forum_categories")
	if err != nil {
		return err
	}
	board := core.NewRecord(cats)
	board.Set("name", group.GetString("name"))
	board.Set("description", "Board of the group "+group.GetString("name"))
	board.Set("group", group.Id)
	board.Set("sort", 1000)
	if err := tx.Save(board); err != nil {
		return fmt.Errorf("group board: %w", err)
	}
	group.Set("category", board.Id)

	rooms, err := tx.FindCachedCollectionByNameOrId("rooms")
	if err != nil {
		return err
	}
	room := core.NewRecord(rooms)
	room.Set("name", group.GetString("name"))
	room.Set("description", "Chat of the group "+group.GetString("name"))
	room.Set("group", group.Id)
	room.Set("members_can_delete_own", true)
	if err := tx.Save(room); err != nil {
		return fmt.Errorf("group room: %w", err)
	}
	group.Set("room", room.Id)

	if err := tx.Save(group); err != nil {
		return fmt.Errorf("link group board and room: %w", err)
	}
	if _, err := saveMembership(tx, group.Id, group.GetString("owner"), GroupOwner, MemberActive, ""); err != nil {
		return fmt.Errorf("owner membership: %w", err)
	}
	// the trigger counted the owner
	group.Set("member_count", 1)
	return nil
}

func updateGroup(e *core.RecordRequestEvent) error {
	orig := e.Record.Original()
	e.Record.Set("member_count", orig.GetInt("member_count"))
	e.Record.Set("theme", normalizeTheme(e.Record.GetString("theme")))
	if e.HasSuperuserAuth() {
		return e.Next()
	}
	if e.Record.GetString("category") != orig.GetString("category") {
		return e.BadRequestError("A group's board cannot be replaced.", nil)
	}
	if e.Record.GetString("room") != orig.GetString("room") {
		return e.BadRequestError("A group's room cannot be replaced.", nil)
	}
	if e.Record.GetString("owner") != orig.GetString("owner") {
		return e.BadRequestError("Hand over ownership with POST /api/salon/groups/{id}/transfer.", nil)
	}
	if !salon.IsAdmin(e.Auth) && orig.GetString("owner") != e.Auth.Id {
		for _, f := range []string{"visibility", "min_rank"} {
			if e.Record.GetString(f) != orig.GetString(f) {
				return salon.Deny("group_owner_only", "Only the owner or an admin changes a group's %s.", f)
			}
		}
	}
	return salon.ChainInTx(&e.App, func(tx core.App) error {
		if err := e.Next(); err != nil {
			return err
		}
		// the board carries the group's name
		if e.Record.GetString("name") == orig.GetString("name") {
			return nil
		}
		board, err := tx.FindRecordById("forum_categories", e.Record.GetString("category"))
		if err != nil {
			return nil // a board deleted in the dashboard: nothing to rename
		}
		board.Set("name", e.Record.GetString("name"))
		if err := tx.Save(board); err != nil {
			return err
		}
		room, err := tx.FindRecordById("rooms", e.Record.GetString("room"))
		if err != nil {
			return nil // no room (deleted in the dashboard)
		}
		room.Set("name", e.Record.GetString("name"))
		return tx.Save(room)
	})
}

func normalizeTheme(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// saveMembership creates or updates user's row in group.
func saveMembership(app core.App, group, user, role, status, invitedBy string) (*core.Record, error) {
	rec, err := app.FindFirstRecordByFilter("group_members", "group = {:g} && user = {:u}", dbx.Params{"g": group, "u": user})
	if err != nil {
		c, err := app.FindCachedCollectionByNameOrId("group_members")
		if err != nil {
			return nil, err
		}
		rec = core.NewRecord(c)
		rec.Set("group", group)
		rec.Set("user", user)
	}
	rec.Set("role", role)
	rec.Set("status", status)
	if invitedBy != "" {
		rec.Set("invited_by", invitedBy)
	}
	return rec, app.Save(rec)
}

// groupFor loads the group of the route for auth; a group auth may not see
// is a 404, as if it did not exist.
func groupFor(e *core.RequestEvent) (*core.Record, error) {
	if !salon.IsMember(e.Auth) && !salon.IsAdmin(e.Auth) {
		return nil, salon.Refuse(http.StatusUnauthorized, "login", "Sign in as a member.")
	}
	group, err := e.App.FindRecordById("groups", e.Request.PathValue("id"))
	if err != nil {
		return nil, e.NotFoundError("The group was not found.", nil)
	}
	if ok, err := CanSeeGroup(e.App, e.Auth, group); err != nil {
		return nil, e.InternalServerError("", err)
	} else if !ok {
		return nil, e.NotFoundError("The group was not found.", nil)
	}
	return group, nil
}

func membershipJSON(r *core.Record) map[string]any {
	return map[string]any{"id": r.Id, "group": r.GetString("group"), "user": r.GetString("user"),
		"role": r.GetString("role"), "status": r.GetString("status")}
}

// joinGroup: POST /api/salon/groups/{id}/join — join an open group, ask to
// join an approval group, or accept an invitation.
func joinGroup(e *core.RequestEvent) error {
	group, err := groupFor(e)
	if err != nil {
		return err
	}
	if e.Auth.IsSuperuser() {
		return e.BadRequestError("Superusers manage groups from the dashboard; join as a member.", nil)
	}
	m, err := GroupRole(e.App, group.Id, e.Auth.Id)
	if err != nil {
		return e.InternalServerError("", err)
	}
	var status string
	switch m.Status {
	case MemberActive:
		return salon.Refuse(http.StatusBadRequest, "already_member", "You are already a member of this group.")
	case MemberPending:
		return salon.Refuse(http.StatusBadRequest, "join_pending", "Your request to join is waiting for approval.")
	case MemberBanned:
		return salon.Deny("banned", "You are banned from this group.")
	case MemberInvited:
		status = MemberActive // accepting the invitation
	default:
		if ok, err := salon.HasRank(e.App, e.Auth, group.GetString("min_rank")); err != nil {
			return e.InternalServerError("", err)
		} else if !ok {
			return salon.Deny("rank_too_low", "This group is for the %s rank and above.", salon.RankName(e.App, group.GetString("min_rank")))
		}
		switch group.GetString("visibility") {
		case "open":
			status = MemberActive
		case "approval":
			status = MemberPending
		default: // secret: by invitation only (an admin sees it but joins by invitation too)
			return salon.Deny("group_invitation_only", "This group is joined by invitation only.")
		}
	}
	// the request and its notice to the managers commit together
	var rec *core.Record
	err = e.App.RunInTransaction(func(tx core.App) error {
		var err error
		if rec, err = saveMembership(tx, group.Id, e.Auth.Id, GroupMember, status, ""); err != nil || status != MemberPending {
			return err
		}
		return notifyManagers(tx, group, notify.Notification{
			Kind:  "group_request",
			Title: fmt.Sprintf("%s asks to join %s", e.Auth.GetString("name"), group.GetString("name")),
			URL:   "/groups/" + group.Id + "/members?status=pending", SourceCollection: "group_members", SourceID: rec.Id,
			Vars: map[string]string{"MEMBER": e.Auth.GetString("name"), "GROUP": group.GetString("name")},
		})
	})
	if err != nil {
		return e.BadRequestError("Could not join the group.", err)
	}
	return e.JSON(http.StatusOK, membershipJSON(rec))
}

// inviteToGroup: POST /api/salon/groups/{id}/invite {user} — managers
// invite a member (the only way into a secret group).
func inviteToGroup(e *core.RequestEvent) error {
	group, err := groupFor(e)
	if err != nil {
		return err
	}
	if ok, err := CanManageGroup(e.App, e.Auth, group); err != nil {
		return e.InternalServerError("", err)
	} else if !ok {
		return salon.Deny("group_moderators_only", "Only the group's owner and moderators invite members.")
	}
	var body struct {
		User string `json:"user"`
	}
	if err := e.BindBody(&body); err != nil || body.User == "" {
		return e.BadRequestError("Say whom to invite: {\"user\": id}.", err)
	}
	user, err := e.App.FindRecordById("users", body.User)
	if err != nil || !salon.IsMember(user) {
		return e.BadRequestError("No active member with this id.", nil)
	}
	if ok, err := salon.HasRank(e.App, user, group.GetString("min_rank")); err != nil {
		return e.InternalServerError("", err)
	} else if !ok {
		return salon.Refuse(http.StatusBadRequest, "invitee_rank_too_low", "This member's rank is below the group's minimum rank.")
	}
	m, err := GroupRole(e.App, group.Id, user.Id)
	if err != nil {
		return e.InternalServerError("", err)
	}
	status := MemberInvited
	switch m.Status {
	case MemberActive:
		return salon.Refuse(http.StatusBadRequest, "already_in_group", "This member is already in the group.")
	case MemberInvited:
		return salon.Refuse(http.StatusBadRequest, "already_invited", "This member is already invited.")
	case MemberBanned:
		return salon.Refuse(http.StatusBadRequest, "member_banned", "This member is banned from the group; unban them first.")
	case MemberPending:
		status = MemberActive // they asked; the invitation approves them
	}
	// an invitation to one who had asked to join approves their request
	notice := notify.Notification{Kind: "group_invite",
		Title: fmt.Sprintf("You are invited to the group %s", group.GetString("name")),
		URL:   "/groups/" + group.Id, SourceCollection: "groups", SourceID: group.Id,
		Vars: map[string]string{"GROUP": group.GetString("name")}}
	if status == MemberActive {
		notice.Kind = "group_approved"
		notice.Title = fmt.Sprintf("Your request to join %s was approved", group.GetString("name"))
	}
	// the invitation and its notice commit together: an invitee is never
	// left without the notice that tells them, nor told of nothing
	var rec *core.Record
	err = e.App.RunInTransaction(func(tx core.App) error {
		var err error
		if rec, err = saveMembership(tx, group.Id, user.Id, GroupMember, status, salon.AuthID(e)); err != nil {
			return err
		}
		return notify.Notify(tx, []string{user.Id}, notice)
	})
	if err != nil {
		return e.BadRequestError("Could not invite the member.", err)
	}
	return e.JSON(http.StatusOK, membershipJSON(rec))
}

// manageMember: POST /api/salon/groups/{id}/members/{user}/{action} with
// action approve | reject | remove | ban | unban | promote | demote.
// Moderators approve, reject, remove and ban plain members; the owner and
// admins also act on moderators and promote or demote.
func manageMember(e *core.RequestEvent) error {
	group, err := groupFor(e)
	if err != nil {
		return err
	}
	mine, err := GroupRole(e.App, group.Id, salon.AuthID(e))
	if err != nil {
		return e.InternalServerError("", err)
	}
	admin := salon.IsAdmin(e.Auth)
	if !admin && !mine.Manages() {
		return salon.Deny("group_moderators_only", "Only the group's owner and moderators manage members.")
	}
	ownerPower := admin || (mine.Active() && mine.Role == GroupOwner)

	userID := e.Request.PathValue("user")
	rec, err := e.App.FindFirstRecordByFilter("group_members", "group = {:g} && user = {:u}", dbx.Params{"g": group.Id, "u": userID})
	action := e.Request.PathValue("action")
	if err != nil {
		if action != "ban" {
			return e.NotFoundError("This member has no membership in the group.", nil)
		}
		// banning someone who never joined keeps them out
		c, err := e.App.FindCachedCollectionByNameOrId("group_members")
		if err != nil {
			return e.InternalServerError("", err)
		}
		if _, err := e.App.FindRecordById("users", userID); err != nil {
			return e.NotFoundError("No member with this id.", nil)
		}
		rec = core.NewRecord(c)
		rec.Set("group", group.Id)
		rec.Set("user", userID)
		rec.Set("role", GroupMember)
	}
	if rec.GetString("role") == GroupOwner {
		return salon.Refuse(http.StatusBadRequest, "owner_not_managed", "The owner cannot be managed; hand over ownership first.")
	}
	if rec.GetString("role") == GroupModerator && !ownerPower {
		return salon.Deny("group_owner_only", "Only the owner or an admin manages moderators.")
	}

	status, role := rec.GetString("status"), rec.GetString("role")
	var notice string
	switch action {
	case "approve":
		if status != MemberPending {
			return e.BadRequestError("There is no pending request to approve.", nil)
		}
		status, notice = MemberActive, "Your request to join %s was approved."
	case "reject":
		if status != MemberPending {
			return e.BadRequestError("There is no pending request to reject.", nil)
		}
		return deleteMembership(e, rec)
	case "remove":
		return deleteMembership(e, rec)
	case "ban":
		status, role = MemberBanned, GroupMember
	case "unban":
		if status != MemberBanned {
			return e.BadRequestError("This member is not banned.", nil)
		}
		return deleteMembership(e, rec)
	case "promote", "demote":
		if !ownerPower {
			return salon.Deny("group_owner_only", "Only the owner or an admin promotes and demotes.")
		}
		if status != MemberActive {
			return e.BadRequestError("Only active members can be promoted or demoted.", nil)
		}
		role = GroupModerator
		if action == "demote" {
			role = GroupMember
		}
	default:
		return e.NotFoundError("Unknown action; use approve, reject, remove, ban, unban, promote or demote.", nil)
	}
	rec.Set("status", status)
	rec.Set("role", role)
	// the change and its notice (an approval's) commit together
	err = e.App.RunInTransaction(func(tx core.App) error {
		if err := tx.Save(rec); err != nil || notice == "" {
			return err
		}
		return notify.Notify(tx, []string{rec.GetString("user")}, notify.Notification{Kind: "group_approved",
			Title: fmt.Sprintf(notice, group.GetString("name")), URL: "/groups/" + group.Id,
			SourceCollection: "groups", SourceID: group.Id,
			Vars: map[string]string{"GROUP": group.GetString("name")}})
	})
	if err != nil {
		return e.BadRequestError("Could not update the membership.", err)
	}
	return e.JSON(http.StatusOK, membershipJSON(rec))
}

func deleteMembership(e *core.RequestEvent, rec *core.Record) error {
	if rec.IsNew() {
		return e.NotFoundError("This member has no membership in the group.", nil)
	}
	if err := e.App.Delete(rec); err != nil {
		return e.BadRequestError("Could not remove the membership.", err)
	}
	return e.NoContent(http.StatusNoContent)
}

// transferGroup: POST /api/salon/groups/{id}/transfer {user} — the owner
// (or an admin) hands the group to an active member; the old owner stays as
// a moderator.
func transferGroup(e *core.RequestEvent) error {
	group, err := groupFor(e)
	if err != nil {
		return err
	}
	oldOwner := group.GetString("owner")
	if !salon.IsAdmin(e.Auth) && salon.AuthID(e) != oldOwner {
		return salon.Deny("group_owner_only", "Only the owner or an admin hands over a group.")
	}
	var body struct {
		User string `json:"user"`
	}
	if err := e.BindBody(&body); err != nil || body.User == "" {
		return e.BadRequestError("Say who takes over: {\"user\": id}.", err)
	}
	if body.User == oldOwner {
		return e.BadRequestError("This member already owns the group.", nil)
	}
	m, err := GroupRole(e.App, group.Id, body.User)
	if err != nil {
		return e.InternalServerError("", err)
	}
	if !m.Active() {
		return salon.Refuse(http.StatusBadRequest, "new_owner_not_member", "The new owner must be an active member of the group.")
	}
	if u, err := e.App.FindRecordById("users", body.User); err != nil || !salon.IsMember(u) {
		return salon.Refuse(http.StatusBadRequest, "new_owner_not_member", "The new owner must be an active member of the salon.")
	}
	err = e.App.RunInTransaction(func(tx core.App) error {
		if _, err := saveMembership(tx, group.Id, body.User, GroupOwner, MemberActive, ""); err != nil {
			return err
		}
		if old, _ := GroupRole(tx, group.Id, oldOwner); old.ID != "" {
			if _, err := saveMembership(tx, group.Id, oldOwner, GroupModerator, MemberActive, ""); err != nil {
				return err
			}
		}
		group.Set("owner", body.User)
		if err := tx.Save(group); err != nil {
			return err
		}
		return notify.Notify(tx, []string{body.User}, notify.Notification{Kind: "group_owner",
			Title: fmt.Sprintf("You now own the group %s", group.GetString("name")), URL: "/groups/" + group.Id,
			SourceCollection: "groups", SourceID: group.Id,
			Vars: map[string]string{"GROUP": group.GetString("name")}})
	})
	if err != nil {
		return e.BadRequestError("Could not hand over the group.", err)
	}
	return e.JSON(http.StatusOK, map[string]any{"id": group.Id, "owner": body.User})
}

// groupThemes: GET /api/salon/groups/themes — the themes of the groups a
// member can discover (open and approval groups), with how many groups
// each has. List a theme's groups with the SDK:
// pb.collection('groups').getList(1, 20, {filter: "theme = 'hobby'"}).
func groupThemes(e *core.RequestEvent) error {
	if !salon.IsMember(e.Auth) && !salon.IsAdmin(e.Auth) {
		return salon.Refuse(http.StatusUnauthorized, "login", "Sign in as a member.")
	}
	type theme struct {
		Theme  string `db:"theme" json:"theme"`
		Groups int    `db:"groups" json:"groups"`
	}
	var out []theme
	err := e.App.DB().Select("theme", "count(*) AS groups").From("groups").
		Where(dbx.NewExp("visibility != 'secret'")).
		GroupBy("theme").OrderBy("groups DESC", "theme ASC").All(&out)
	if err != nil {
		return e.InternalServerError("", err)
	}
	if out == nil {
		out = []theme{}
	}
	return e.JSON(http.StatusOK, map[string]any{"items": out})
}

// notifyManagers tells a group's owner and moderators.
func notifyManagers(app core.App, group *core.Record, n notify.Notification) error {
	var ids []string
	err := app.DB().Select("user").From("group_members").
		Where(dbx.HashExp{"group": group.Id, "status": MemberActive, "role": []any{GroupOwner, GroupModerator}}).
		Column(&ids)
	if err != nil {
		return fmt.Errorf("managers of group %s: %w", group.Id, err)
	}
	return notify.Notify(app, ids, n)
}

// SetUpGroup gives a group saved from Go (the demo data) what the API's
// create gives it: its board, its chat room and its owner's membership.
func SetUpGroup(tx core.App, group *core.Record) error { return setUpGroup(tx, group) }
