package rtc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Handler serves the media API:
//
//	POST   /api/rtc/live/{id}/whip          publish (WHIP, RFC 9725): SDP offer in, 201 + answer + Location
//	DELETE /api/rtc/live/{id}/whip/{sid}    end the stream
//	POST   /api/rtc/live/{id}/whep          watch (WHEP): 201 + answer + Location
//	DELETE /api/rtc/live/{id}/whep/{sid}    leave
//	POST   /api/rtc/calls/{id}/publish      a call party sends camera + microphone
//	POST   /api/rtc/calls/{id}/subscribe    a call party receives the other party
//	DELETE /api/rtc/calls/{id}/{publish|subscribe}/{sid}
//	GET    /api/rtc/ice-servers             STUN/TURN servers (short-lived TURN credentials)
//
//	PATCH  .../{sid}                        trickle ICE candidates / ICE restart (patch.go)
//
// OPTIONS on an endpoint answers which methods and content type it takes.
func (s *Server) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/rtc/live/{id}/whip", s.handlePublish)
	m.HandleFunc("POST /api/rtc/live/{id}/whep", s.handleView)
	m.HandleFunc("POST /api/rtc/calls/{id}/publish", s.handleCall(KindCallSend))
	m.HandleFunc("POST /api/rtc/calls/{id}/subscribe", s.handleCall(KindCallRecv))
	for _, p := range []string{"/api/rtc/live/{id}/whip", "/api/rtc/live/{id}/whep",
		"/api/rtc/calls/{id}/publish", "/api/rtc/calls/{id}/subscribe"} {
		m.HandleFunc(p, notAllowed("OPTIONS, POST"))
		m.HandleFunc(p+"/{sid}", notAllowed("OPTIONS, PATCH, DELETE"))
		m.HandleFunc("OPTIONS "+p, endpointOptions)
		m.HandleFunc("DELETE "+p+"/{sid}", s.handleDelete)
		m.HandleFunc("PATCH "+p+"/{sid}", s.handlePatch)
		m.HandleFunc("OPTIONS "+p+"/{sid}", sessionOptions)
	}
	m.HandleFunc("GET /api/rtc/ice-servers", s.handleICEServers)
	m.HandleFunc("/api/rtc/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, Errorf(http.StatusNotFound, "no such media endpoint"))
	})
	return m
}

func notAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, Errorf(http.StatusMethodNotAllowed, "%s is not allowed here (allowed: %s)", r.Method, allow))
	}
}

func endpointOptions(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "OPTIONS, POST")
	w.Header().Set("Accept-Post", "application/sdp")
	w.WriteHeader(http.StatusNoContent)
}

func sessionOptions(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "OPTIONS, PATCH, DELETE")
	w.Header().Set("Accept-Patch", sdpFragType)
	w.WriteHeader(http.StatusNoContent)
}

// writeError answers in PocketBase's error shape, so SDK clients read it
// like any other API error.
func writeError(w http.ResponseWriter, err error) {
	status, msg := statusOf(err)
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		retry := 10
		if e, ok := errors.AsType[*Error](err); ok && e.RetryAfter > 0 {
			retry = e.RetryAfter
		}
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "message": msg, "data": map[string]any{}})
}

// offer is a parsed, size-checked SDP offer.
type offer struct {
	sdp     string
	media   int // audio/video sections
	sending int // sections the offerer sends on
}

// readOffer checks the request before any authorization lookup is wasted
// on it: content type (415), size (413), syntax (400), media count (413).
func (s *Server) readOffer(r *http.Request) (offer, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/sdp" {
		return offer{}, Errorf(http.StatusUnsupportedMediaType, "the body must be an SDP offer (Content-Type: application/sdp)")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxSDPBytes+1))
	if err != nil {
		return offer{}, Errorf(http.StatusBadRequest, "could not read the offer")
	}
	if int64(len(body)) > s.cfg.MaxSDPBytes {
		return offer{}, Errorf(http.StatusRequestEntityTooLarge, "the SDP offer is larger than %d bytes", s.cfg.MaxSDPBytes)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return offer{}, Errorf(http.StatusBadRequest, "invalid SDP offer: %v", err)
	}
	o := offer{sdp: string(body)}
	for _, md := range sd.MediaDescriptions {
		kind := md.MediaName.Media
		if kind != "audio" && kind != "video" {
			continue
		}
		o.media++
		_, recvonly := md.Attribute("recvonly")
		_, inactive := md.Attribute("inactive")
		if !recvonly && !inactive {
			o.sending++
		}
	}
	if o.media == 0 {
		return offer{}, Errorf(http.StatusBadRequest, "the SDP offer has no audio or video")
	}
	if o.media > s.cfg.MaxTracks {
		return offer{}, Errorf(http.StatusRequestEntityTooLarge, "the SDP offer has %d media sections; at most %d are allowed", o.media, s.cfg.MaxTracks)
	}
	return o, nil
}

