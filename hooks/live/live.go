package live

import (
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/members"
	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
	"salonbase/rtc"
)

// Live streams: a member allowed to broadcast creates a live_streams
// record, publishes to /api/rtc/live/{id}/whip (with their token, or the
// stream key in OBS), and the media server's events move the record
// scheduled → live → ended and keep viewer_count current.

// Fields only the server writes.
var liveServerFields = []string{"host", "viewer_count", "started_at", "ended_at", "stream_key"}

// The fields the media server and the recorder write while a host may be
// editing the stream.
var liveMovingFields = []string{"status", "viewer_count", "started_at", "ended_at", "stream_key", "recording"}

func bindLive(app core.App, svc *rtc.Service) {
	app.OnRecordCreateRequest("live_streams").BindFunc(func(e *core.RecordRequestEvent) error {
		if !e.HasSuperuserAuth() {
			e.Record.Set("host", e.Auth.Id)
		}
		if strings.TrimSpace(e.Record.GetString("title")) == "" {
			return e.BadRequestError("Give the stream a title.", nil)
		}
		host, err := e.App.FindRecordById("users", e.Record.GetString("host"))
		if err != nil {
			return e.BadRequestError("Say who hosts the stream (host).", nil)
		}
		if err := CanBroadcast(e.App, host); err != nil {
			return err
		}
		if err := checkRecordFields(e, nil); err != nil {
			return err
		}
		key, err := newStreamKey()
		if err != nil {
			return err
		}
		e.Record.Set("status", "scheduled")
		e.Record.Set("viewer_count", 0)
		e.Record.Set("started_at", "")
		e.Record.Set("ended_at", "")
		e.Record.Set("stream_key", key)
		return e.Next()
	})

	app.OnRecordUpdateRequest("live_streams").BindFunc(func(e *core.RecordRequestEvent) error {
		orig := e.Record.Original()
		if !e.HasSuperuserAuth() {
			for _, f := range liveServerFields {
				if e.Record.GetString(f) != orig.GetString(f) {
					return e.BadRequestError(fmt.Sprintf("%s is set by the server.", f), nil)
				}
			}
		}
		if err := checkRecordFields(e, orig); err != nil {
			return err
		}
		from, to := orig.GetString("status"), e.Record.GetString("status")
		ending := from != to && to == "ended"
		if from != to && !ending {
			return e.BadRequestError("A stream goes live when its media arrives; you can only end it (status=ended).", nil)
		}
		if ending {
			e.Record.Set("ended_at", types.NowDateTime())
			e.Record.Set("viewer_count", 0)
		}
		if err := saveOverFresh(e, orig, liveMovingFields, nil); err != nil {
			return err
		}
		if ending {
			svc.EndStream(e.Record.Id)
		}
		return nil
	})

	app.OnRecordDeleteRequest("live_streams").BindFunc(func(e *core.RecordRequestEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		svc.EndStream(e.Record.Id)
		return nil
	})
}

func liveRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	l := g.Group("/live")
	l.GET("/{id}/key", streamKey(false)).Bind(apis.RequireAuth("users", core.CollectionNameSuperusers))
	l.POST("/{id}/key", streamKey(true)).Bind(apis.RequireAuth("users", core.CollectionNameSuperusers))
	l.DELETE("/{id}/recording", deleteRecording).Bind(apis.RequireAuth("users", core.CollectionNameSuperusers))
}

// streamKey shows (or, with rotate, replaces) the key the host pastes into
// OBS as its WHIP bearer token. Only the host and admins see it.
func streamKey(rotate bool) func(e *core.RequestEvent) error {
	return func(e *core.RequestEvent) error {
		stream, err := e.App.FindRecordById("live_streams", e.Request.PathValue("id"))
		if err != nil || (stream.GetString("host") != e.Auth.Id && !salon.IsAdmin(e.Auth)) {
			// Others learn nothing, not even that the stream exists.
			return e.NotFoundError("No such live stream.", nil)
		}
		if !salon.IsAdmin(e.Auth) && !salon.IsMember(e.Auth) {
			return salon.Deny("suspended", "Your account is suspended.")
		}
		if rotate {
			key, err := newStreamKey()
			if err != nil {
				return err
			}
			// over the stream as it is now (a recording may have been
			// attached since the read above)
			saved, err := updateStream(e.App, stream.Id, func(s *core.Record) bool {
				s.Set("stream_key", key)
				return true
			})
			if err != nil {
				return fmt.Errorf("rotate stream key: %w", err)
			}
			if saved == nil {
				return e.NotFoundError("No such live stream.", nil)
			}
			stream = saved
		}
		return e.JSON(http.StatusOK, map[string]any{
			"stream_key": stream.GetString("stream_key"),
			"whip_url":   "/api/rtc/live/" + stream.Id + "/whip",
		})
	}
}

