package live

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"salonbase/hooks/salon"
	"salonbase/rtc"
)

// WHIP (OBS) on LiveKit, without LiveKit's Ingress service. The WHIP URL
// and stream key are those of the embedded media server; while LiveKit is
// the media backend this binary answers the publisher's offer itself (a
// Pion peer connection) and republishes what it receives into the
// stream's LiveKit room as the host's participant, through LiveKit's Go
// SDK: the RTP packets as they come (no transcoding), and LiveKit's
// keyframe requests passed back to the publisher. To LiveKit, the webhooks
// and the re-checks of access it is the host in the room, as from the
// studio. On the embedded backend the same routes go to rtc/.

// whipMaxSDP bounds an offer (the embedded server's default).
const whipMaxSDP = 64 << 10

// whipGather bounds gathering our candidates before answering.
const whipGather = 10 * time.Second

// lkWHIP is one WHIP publisher relayed into a LiveKit room.
type lkWHIP struct {
	id     string // the session in the Location (a 128-bit secret)
	stream string
	pc     *webrtc.PeerConnection
	room   *lksdk.Room

	mu    sync.Mutex
	video bool // a video track is relayed (one: a simulcast offer's top layer)
	once  sync.Once
}

// bindLiveKitWHIP takes the WHIP routes over while LiveKit is the media
// backend (more specific than rtc/'s "/api/rtc/{path...}").
func (a *rtcAuthz) bindLiveKitWHIP(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.POST("/api/rtc/live/{id}/whip", a.lkWHIPOffer)
		se.Router.DELETE("/api/rtc/live/{id}/whip/{sid}", a.lkWHIPSession)
		se.Router.PATCH("/api/rtc/live/{id}/whip/{sid}", a.lkWHIPSession)
		return se.Next()
	})
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		a.lkMu.Lock()
		open := make([]*lkWHIP, 0, len(a.lkWHIPs))
		for _, s := range a.lkWHIPs {
			open = append(open, s)
		}
		a.lkMu.Unlock()
		for _, s := range open {
			s.close(a)
		}
		return e.Next()
	})
}

// toRTC hands a request to the embedded media server.
func (a *rtcAuthz) toRTC(e *core.RequestEvent) error {
	srv := a.svc.Server()
	if srv == nil {
		return e.Error(http.StatusServiceUnavailable, "The media server is not running.", nil)
	}
	srv.Handler().ServeHTTP(e.Response, e.Request)
	return nil
}

// lkWHIPOffer: POST /api/rtc/live/{id}/whip on LiveKit. The checks are the
// embedded server's (authorizePublish: the stream key or the host's
// token, the host may broadcast, the stream is not over).
func (a *rtcAuthz) lkWHIPOffer(e *core.RequestEvent) error {
	backend, lk, err := mediaBackend(e.App)
	if err != nil {
		return err
	}
	if backend != "livekit" {
		return a.toRTC(e)
	}
	id := e.Request.PathValue("id")
	offer, err := readWHIPOffer(e.Request)
	if err != nil {
		return err
	}
	g, err := a.authorizePublish(e.Request, id)
	if err != nil {
		return apiError(err)
	}
	// Each offer joins LiveKit's room: the embedded server's per-member
	// limit on offers applies here too.
	if err := a.svc.AllowOffer(g.User); err != nil {
		if re, ok := errors.AsType[*rtc.Error](err); ok && re.RetryAfter > 0 {
			e.Response.Header().Set("Retry-After", strconv.Itoa(re.RetryAfter))
		}
		return apiError(err)
	}
	s := &lkWHIP{id: newWHIPID(), stream: id}
	var replaced []*lkWHIP
	ok := a.lkBegin(func() bool {
		for _, o := range a.lkWHIPs {
			if o.stream == id {
				replaced = append(replaced, o)
			}
		}
		if a.lkWHIPs == nil {
			a.lkWHIPs = map[string]*lkWHIP{}
		}
		a.lkWHIPs[s.id] = s
		return true
	})
	if !ok {
		return e.Error(http.StatusServiceUnavailable, "The server is shutting down.", nil)
	}
	defer a.lkWork.Done()
	// The publisher is back (OBS restarted, a new network): it takes over,
	// as on the embedded server.
	for _, o := range replaced {
		o.close(a)
	}
	answer, err := s.start(a, lk, g.User, offer)
	if err != nil {
		s.close(a)
		return err
	}
	e.Response.Header().Set("Location", "/api/rtc/live/"+id+"/whip/"+s.id)
	e.Response.Header().Set("Content-Type", "application/sdp")
	e.Response.WriteHeader(http.StatusCreated)
	_, err = io.WriteString(e.Response, answer)
	return err
}

