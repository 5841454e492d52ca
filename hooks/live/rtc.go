package live

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
	"salonbase/rtc"
)

// bindRTC starts the media server with the app (rtc.Register) and binds the
// live stream and call features that drive it. The media server decides
// nothing itself: rtcAuthz answers its questions with the policies in policy.go.
func bindRTC(app core.App) {
	a := &rtcAuthz{app: app, uploads: make(chan struct{}, recordingUploads)}
	a.bindCounts(app)
	a.svc = rtc.Register(app, a, rtc.Events{
		StreamLive:  a.streamLive,
		StreamEnded: a.streamEnded,
		// Recordings (recording.go) are attached when the stream ends.
		StreamRecorded: a.streamRecorded,
		ViewerCount:    a.viewerCount,
		CallLeft:       a.callLeft,
	}, rtcConfig)
	// After rtc.Register's: the closing media server finishes the
	// recordings under way, and their uploads complete before the app ends.
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		salon.WaitBackground(e.App)
		return e.Next()
	})
	app.OnServe().BindFunc(a.resumeStreams) // after rtc.Register's: the media server runs
	app.OnRecordAfterUpdateSuccess("live_streams").BindFunc(a.recoverLeftovers)
	bindLive(app, a.svc)
	bindCalls(app, a.svc)
	bindChat(app)
	a.bindLiveKit(app)
}

// rtcConfig reads the media server settings from salon_settings when the
// app starts serving, and whether to offer loopback candidates from the
// app's Config.
func rtcConfig(app core.App) (rtc.Config, error) {
	s, err := salon.Settings(app)
	if err != nil {
		// Serve anyway (default network settings); media must not take the
		// whole app down.
		app.Logger().Warn("rtc: settings unreadable, using defaults", "error", err)
		s = core.NewRecord(core.NewBaseCollection("salon_settings"))
	}
	recDir := recordingsDir(app)
	if err := os.MkdirAll(recDir, 0o700); err != nil {
		return rtc.Config{}, fmt.Errorf("recordings dir: %w", err)
	}
	return rtc.Config{
		RecordDir:       recDir,
		STUNURLs:        strings.Fields(s.GetString("rtc_stun_urls")),
		TURNURLs:        strings.Fields(s.GetString("rtc_turn_urls")),
		TURNSecret:      s.GetString("rtc_turn_secret"),
		TURNPort:        s.GetInt("rtc_turn_port"),
		TURNHost:        s.GetString("rtc_turn_host"),
		PublicIPs:       strings.Fields(s.GetString("rtc_public_ip")),
		UDPPort:         s.GetInt("rtc_udp_port"),
		MaxStreams:      s.GetInt("rtc_max_streams"),
		MaxViewers:      s.GetInt("rtc_max_viewers"),
		MaxCalls:        s.GetInt("rtc_max_calls"),
		IncludeLoopback: ConfigOf(app).Loopback,

		MaxOffersPerMember: ConfigOf(app).MaxOffersPerMember,
	}, nil
}

// rtcAuthz implements rtc.Authorizer; its methods for streams are in
// live.go, for calls in calls.go.
type rtcAuthz struct {
	app core.App
	svc *rtc.Service

	countMu     sync.Mutex
	counts      map[string]int         // viewer counts waiting to be written, by stream
	countTimers map[string]*time.Timer // their writes, by stream
	countsOff   bool                   // the app has terminated
	countSaves  sync.WaitGroup         // writes under way

	uploads    chan struct{} // recordings being attached (recordingUploads at most)
	leftoverMu sync.Mutex
	leftovers  map[string][]string    // files left by a crash, by stream still live (leftovers.go)
	rejoined   map[string][]string    // those of streams recording again, joined to the new file
	lkMu       sync.Mutex             // LiveKit backend (livekit*.go)
	lkTimers   map[string]*time.Timer // "room/identity" → the end of its grace after leaving
	lkOff      bool                   // the app has terminated
	lkWork     sync.WaitGroup         // calls to LiveKit under way

	lkRecs  map[string]*lkRecording // recorders in LiveKit rooms, by stream (livekit_record.go)
	lkWHIPs map[string]*lkWHIP      // WHIP publishers relayed into LiveKit, by session (livekit_whip.go)
}

