package members

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// inviteAlphabet has no look-alike characters (0/O, 1/I/L), so codes read
// aloud or copied by hand still work.
const inviteAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// inviteCodeLen gives 12 × log2(31) ≈ 59 bits: unguessable under the
// signup rate limit.
const inviteCodeLen = 12

func bindInvites(app core.App) {
	app.OnRecordCreateRequest("invite_codes").BindFunc(func(e *core.RecordRequestEvent) error {
		if !e.HasSuperuserAuth() {
			if !salon.IsAdmin(e.Auth) {
				settings, err := salon.Settings(e.App)
				if err != nil {
					return err
				}
				if !settings.GetBool("member_invites") {
					return salon.Deny("admins_only", "Only admins can create invite codes in this salon.")
				}
				if e.Record.GetString("rank") != "" {
					return salon.Deny("admins_only", "Only admins can create invite codes that grant a rank.")
				}
			}
			if owner := e.Record.GetString("owner"); owner != "" && owner != e.Auth.Id {
				return salon.Deny("not_yours", "You can only create invite codes of your own.")
			}
			e.Record.Set("owner", e.Auth.Id)
			e.Record.Set("uses", 0)
			e.Record.Set("code", "")
		}
		if e.Record.GetString("owner") == "" {
			return e.BadRequestError("An invite code needs an owner.", nil)
		}
		return e.Next()
	})

	// the code is always normalized, and generated when not given (only a
	// superuser can choose one, e.g. a campaign code in the dashboard)
	app.OnRecordCreate("invite_codes").BindFunc(func(e *core.RecordEvent) error {
		code := NormalizeInviteCode(e.Record.GetString("code"))
		if code == "" {
			var err error
			if code, err = newInviteCode(); err != nil {
				return err
			}
		}
		e.Record.Set("code", code)
		return e.Next()
	})
}

// NormalizeInviteCode makes typed codes match stored ones: case, spaces and
// dashes do not matter.
func NormalizeInviteCode(code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	return strings.NewReplacer("-", "", " ", "").Replace(code)
}

func newInviteCode() (string, error) {
	buf := make([]byte, inviteCodeLen)
	out := make([]byte, inviteCodeLen)
	for i := 0; i < inviteCodeLen; {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("invite code: %w", err)
		}
		for _, b := range buf {
			// rejection sampling keeps every character equally likely
			if int(b) >= 256-256%len(inviteAlphabet) {
				continue
			}
			out[i] = inviteAlphabet[int(b)%len(inviteAlphabet)]
			i++
			if i == inviteCodeLen {
				break
			}
		}
	}
	return string(out), nil
}

// RedeemInvite counts one use of code and returns its record, or a 400 that
// says why the code cannot be used. Call it inside the transaction that
// creates the member: the conditional UPDATE makes two signups racing for
// the last use end with exactly one winner.
func RedeemInvite(tx core.App, code string) (*core.Record, error) {
	invite, err := tx.FindFirstRecordByData("invite_codes", "code", code)
	if err != nil {
		return nil, inviteRefusal("invite_unknown", "This invite code does not exist.")
	}
	if invite.GetBool("disabled") {
		return nil, inviteRefusal("invite_disabled", "This invite code has been disabled.")
	}
	if exp := invite.GetDateTime("expires_at"); !exp.IsZero() && exp.Time().Before(time.Now()) {
		return nil, inviteRefusal("invite_expired", "This invite code has expired.")
	}

	res, err := tx.DB().NewQuery(
		"UPDATE invite_codes SET uses = uses + 1, updated = {:now} WHERE id = {:id} AND (max_uses = 0 OR uses < max_uses)",
	).Bind(dbx.Params{"id": invite.Id, "now": time.Now().UTC().Format("2006-01-02 15:04:05.000Z")}).Execute()
	if err != nil {
		return nil, fmt.Errorf("redeem invite: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, inviteRefusal("invite_used_up", "This invite code has been used up.")
	}
	return invite, nil
}
