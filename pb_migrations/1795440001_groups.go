package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// groups and group_members: themed groups with open, approval and secret
// visibility. A secret group (and its member list) is visible only to its
// active or invited members and to admins; the rules enforce that for lists,
// views and realtime alike. Memberships change only through the routes in
// hooks/groups.go (which give clear 403s); a member may leave by deleting
// their own membership, unless they own the group or are banned.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		ranks, err := app.FindCollectionByNameOrId("ranks")
		if err != nil {
			return err
		}

		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"

		groups := core.NewBaseCollection("groups")
		groups.Fields.Add(
			&core.TextField{Name: "name", Required: true, Max: 100, Presentable: true},
			&core.TextField{Name: "theme", Required: true, Max: 40,
				Help: "Lower-case theme used to discover groups, e.g. hobby, business, study."},
			&core.TextField{Name: "description", Max: 5000},
			&core.FileField{Name: "cover", MaxSelect: 1, MaxSize: 5 << 20,
				MimeTypes: []string{"image/jpeg", "image/png", "image/webp", "image/gif"}, Thumbs: []string{"600x200"}},
			&core.RelationField{Name: "owner", CollectionId: users.Id, MaxSelect: 1, Required: true},
			&core.SelectField{Name: "visibility", Values: []string{"open", "approval", "secret"}, MaxSelect: 1, Required: true,
				Help: "open: members join at once; approval: owner/moderators approve requests; secret: invisible, by invitation."},
			&core.RelationField{Name: "min_rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Minimum rank to join (empty: any rank)."},
			&core.NumberField{Name: "member_count", OnlyInt: true,
				Help: "Active members; kept by the database (trigger), not the client."},
		)
		addTimestamps(groups)
		groups.AddIndex("idx_groups_theme", false, "theme, visibility", "")
		groups.AddIndex("idx_groups_owner", false, "owner", "")
		if err := app.Save(groups); err != nil {
			return err
		}

		members := core.NewBaseCollection("group_members")
		members.Fields.Add(
			&core.RelationField{Name: "group", CollectionId: groups.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.SelectField{Name: "role", Values: []string{"owner", "moderator", "member"}, MaxSelect: 1, Required: true},
			&core.SelectField{Name: "status", Values: []string{"active", "pending", "invited", "banned"}, MaxSelect: 1, Required: true},
			&core.RelationField{Name: "invited_by", CollectionId: users.Id, MaxSelect: 1},
		)
		addTimestamps(members)
		members.AddIndex("idx_group_members_pair", true, "`group`, user", "")
		members.AddIndex("idx_group_members_user", false, "user, status", "")
		if err := app.Save(members); err != nil {
			return err
		}

		// the caller's own membership row in the group, joined through the
		// indexed back-relation; conditions on it apply to the same row
		const mine = "group_members_via_group.user ?= @request.auth.id"
		const seesSecret = "(" + mine + " && (group_members_via_group.status ?= 'active' || group_members_via_group.status ?= 'invited'))"
		groups.ListRule = types.Pointer(active + " && (" + admin + " || visibility != 'secret' || " + seesSecret + ")")
		groups.ViewRule = groups.ListRule
		// members create groups through the API; hooks set the owner, the
		// board and the owner's membership, and check the rank setting
		groups.CreateRule = types.Pointer(active)
		groups.UpdateRule = types.Pointer(active + " && (" + admin + " || owner = @request.auth.id || (" + mine +
			" && group_members_via_group.status ?= 'active' && group_members_via_group.role ?= 'moderator'))")
		groups.DeleteRule = types.Pointer(active + " && (" + admin + " || owner = @request.auth.id)")
		if err := app.Save(groups); err != nil {
			return err
		}

		const gmine = "group.group_members_via_group.user ?= @request.auth.id"
		const gactive = "(" + gmine + " && group.group_members_via_group.status ?= 'active')"
		const gmanager = "(" + gmine + " && group.group_members_via_group.status ?= 'active' && " +
			"(group.group_members_via_group.role ?= 'owner' || group.group_members_via_group.role ?= 'moderator'))"
		members.ListRule = types.Pointer(active + " && (" + admin + " || user = @request.auth.id || " + gmanager +
			" || (status = 'active' && (group.visibility != 'secret' || " + gactive + ")))")
		members.ViewRule = members.ListRule
		members.DeleteRule = types.Pointer(active + " && user = @request.auth.id && role != 'owner' && status != 'banned'")
		if err := app.Save(members); err != nil {
			return err
		}

		// member_count counts active members whatever writes the row
		// (routes, dashboard, raw SQL), in the writing transaction
		for _, sql := range []string{
			`CREATE TRIGGER group_members_count_ins AFTER INSERT ON group_members WHEN new.status = 'active'
			 BEGIN UPDATE groups SET member_count = member_count + 1 WHERE id = new."group"; END`,
			`CREATE TRIGGER group_members_count_del AFTER DELETE ON group_members WHEN old.status = 'active'
			 BEGIN UPDATE groups SET member_count = member_count - 1 WHERE id = old."group"; END`,
			`CREATE TRIGGER group_members_count_upd AFTER UPDATE OF status ON group_members WHEN old.status != new.status
			 BEGIN
			   UPDATE groups SET member_count = member_count
			     + (CASE WHEN new.status = 'active' THEN 1 ELSE 0 END)
			     - (CASE WHEN old.status = 'active' THEN 1 ELSE 0 END)
			   WHERE id = new."group";
			 END`,
			// a save of a stale group record (PocketBase sets every column,
			// name included) re-derives the count; the triggers above set
			// member_count only, so they do not fire this one
			`CREATE TRIGGER groups_member_count_fix AFTER UPDATE OF name ON groups BEGIN
			   UPDATE groups SET member_count =
			     (SELECT count(*) FROM group_members WHERE "group" = new.id AND status = 'active')
			   WHERE id = new.id;
			 END`,
		} {
			if _, err := app.DB().NewQuery(sql).Execute(); err != nil {
				return err
			}
		}
		return nil
	}, func(app core.App) error {
		for _, name := range []string{"group_members", "groups"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			if err := app.Delete(c); err != nil {
				return err
			}
		}
		return nil
	})
}