// lkWHIPSession: DELETE (the publisher stops: the stream ends) or PATCH (trickle ICE, not
// offered: the answer carries every candidate) of a relayed session; other
// sessions are the embedded server's.
func (a *rtcAuthz) lkWHIPSession(e *core.RequestEvent) error {
	a.lkMu.Lock()
	s := a.lkWHIPs[e.Request.PathValue("sid")]
	a.lkMu.Unlock()
	if s == nil || s.stream != e.Request.PathValue("id") {
		return a.toRTC(e)
	}
	if e.Request.Method == http.MethodPatch {
		e.Response.Header().Set("Allow", "OPTIONS, DELETE")
		return e.Error(http.StatusMethodNotAllowed, "This session takes no trickled candidates: the answer has them all.", nil)
	}
	// the publisher is done: the stream ends now, as on the embedded server
	s.close(a)
	a.streamEnded(s.stream)
	return e.NoContent(http.StatusOK)
}

// readWHIPOffer checks the offer before any lookup: content type (415),
// size (413), that it parses and sends media (400).
func readWHIPOffer(r *http.Request) (string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/sdp" {
		return "", router.NewApiError(http.StatusUnsupportedMediaType, "The body must be an SDP offer (Content-Type: application/sdp).", nil)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, whipMaxSDP+1))
	if err != nil {
		return "", router.NewBadRequestError("Could not read the offer.", nil)
	}
	if len(body) > whipMaxSDP {
		return "", router.NewApiError(http.StatusRequestEntityTooLarge, fmt.Sprintf("The SDP offer is larger than %d bytes.", whipMaxSDP), nil)
	}
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(body)}
	sd, err := desc.Unmarshal()
	if err != nil {
		return "", router.NewBadRequestError("Invalid SDP offer: "+err.Error(), nil)
	}
	sending := 0
	for _, md := range sd.MediaDescriptions {
		if k := md.MediaName.Media; k != "audio" && k != "video" {
			continue
		}
		_, recvonly := md.Attribute("recvonly")
		_, inactive := md.Attribute("inactive")
		if !recvonly && !inactive {
			sending++
		}
	}
	if sending == 0 {
		return "", router.NewBadRequestError("The WHIP offer sends no media.", nil)
	}
	return string(body), nil
}

