package dm

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// canWriteAnswer tells a compose box, before the member types, whether they
// may write to someone. ReplyTo is set when only a reply is allowed (the
// DM policy lets anyone answer a message they received): send with
// reply_to = ReplyTo.
type canWriteAnswer struct {
	Allowed bool          `json:"allowed"`
	ReplyTo string        `json:"reply_to,omitempty"`
	Reason  *reasonAnswer `json:"reason,omitempty"`
}

type reasonAnswer struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// canWrite answers GET /api/salon/dm/can-write/{userId} with the same DM
// policy a send goes through, so the answer and the send never disagree.
func canWrite(e *core.RequestEvent) error {
	if !salon.IsMember(e.Auth) {
		return salon.Deny("not_member", "Only members have direct messages.")
	}
	recipient, err := e.App.FindRecordById("users", e.Request.PathValue("userId"))
	if err != nil {
		return e.NotFoundError("No such member.", nil)
	}

	policyErr := CanDM(e.App, e.Auth, recipient, false)
	if policyErr == nil {
		return e.JSON(http.StatusOK, canWriteAnswer{Allowed: true})
	}
	refusal, ok := salon.AsRefusal(DMRefusal(policyErr))
	if !ok {
		return fmt.Errorf("dm policy: %w", policyErr)
	}

	// the policy's last rule: an answer to a message received is allowed
	var last struct{ Id string }
	err = e.App.DB().NewQuery(`SELECT id FROM dm_messages
		WHERE sender = {:them} AND recipient = {:me} AND recipient_deleted = FALSE
		ORDER BY created DESC LIMIT 1`).
		Bind(dbx.Params{"them": recipient.Id, "me": e.Auth.Id}).One(&last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("dm can-write: %w", err)
	default:
		if CanDM(e.App, e.Auth, recipient, true) == nil {
			return e.JSON(http.StatusOK, canWriteAnswer{Allowed: true, ReplyTo: last.Id})
		}
	}
	return e.JSON(http.StatusOK, canWriteAnswer{
		Reason: &reasonAnswer{Code: refusal.Code, Message: refusal.Reason},
	})
}
