package live

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/dm"
	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
	"salonbase/rtc"
)

// 1:1 calls. The caller creates a calls record (the DM policy decides who
// may call whom); the callee learns of it through realtime on `calls` and
// sets status=active (accept) or declined. Both then publish and subscribe
// under /api/rtc/calls/{id}/ (see README). Either side hangs up with
// status=ended. A call nobody answers becomes missed after
// salon_settings.call_ring_seconds. Chat during the call is kept as DMs
// between the two (POST /api/salon/calls/{id}/messages), so it stays in
// their conversation after the call.

// Fields only the server writes.
var callServerFields = []string{"caller", "callee", "started_at", "ended_at", "duration"}

// callOver lists the final statuses.
var callOver = map[string]bool{"ended": true, "declined": true, "missed": true}

func bindCalls(app core.App, svc *rtc.Service) {
	// Ring timers die with the app (the cron sweep below covers restarts).
	var timers sync.Map // call id → *time.Timer
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		timers.Range(func(k, v any) bool {
			v.(*time.Timer).Stop()
			timers.Delete(k)
			return true
		})
		return e.Next()
	})

	app.OnRecordCreateRequest("calls").BindFunc(func(e *core.RecordRequestEvent) error {
		if !e.HasSuperuserAuth() {
			e.Record.Set("caller", e.Auth.Id)
		}
		caller, err := e.App.FindRecordById("users", e.Record.GetString("caller"))
		if err != nil {
			return e.BadRequestError("Say who calls (caller).", nil)
		}
		callee, err := e.App.FindRecordById("users", e.Record.GetString("callee"))
		if err != nil {
			return e.BadRequestError("Say whom to call (callee).", nil)
		}
		if caller.Id == callee.Id {
			return e.BadRequestError("You cannot call yourself.", nil)
		}
		if err := CanCall(e.App, caller, callee); err != nil {
			return dm.DMRefusal(err)
		}
		e.Record.Set("status", "ringing")
		e.Record.Set("started_at", "")
		e.Record.Set("ended_at", "")
		e.Record.Set("duration", 0)
		// The busy check and the insert in one transaction: SQLite runs one
		// write transaction at a time, so of two calls made at once to the
		// same person the second sees the first.
		app := e.App
		err = salon.ChainInTx(&e.App, func(tx core.App) error {
			busy, err := tx.CountRecords("calls", dbx.And(
				dbx.In("status", "ringing", "active"),
				dbx.Or(dbx.In("caller", caller.Id, callee.Id), dbx.In("callee", caller.Id, callee.Id)),
			))
			if err != nil {
				return fmt.Errorf("busy check: %w", err)
			}
			if busy > 0 {
				return salon.Refuse(http.StatusConflict, "call_busy", "One of you is already in a call.")
			}
			return e.Next()
		})
		if err != nil {
			return err
		}
		// The timer fires after this request: it uses the app itself, not
		// e.App (which may be a finished transaction).
		id := e.Record.Id
		timers.Store(id, time.AfterFunc(ringTimeout(app), func() {
			timers.Delete(id)
			markMissed(app, svc, id)
		}))
		return nil
	})

	app.OnRecordUpdateRequest("calls").BindFunc(func(e *core.RecordRequestEvent) error {
		orig := e.Record.Original()
		for _, f := range callServerFields {
			if e.Record.GetString(f) != orig.GetString(f) {
				return e.BadRequestError(fmt.Sprintf("%s is set by the server.", f), nil)
			}
		}
		me := ""
		if e.Auth != nil && !e.HasSuperuserAuth() {
			me = e.Auth.Id
		}
		// The move is judged from the status stored at the save: the ring
		// timer or the other party may have moved the call since
		// PocketBase read it (an accept must not revive a missed call).
		var from, to string
		err := saveOverFresh(e, orig, append([]string{"status"}, callServerFields...), func(fresh *core.Record) error {
			from, to = fresh.GetString("status"), e.Record.GetString("status")
			if from == to {
				return nil
			}
			if err := callTransition(e.Record, me, from, to); err != nil {
				return e.BadRequestError(err.Error(), nil)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if from != to && callOver[to] {
			svc.EndCall(e.Record.Id)
			if to == "missed" {
				notifyMissed(e.App, e.Record)
			}
		}
		return nil
	})

	// After a restart the ring timers are gone: sweep every minute.
	app.Cron().MustAdd("calls_missed", "* * * * *", func() {
		var ids []string
		cutoff := time.Now().Add(-ringTimeout(app)).UTC().Format(types.DefaultDateLayout)
		err := app.DB().Select("id").From("calls").
			Where(dbx.HashExp{"status": "ringing"}).
			AndWhere(dbx.NewExp("created < {:cutoff}", dbx.Params{"cutoff": cutoff})).
			Column(&ids)
		if err != nil {
			app.Logger().Error("calls: sweep", "error", err)
			return
		}
		for _, id := range ids {
			markMissed(app, svc, id)
		}
	})
}

func callRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.POST("/calls/{id}/messages", callMessage).Bind(apis.RequireAuth("users"))
}

// callTransition checks who moves a call from one status to another and
// writes the timestamps. me is "" for a superuser (any move allowed).
func callTransition(call *core.Record, me, from, to string) error {
	caller, callee := call.GetString("caller"), call.GetString("callee")
	now := types.NowDateTime()
	allowed := false
	switch {
	case from == "ringing" && (to == "active" || to == "declined"):
		allowed = me == "" || me == callee
		if to == "active" {
			call.Set("started_at", now)
		}
	case from == "ringing" && to == "missed": // the caller gave up
		allowed = me == "" || me == caller
	case from == "active" && to == "ended":
		allowed = true // either party hangs up
	}
	if !allowed {
		return salon.Refuse(http.StatusBadRequest, "call_transition", "You cannot change this call from %s to %s.", from, to)
	}
	if callOver[to] {
		call.Set("ended_at", now)
		if start := call.GetDateTime("started_at"); !start.IsZero() {
			call.Set("duration", int(now.Time().Sub(start.Time()).Seconds()))
		}
	}
	return nil
}

func ringTimeout(app core.App) time.Duration {
	s, err := salon.Settings(app)
	if err == nil && s.GetInt("call_ring_seconds") > 0 {
		return time.Duration(s.GetInt("call_ring_seconds")) * time.Second
	}
	return 45 * time.Second
}

// markMissed ends a call that is still ringing.
func markMissed(app core.App, svc *rtc.Service, id string) {
	var missed *core.Record
	err := app.RunInTransaction(func(tx core.App) error {
		call, err := tx.FindRecordById("calls", id)
		if err != nil || call.GetString("status") != "ringing" {
			return nil // answered, declined, or gone
		}
		call.Set("status", "missed")
		if err := callTransition(call, "", "ringing", "missed"); err != nil {
			return err
		}
		missed = call
		return tx.Save(call)
	})
	if err != nil {
		app.Logger().Error("calls: mark missed", "call", id, "error", err)
		return
	}
	if missed != nil {
		svc.EndCall(id)
		notifyMissed(app, missed)
	}
}

func notifyMissed(app core.App, call *core.Record) {
	name := "a member"
	if caller, err := app.FindRecordById("users", call.GetString("caller")); err == nil {
		name = caller.GetString("name")
	}
	err := notify.Notify(app, []string{call.GetString("callee")}, notify.Notification{
		Kind:             "missed_call",
		Title:            "Missed call from " + name,
		URL:              "/calls/" + call.Id,
		Vars:             map[string]string{"CALLER": name},
		SourceCollection: "calls",
		SourceID:         call.Id,
	})
	if err != nil {
		app.Logger().Error("calls: notify missed", "call", call.Id, "error", err)
	}
}

// callMessage writes a chat line of a ringing or active call as a DM from
// the caller of the route to the other party. The call itself passed the
// DM policy, so both parties may write during it, whatever the direction.
func callMessage(e *core.RequestEvent) error {
	var in struct {
		Body string `json:"body"`
	}
	if err := e.BindBody(&in); err != nil {
		return e.BadRequestError("Send {body}.", nil)
	}
	in.Body = strings.TrimSpace(in.Body)
	if in.Body == "" || utf8.RuneCountInString(in.Body) > 4000 {
		return e.BadRequestError("Write a message of 1 to 4000 characters.", nil)
	}
	call, err := e.App.FindRecordById("calls", e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("No such call.", nil)
	}
	me, caller, callee := e.Auth.Id, call.GetString("caller"), call.GetString("callee")
	if me != caller && me != callee {
		return salon.Deny("call_parties_only", "Only the two parties of this call can write in it.")
	}
	if !salon.IsMember(e.Auth) {
		return salon.Deny("suspended", "Your account is suspended.")
	}
	if st := call.GetString("status"); st != "ringing" && st != "active" {
		return salon.Refuse(http.StatusConflict, "call_over", "This call is over; send a direct message instead.")
	}
	other := callee
	if me == callee {
		other = caller
	}
	dms, err := e.App.FindCachedCollectionByNameOrId("dm_messages")
	if err != nil {
		return fmt.Errorf("call chat: %w", err)
	}
	msg := core.NewRecord(dms)
	msg.Set("sender", me)
	msg.Set("recipient", other)
	msg.Set("subject", "Call chat")
	msg.Set("body", in.Body)
	if err := e.App.Save(msg); err != nil {
		return fmt.Errorf("call chat: %w", err)
	}
	return e.JSON(http.StatusOK, msg)
}

// AuthorizeCall: only the two parties; the caller may connect while it
// rings, the callee once they accepted.
func (a *rtcAuthz) AuthorizeCall(r *http.Request, id string) (rtc.Grant, error) {
	if err := a.builtinOnly(); err != nil {
		return rtc.Grant{}, err
	}
	return a.authorizeCall(r, id)
}

// authorizeCall decides for both media backends.
func (a *rtcAuthz) authorizeCall(r *http.Request, id string) (rtc.Grant, error) {
	u := a.member(r)
	if u == nil {
		return rtc.Grant{}, rtc.Unauthorized("Sign in to join the call.")
	}
	call, err := a.app.FindRecordById("calls", id)
	if err != nil {
		return rtc.Grant{}, rtc.NotFound("No such call.")
	}
	caller, callee := call.GetString("caller"), call.GetString("callee")
	if u.Id != caller && u.Id != callee {
		return rtc.Grant{}, rtc.Forbidden("Only the two parties of this call can join it.")
	}
	if !salon.IsMember(u) {
		return rtc.Grant{}, rtc.Forbidden("Your account is suspended.")
	}
	switch st := call.GetString("status"); {
	case st == "active":
	case st == "ringing" && u.Id == caller:
	case st == "ringing":
		return rtc.Grant{}, rtc.Conflict("Accept the call first (status=active).")
	default:
		return rtc.Grant{}, rtc.Conflict("This call is over.")
	}
	peer := callee
	if u.Id == callee {
		peer = caller
	}
	return rtc.Grant{User: u.Id, Peer: peer}, nil
}

// callLeft: a party's media stopped (closed tab, network gone). An active
// call ends for both; a ringing call the caller abandoned is missed.
func (a *rtcAuthz) callLeft(id string, g rtc.Grant) {
	var over bool
	var missed *core.Record
	err := a.app.RunInTransaction(func(tx core.App) error {
		call, err := tx.FindRecordById("calls", id)
		if err != nil {
			return nil
		}
		from := call.GetString("status")
		to := ""
		switch {
		case from == "active":
			to = "ended"
		case from == "ringing" && g.User == call.GetString("caller"):
			to = "missed"
		default:
			return nil
		}
		call.Set("status", to)
		if err := callTransition(call, "", from, to); err != nil {
			return err
		}
		over = true
		if to == "missed" {
			missed = call
		}
		return tx.Save(call)
	})
	if err != nil {
		a.app.Logger().Error("calls: party left", "call", id, "error", err)
		return
	}
	if over {
		a.svc.EndCall(id)
	}
	if missed != nil {
		notifyMissed(a.app, missed)
	}
}