func newStreamKey() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("stream key: %w", err)
	}
	return "sk_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// AuthorizePublish: the host (token) or the stream key (OBS), while the
// host may broadcast and the stream is not over.
func (a *rtcAuthz) AuthorizePublish(r *http.Request, id string) (rtc.Grant, error) {
	if err := a.builtinOnly(); err != nil {
		return rtc.Grant{}, err
	}
	return a.authorizePublish(r, id)
}

// authorizePublish decides for both media backends.
func (a *rtcAuthz) authorizePublish(r *http.Request, id string) (rtc.Grant, error) {
	stream, err := a.app.FindRecordById("live_streams", id)
	if err != nil {
		return rtc.Grant{}, rtc.NotFound("No such live stream.")
	}
	tok := bearerToken(r)
	key := stream.GetString("stream_key")
	byKey := tok != "" && key != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(key)) == 1
	if !byKey {
		u := a.member(r)
		if u == nil {
			return rtc.Grant{}, rtc.Unauthorized("Sign in as the host, or use the stream key as the bearer token.")
		}
		if u.Id != stream.GetString("host") {
			return rtc.Grant{}, rtc.Forbidden("Only the host of this stream can publish to it.")
		}
	}
	if stream.GetString("status") == "ended" {
		return rtc.Grant{}, rtc.Conflict("This stream has ended; create a new one to go live again.")
	}
	host, err := a.app.FindRecordById("users", stream.GetString("host"))
	if err != nil {
		return rtc.Grant{}, rtc.NotFound("The host of this stream no longer exists.")
	}
	if err := CanBroadcast(a.app, host); err != nil {
		return rtc.Grant{}, rtcError(err)
	}
	return rtc.Grant{User: host.Id, Record: stream.GetBool("record")}, nil
}

// AuthorizeView: members whose rank reaches the stream's minimum.
func (a *rtcAuthz) AuthorizeView(r *http.Request, id string) (rtc.Grant, error) {
	if err := a.builtinOnly(); err != nil {
		return rtc.Grant{}, err
	}
	return a.authorizeView(r, id)
}

// authorizeView decides for both media backends.
func (a *rtcAuthz) authorizeView(r *http.Request, id string) (rtc.Grant, error) {
	u := a.member(r)
	if u == nil {
		return rtc.Grant{}, rtc.Unauthorized("Sign in to watch.")
	}
	stream, err := a.app.FindRecordById("live_streams", id)
	if err != nil {
		return rtc.Grant{}, rtc.NotFound("No such live stream.")
	}
	if err := CanWatch(a.app, u, stream); err != nil {
		return rtc.Grant{}, rtcError(err)
	}
	if stream.GetString("status") == "ended" {
		return rtc.Grant{}, rtc.Conflict("This stream has ended.")
	}
	return rtc.Grant{User: u.Id}, nil
}

// streamLive: the host's media arrived. The record goes live and the
// host's followers who may watch hear of it.
func (a *rtcAuthz) streamLive(id string, publisher rtc.Grant) {
	if publisher.Record {
		if st, err := a.app.FindRecordById("live_streams", id); err == nil && st.GetString("status") != "ended" {
			a.recordingAgain(id)
		}
	}
	resumed := false
	stream, err := updateStream(a.app, id, func(stream *core.Record) bool {
		if stream.GetString("status") == "ended" {
			return false // ended meanwhile
		}
		// live again after a server restart: the followers heard it already
		resumed = stream.GetString("status") == "live" && !stream.GetDateTime("started_at").IsZero()
		stream.Set("status", "live")
		stream.Set("viewer_count", 0)
		if stream.GetDateTime("started_at").IsZero() {
			stream.Set("started_at", types.NowDateTime())
		}
		return true
	})
	if err != nil {
		a.app.Logger().Error("live: mark live", "stream", id, "error", err)
		return
	}
	if stream == nil || resumed {
		return
	}
	host, err := a.app.FindRecordById("users", stream.GetString("host"))
	if err != nil {
		return
	}
	followers, err := members.FollowerIDs(a.app, host.Id)
	if err != nil {
		a.app.Logger().Error("live: followers", "stream", id, "error", err)
		return
	}
	var watchers []string
	for _, fid := range followers {
		f, err := a.app.FindRecordById("users", fid)
		if err == nil && CanWatch(a.app, f, stream) == nil {
			watchers = append(watchers, fid)
		}
	}
	err = notify.Notify(a.app, watchers, notify.Notification{
		Kind:             "live",
		Title:            host.GetString("name") + " is live",
		Body:             stream.GetString("title"),
		URL:              "/live/" + id,
		SourceCollection: "live_streams",
		SourceID:         id,
		Vars:             map[string]string{"HOST": host.GetString("name"), "STREAM": stream.GetString("title")},
	})
	if err != nil {
		a.app.Logger().Error("live: notify followers", "stream", id, "error", err)
	}
}

