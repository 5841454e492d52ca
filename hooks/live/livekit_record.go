package live

import (
	"fmt"
	"sync"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/rtc"
)

// Recordings on LiveKit. LiveKit's own recorder (Egress) needs GStreamer
// or Chrome beside it; ours ships in this binary. When a stream to be
// recorded goes live, the server joins its LiveKit room as a hidden,
// subscribe-only participant (lkRecorderIdentity), takes the host's tracks
// as any viewer does, and writes them with the embedded media server's
// recorder (rtc.TrackRecording): the same WebM file in the same
// recordings dir, attached to the stream by the same path when it ends
// (recording.go), so replay, the rank rule on the file and a crash's
// leftovers (leftovers.go) work as on the embedded server. Hidden: LiveKit
// does not list it to the room's members, and the viewer count and the
// re-checks of access skip it.

// lkRecorderIdentity is the recorder's identity in LiveKit rooms; the
// hyphen keeps it apart from every member's (PocketBase ids are [a-z0-9]).
const lkRecorderIdentity = "salon-recorder"

// lkRecording is the recorder in one stream's room.
type lkRecording struct {
	host string
	rec  *rtc.TrackRecording

	mu      sync.Mutex
	room    *lksdk.Room
	stopped bool
}

// recorderToken lets the recorder into room hidden, subscribing only.
// Recorder makes LiveKit tell the room's members that it is recorded.
func (lk liveKit) recorderToken(room string) (string, error) {
	g := &auth.VideoGrant{RoomJoin: true, Room: room, Hidden: true, Recorder: true}
	g.SetCanPublish(false)
	g.SetCanSubscribe(true)
	g.SetCanPublishData(false)
	g.SetCanUpdateOwnMetadata(false)
	jwt, err := auth.NewAccessToken(lk.APIKey, lk.APISecret).
		SetVideoGrant(g).
		SetIdentity(lkRecorderIdentity).
		SetValidFor(lkTokenTTL).
		ToJWT()
	if err != nil {
		return "", fmt.Errorf("livekit recorder token: %w", err)
	}
	return jwt, nil
}

// lkRecord starts recording stream in its LiveKit room when the stream is
// to be recorded and no recorder is there yet (its host published a track:
// first, or again after a restart of this server).
func (a *rtcAuthz) lkRecord(lk liveKit, stream *core.Record) {
	if !stream.GetBool("record") || stream.GetString("status") == "ended" {
		return
	}
	id := stream.Id
	r := &lkRecording{host: stream.GetString("host"), rec: rtc.NewTrackRecording(recordingsDir(a.app), id)}
	if !a.lkBegin(func() bool {
		if a.lkRecs[id] != nil {
			return false
		}
		if a.lkRecs == nil {
			a.lkRecs = map[string]*lkRecording{}
		}
		a.lkRecs[id] = r
		return true
	}) {
		return
	}
	// Files a crash left of this stream are joined before the new one.
	a.recordingAgain(id)
	go func() {
		defer a.lkWork.Done()
		if err := r.join(a, lk, liveRoom(id)); err != nil {
			a.app.Logger().Error("livekit: the recorder cannot join; the stream is not recorded", "stream", id, "error", err)
			a.lkMu.Lock()
			if a.lkRecs[id] == r {
				delete(a.lkRecs, id)
			}
			a.lkMu.Unlock()
		}
	}()
}

// join connects the recorder to room and records the host's tracks as they
// come (a reload or a switch of camera brings new ones).
func (r *lkRecording) join(a *rtcAuthz, lk liveKit, room string) error {
	tok, err := lk.recorderToken(room)
	if err != nil {
		return err
	}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		if rp.Identity() != r.host {
			return
		}
		if track.Kind() == webrtc.RTPCodecTypeVideo {
			// The best layer of a simulcast camera, as on the embedded server.
			_ = pub.SetVideoQuality(livekit.VideoQuality_HIGH)
		}
		pub.OnRTCP(func(p rtcp.Packet) {
			if sr, ok := p.(*rtcp.SenderReport); ok {
				r.rec.SenderReport(sr)
			}
		})
		ssrc := track.SSRC()
		if err := r.rec.Add(track, func() { rp.WritePLI(ssrc) }); err != nil {
			a.app.Logger().Warn("livekit: a track is not recorded", "room", room, "error", err)
		}
	}
	lkRoom, err := lksdk.ConnectToRoomWithToken(lk.URL, tok, cb, lksdk.WithAutoSubscribe(true))
	if err != nil {
		return fmt.Errorf("join %s: %w", room, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped { // the stream ended while we joined
		lkRoom.Disconnect()
		return nil
	}
	r.room = lkRoom
	return nil
}

// leave disconnects the recorder and closes its file, which the caller
// owns then ("" when nothing was recorded).
func (r *lkRecording) leave() (path string, frames int, err error) {
	r.mu.Lock()
	room := r.room
	r.stopped, r.room = true, nil
	r.mu.Unlock()
	if room != nil {
		room.Disconnect()
	}
	return r.rec.Finish()
}

// lkStopRecording ends stream id's recording, if one runs, and hands the
// file to the same attachment as the embedded server's recordings.
func (a *rtcAuthz) lkStopRecording(id string) {
	a.lkMu.Lock()
	r := a.lkRecs[id]
	delete(a.lkRecs, id)
	a.lkMu.Unlock()
	if r == nil {
		return
	}
	path, frames, err := r.leave()
	if n := r.rec.Dropped(); n > 0 {
		a.app.Logger().Warn("livekit: recording queue overflowed", "stream", id, "packets", n)
	}
	if err != nil {
		a.app.Logger().Error("livekit: recording failed", "stream", id, "error", err)
		return
	}
	a.app.Logger().Debug("livekit: recording finished", "stream", id, "frames", frames)
	a.streamRecorded(id, path)
}

// lkStopRecordingsForShutdown closes every recording's file as the app
// terminates, without attaching it: the stream is still live in the
// database, and the next start treats the file as one a crash left
// (leftovers.go), joined to the recording of the stream's rest. Called
// with lkMu held.
func (a *rtcAuthz) lkStopRecordingsForShutdown() {
	for id, r := range a.lkRecs {
		delete(a.lkRecs, id)
		if _, _, err := r.leave(); err != nil {
			a.app.Logger().Warn("livekit: recording closed at shutdown", "stream", id, "error", err)
		}
	}
}

// lkHidden says whether p is the recorder, which is nobody's viewer.
func lkHidden(p *livekit.ParticipantInfo) bool {
	return p.GetIdentity() == lkRecorderIdentity || p.GetPermission().GetHidden()
}

// lkStopRecordingLater ends stream id's recording off the save that ended
// or deleted the stream (leaving the room waits on LiveKit).
func (a *rtcAuthz) lkStopRecordingLater(id string) {
	if !a.lkBegin(func() bool { return a.lkRecs[id] != nil }) {
		return
	}
	go func() {
		defer a.lkWork.Done()
		a.lkStopRecording(id)
	}()
}

// lkResumeRecordings: LiveKit's rooms outlive a restart of this server, so
// a recorded stream still live when it starts gets its recorder back (the
// file closed at shutdown is joined before the new one).
func (a *rtcAuthz) lkResumeRecordings(app core.App) {
	backend, lk, err := mediaBackend(app)
	if err != nil || backend != "livekit" {
		return
	}
	live, err := app.FindAllRecords("live_streams", dbx.HashExp{"status": "live"})
	if err != nil {
		app.Logger().Error("livekit: recorded streams to resume", "error", err)
		return
	}
	for _, st := range live {
		a.lkRecord(lk, st)
	}
}