func newWHIPID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// whipAPI builds the publisher side's Pion API: default codecs and
// interceptors (NACKs to the publisher, receiver reports), the same public
// addresses as the embedded server, loopback candidates when configured.
func (a *rtcAuthz) whipAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if ConfigOf(a.app).Loopback {
		se.SetIncludeLoopbackCandidate(true)
	}
	if s, err := salon.Settings(a.app); err == nil {
		if ips := strings.Fields(s.GetString("rtc_public_ip")); len(ips) > 0 {
			// behind a 1:1 NAT: announce the public address, as rtc/ does
			err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
				External:        ips,
				AsCandidateType: webrtc.ICECandidateTypeHost,
				Mode:            webrtc.ICEAddressRewriteReplace,
			})
			if err != nil {
				return nil, fmt.Errorf("public ips: %w", err)
			}
		}
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// start joins the stream's LiveKit room as the host, answers the offer and
// relays the tracks as they arrive.
func (s *lkWHIP) start(a *rtcAuthz, lk liveKit, host, offer string) (string, error) {
	api, err := a.whipAPI()
	if err != nil {
		return "", fmt.Errorf("whip api: %w", err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", fmt.Errorf("whip peer connection: %w", err)
	}
	s.mu.Lock()
	s.pc = pc
	s.mu.Unlock()
	name := ""
	if u, err := a.app.FindRecordById("users", host); err == nil {
		name = u.GetString("name")
	}
	tok, err := lk.token(liveRoom(s.stream), host, name, true)
	if err != nil {
		return "", err
	}
	cb := lksdk.NewRoomCallback()
	// removed (access revoked), the room closed (the stream ended), or
	// LiveKit gave up: the publisher is cut off as on the embedded server
	cb.OnDisconnected = func() { go s.close(a) }
	room, err := lksdk.ConnectToRoomWithToken(lk.URL, tok, cb, lksdk.WithAutoSubscribe(false))
	if err != nil {
		a.app.Logger().Error("livekit whip: cannot join the room", "stream", s.stream, "error", err)
		return "", router.NewApiError(http.StatusBadGateway, "LiveKit cannot be reached; try again.", nil)
	}
	s.mu.Lock()
	s.room = room
	s.mu.Unlock()
	pc.OnTrack(func(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { go s.relay(a, remote) })
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			go s.close(a)
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", router.NewBadRequestError("The offer cannot be answered: "+err.Error(), nil)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", router.NewBadRequestError("The offer cannot be answered: "+err.Error(), nil)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("whip answer: %w", err)
	}
	select {
	case <-gathered:
	case <-time.After(whipGather):
	}
	return pc.LocalDescription().SDP, nil
}

// relay publishes one of the publisher's tracks into the room and writes
// its RTP there until it ends. Only one video track goes: of a simulcast
// offer (RIDs q/h/f as browsers name them) the top layer "f", else the
// first to arrive.
func (s *lkWHIP) relay(a *rtcAuthz, remote *webrtc.TrackRemote) {
	video := remote.Kind() == webrtc.RTPCodecTypeVideo
	if video {
		rid := remote.RID()
		s.mu.Lock()
		skip := s.video || rid == "q" || rid == "h"
		s.video = s.video || !skip
		s.mu.Unlock()
		if skip {
			for { // read and drop: the interceptors need it
				if _, _, err := remote.ReadRTP(); err != nil {
					return
				}
			}
		}
	}
	s.mu.Lock()
	pc, room := s.pc, s.room
	s.mu.Unlock()
	ssrc := uint32(remote.SSRC())
	keyframe := func() {
		_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	}
	local, err := lksdk.NewLocalTrack(remote.Codec().RTPCodecCapability, lksdk.WithRTCPHandler(func(p rtcp.Packet) {
		switch p.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			keyframe() // LiveKit asks for a keyframe (a new viewer, a loss)
		}
	}))
	if err != nil {
		a.app.Logger().Warn("livekit whip: a track is not relayed", "stream", s.stream, "codec", remote.Codec().MimeType, "error", err)
		return
	}
	source := livekit.TrackSource_MICROPHONE
	if video {
		source = livekit.TrackSource_CAMERA
		local.OnBind(keyframe) // LiveKit's viewers start from a keyframe
	}
	if _, err := room.LocalParticipant.PublishTrack(local, &lksdk.TrackPublicationOptions{Name: remote.Kind().String(), Source: source}); err != nil {
		a.app.Logger().Warn("livekit whip: publish", "stream", s.stream, "error", err)
		s.close(a)
		return
	}
	for {
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				a.app.Logger().Debug("livekit whip: track ended", "stream", s.stream, "error", err)
			}
			return
		}
		// header extensions were negotiated with the publisher, not with
		// LiveKit: their ids mean nothing there
		pkt.Extension, pkt.Extensions = false, nil
		if err := local.WriteRTP(pkt, nil); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			return
		}
	}
}

// close ends the session: the publisher's connection and the host's place
// in the room (LiveKit's webhook then gives the host the 15 s to come back,
// as the embedded server does).
func (s *lkWHIP) close(a *rtcAuthz) {
	s.once.Do(func() {
		a.lkMu.Lock()
		if a.lkWHIPs[s.id] == s {
			delete(a.lkWHIPs, s.id)
		}
		a.lkMu.Unlock()
		s.mu.Lock()
		pc, room := s.pc, s.room
		s.mu.Unlock()
		if room != nil {
			room.Disconnect()
		}
		if pc != nil {
			_ = pc.Close()
		}
	})
}