// register reserves a session for g (limits checked by fits, under the
// server lock) before any peer connection is built.
func (s *Server) register(g Grant, fits func(ss *session) error) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, Errorf(http.StatusServiceUnavailable, "the media server is shutting down")
	}
	if err := s.allowOffer(g); err != nil {
		return nil, err
	}
	if g.User != "" && s.perUser[g.User] >= s.cfg.MaxSessionsPerUser {
		return nil, Errorf(http.StatusTooManyRequests, "you have %d media connections open; close one first", s.perUser[g.User])
	}
	ss := &session{id: newSessionID(), grant: g, srv: s, done: make(chan struct{})}
	if err := fits(ss); err != nil {
		return nil, err
	}
	s.sessions[ss.id] = ss
	if g.User != "" {
		s.perUser[g.User]++
	}
	return ss, nil
}

// answer completes the offer/answer exchange and writes 201 + answer +
// Location (+ ICE servers as Link headers, RFC 9725 §4.6).
func (s *Server) answer(w http.ResponseWriter, r *http.Request, ss *session, pc *webrtc.PeerConnection, o offer) {
	if err := s.negotiate(pc, o.sdp); err != nil {
		ss.close("negotiation failed")
		writeError(w, err)
		return
	}
	for _, ice := range s.iceServers(r, ss.grant.User) {
		for _, u := range ice.URLs {
			link := fmt.Sprintf("<%s>; rel=\"ice-server\"", u)
			if ice.Username != "" {
				link += fmt.Sprintf("; username=%q; credential=%q; credential-type=\"password\"", ice.Username, ice.Credential)
			}
			w.Header().Add("Link", link)
		}
	}
	w.Header().Set("Content-Type", "application/sdp")
	// Browsers on another origin must be able to read where to DELETE.
	w.Header().Set("Access-Control-Expose-Headers", "Location, Link, ETag, Accept-Patch")
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+ss.id)
	w.Header().Set("ETag", etag(pc))
	w.Header().Set("Accept-Patch", sdpFragType)
	w.WriteHeader(http.StatusCreated)
	answer := pc.LocalDescription().SDP
	if ss.grant.Kind == KindPublish || ss.grant.Kind == KindCallSend {
		answer = withStartBitrate(answer, s.cfg.StartPublishBitrate/1000)
	}
	_, _ = io.WriteString(w, answer)
}

func (s *Server) negotiate(pc *webrtc.PeerConnection, offerSDP string) error {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offerSDP}); err != nil {
		return Errorf(http.StatusBadRequest, "unusable SDP offer: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return Errorf(http.StatusBadRequest, "cannot answer the offer: %v", err)
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		return Errorf(http.StatusBadRequest, "cannot answer the offer (no common codec?): %v", err)
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		return Errorf(http.StatusServiceUnavailable, "gathering ICE candidates timed out")
	}
	return nil
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	ss := s.sessionOf(r)
	if ss == nil {
		writeError(w, Errorf(http.StatusNotFound, "no such media session (already ended?)"))
		return
	}
	ss.close("deleted by client")
	w.WriteHeader(http.StatusOK)
}

// sessionOf finds the session a Location names. The session id in the
// Location is a 128-bit secret known only to the client that created it:
// holding it is the right to end it or restart its ICE (OBS sends DELETE
// with the same Authorization as the POST; nothing more needed).
func (s *Server) sessionOf(r *http.Request) *session {
	s.mu.Lock()
	ss := s.sessions[r.PathValue("sid")]
	s.mu.Unlock()
	if ss == nil || ss.grant.Resource != r.PathValue("id") || !strings.HasSuffix(r.URL.Path, "/"+ss.id) ||
		!strings.Contains(r.URL.Path, "/"+endpointOf(ss.grant.Kind)+"/") {
		return nil
	}
	return ss
}

func endpointOf(k Kind) string {
	switch k {
	case KindPublish:
		return "whip"
	case KindView:
		return "whep"
	case KindCallSend:
		return "publish"
	case KindCallRecv:
		return "subscribe"
	}
	return ""
}

func (s *Server) handleICEServers(w http.ResponseWriter, r *http.Request) {
	g, err := s.authz.AuthorizeICE(r)
	if err != nil {
		writeError(w, err)
		return
	}
	servers := s.iceServers(r, g.User)
	if servers == nil {
		servers = []ICEServer{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"iceServers": servers, "ttl": int(s.cfg.TURNTTL.Seconds())})
}