// streamEnded: the publisher left (DELETE, closed tab, cut off).
func (a *rtcAuthz) streamEnded(id string) {
	_, err := updateStream(a.app, id, func(stream *core.Record) bool {
		if stream.GetString("status") == "ended" && stream.GetInt("viewer_count") == 0 {
			return false
		}
		if stream.GetString("status") != "ended" {
			stream.Set("status", "ended")
			stream.Set("ended_at", types.NowDateTime())
		}
		stream.Set("viewer_count", 0)
		return true
	})
	if err != nil {
		a.app.Logger().Error("live: mark ended", "stream", id, "error", err)
	}
}

// updateStream reads the stream afresh in a transaction and saves it if
// change says so. The media server's writes (live, ended, the viewer
// count) come from its own goroutines beside the recording's attachment
// and the host's edits: a save of a record read before one of those
// landed would write every column back as it was, and lose it (a
// recording attached a moment after the stream ended was cleared so).
// Transactions take the one writer in turn, so the read inside is current.
func updateStream(app core.App, id string, change func(stream *core.Record) bool) (*core.Record, error) {
	var saved *core.Record
	err := app.RunInTransaction(func(tx core.App) error {
		stream, err := tx.FindRecordById("live_streams", id)
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil // deleted meanwhile
			}
			return err
		}
		if !change(stream) {
			return nil
		}
		saved = stream
		return tx.Save(stream)
	})
	return saved, err
}

// viewerCount keeps viewer_count current (realtime subscribers see it).
// Joins and leaves are coalesced to one write per stream per second: each
// write is broadcast to every subscriber, so writing per join would cost
// viewers² rule checks when a crowd arrives at once.
func (a *rtcAuthz) viewerCount(id string, n int) {
	a.countMu.Lock()
	defer a.countMu.Unlock()
	if a.countsOff {
		return
	}
	if a.counts == nil {
		a.counts, a.countTimers = map[string]int{}, map[string]*time.Timer{}
	}
	_, scheduled := a.counts[id]
	a.counts[id] = n
	if scheduled {
		return
	}
	a.countTimers[id] = time.AfterFunc(time.Second, func() {
		a.countMu.Lock()
		if a.countsOff {
			a.countMu.Unlock()
			return
		}
		n := a.counts[id]
		delete(a.counts, id)
		delete(a.countTimers, id)
		a.countSaves.Add(1)
		a.countMu.Unlock()
		defer a.countSaves.Done()
		a.saveViewerCount(id, n)
	})
}

// bindCounts stops the pending viewer-count writes when the app terminates
// and waits for a write under way: none may run on a closed app (counts the
// closing media server reports after this are dropped; the streams end).
func (a *rtcAuthz) bindCounts(app core.App) {
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		a.countMu.Lock()
		a.countsOff = true
		for id, t := range a.countTimers {
			t.Stop()
			delete(a.countTimers, id)
			delete(a.counts, id)
		}
		a.countMu.Unlock()
		a.countSaves.Wait()
		return e.Next()
	})
}

func (a *rtcAuthz) saveViewerCount(id string, n int) {
	_, err := updateStream(a.app, id, func(stream *core.Record) bool {
		if stream.GetString("status") != "live" || stream.GetInt("viewer_count") == n {
			return false
		}
		stream.Set("viewer_count", n)
		return true
	})
	if err != nil {
		a.app.Logger().Error("live: viewer count", "stream", id, "error", err)
	}
}