// member returns the member whose PocketBase token the request carries
// ("Authorization: Bearer <token>" or the bare token the SDK sends), or nil.
func (a *rtcAuthz) member(r *http.Request) *core.Record {
	tok := bearerToken(r)
	if tok == "" {
		return nil
	}
	rec, err := a.app.FindAuthRecordByToken(tok, core.TokenTypeAuth)
	if err != nil || rec == nil || rec.Collection().Name != "users" {
		return nil
	}
	return rec
}

func bearerToken(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		h = strings.TrimSpace(h[7:])
	}
	return h
}

// AuthorizeICE: any active member may have STUN/TURN servers.
func (a *rtcAuthz) AuthorizeICE(r *http.Request) (rtc.Grant, error) {
	u := a.member(r)
	if u == nil {
		return rtc.Grant{}, rtc.Unauthorized("Sign in to get ICE servers.")
	}
	if !salon.IsMember(u) {
		return rtc.Grant{}, rtc.Forbidden("Your account is suspended.")
	}
	return rtc.Grant{Kind: rtc.KindICEConfig, User: u.Id}, nil
}

// StillAllowed re-checks a connected peer: a suspended member, a lowered
// rank, an ended stream or call cut it off. A lookup error other than
// "not found" keeps the peer (a busy database must not drop every viewer).
func (a *rtcAuthz) StillAllowed(g rtc.Grant) bool {
	ok, err := a.stillAllowed(g)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false
		}
		var d *salon.Refusal
		if errors.As(err, &d) {
			return false
		}
		a.app.Logger().Warn("rtc recheck failed", "kind", g.Kind, "resource", g.Resource, "error", err)
		return true
	}
	return ok
}

func (a *rtcAuthz) stillAllowed(g rtc.Grant) (bool, error) {
	switch g.Kind {
	case rtc.KindPublish:
		stream, host, err := a.streamAndUser(g.Resource, g.User)
		if err != nil {
			return false, err
		}
		return stream.GetString("status") != "ended", CanBroadcast(a.app, host)
	case rtc.KindView:
		stream, viewer, err := a.streamAndUser(g.Resource, g.User)
		if err != nil {
			return false, err
		}
		return stream.GetString("status") != "ended", CanWatch(a.app, viewer, stream)
	case rtc.KindCallSend, rtc.KindCallRecv:
		call, err := a.app.FindRecordById("calls", g.Resource)
		if err != nil {
			return false, err
		}
		u, err := a.app.FindRecordById("users", g.User)
		if err != nil {
			return false, err
		}
		st := call.GetString("status")
		return salon.IsMember(u) && (st == "active" || st == "ringing"), nil
	}
	return false, nil
}

func (a *rtcAuthz) streamAndUser(streamID, userID string) (*core.Record, *core.Record, error) {
	stream, err := a.app.FindRecordById("live_streams", streamID)
	if err != nil {
		return nil, nil, err
	}
	u, err := a.app.FindRecordById("users", userID)
	if err != nil {
		return nil, nil, err
	}
	return stream, u, nil
}

// rtcError turns a policy refusal into a 403 with its reason.
func rtcError(err error) error {
	var d *salon.Refusal
	if errors.As(err, &d) {
		return rtc.Forbidden(d.Reason)
	}
	return err
}

// resumeStreams: a stream still live in the database was live when the
// server last stopped (the media server does not end streams when it
// stops). Its host's studio publishes again by itself; the media server
// gives it the rejoin window and otherwise ends it (streamEnded). The old
// viewer count is gone with the old connections. Recordings the last
// process left behind are dealt with first (leftovers.go).
func (a *rtcAuthz) resumeStreams(e *core.ServeEvent) error {
	a.recoverRecordings(e.App)
	live, err := e.App.FindAllRecords("live_streams", dbx.HashExp{"status": "live"})
	if err != nil {
		e.App.Logger().Error("live: streams to resume", "error", err)
		return e.Next()
	}
	for _, st := range live {
		if st.GetInt("viewer_count") != 0 {
			st.Set("viewer_count", 0)
			if err := e.App.Save(st); err != nil {
				e.App.Logger().Error("live: reset viewer count", "stream", st.Id, "error", err)
			}
		}
		a.svc.AwaitStream(st.Id)
	}
	return e.Next()
}
