package rtc

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Trickle ICE and ICE restarts (RFC 9725 §4.3): PATCH on a session's
// Location with an SDP fragment (RFC 8840). New ice-ufrag/ice-pwd in the
// fragment restart ICE: the server answers 200 with its own new
// credentials and candidates, and media continues over the new path (a
// phone that moved from Wi-Fi to mobile data). Candidates alone are added
// to the running ICE session (204).

const sdpFragType = "application/trickle-ice-sdpfrag"

// sdpFrag is what a fragment carries.
type sdpFrag struct {
	ufrag, pwd string
	candidates []webrtc.ICECandidateInit
}

func parseSDPFrag(body string) (sdpFrag, error) {
	var f sdpFrag
	mid := ""
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "a=") && !strings.HasPrefix(line, "m=") {
			return f, fmt.Errorf("unexpected line %q", line)
		}
		attr, val, _ := strings.Cut(strings.TrimPrefix(line, "a="), ":")
		switch attr {
		case "mid":
			mid = val
		case "ice-ufrag":
			if f.ufrag == "" {
				f.ufrag = val
			}
		case "ice-pwd":
			if f.pwd == "" {
				f.pwd = val
			}
		case "candidate":
			m := mid
			f.candidates = append(f.candidates, webrtc.ICECandidateInit{Candidate: "candidate:" + val, SDPMid: &m})
		}
	}
	if (f.ufrag == "") != (f.pwd == "") {
		return f, fmt.Errorf("ice-ufrag and ice-pwd come together")
	}
	return f, nil
}

// etag names the session's current ICE credentials (a restart changes it).
func etag(pc *webrtc.PeerConnection) string {
	if d := pc.LocalDescription(); d != nil {
		var sd sdp.SessionDescription
		if sd.UnmarshalString(d.SDP) == nil {
			if u, ok := iceCreds(&sd); ok {
				return `"` + u + `"`
			}
		}
	}
	return `""`
}

// iceCreds returns the ufrag of a description (session or first media level).
func iceCreds(sd *sdp.SessionDescription) (string, bool) {
	if u, ok := sd.Attribute("ice-ufrag"); ok {
		return u, true
	}
	for _, m := range sd.MediaDescriptions {
		if u, ok := m.Attribute("ice-ufrag"); ok {
			return u, true
		}
	}
	return "", false
}

func (s *Server) handlePatch(w http.ResponseWriter, r *http.Request) {
	ss := s.sessionOf(r)
	if ss == nil {
		writeError(w, Errorf(http.StatusNotFound, "no such media session (already ended?)"))
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != sdpFragType {
		writeError(w, Errorf(http.StatusUnsupportedMediaType, "send an SDP fragment (Content-Type: %s)", sdpFragType))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxSDPBytes+1))
	if err != nil || int64(len(body)) > s.cfg.MaxSDPBytes {
		writeError(w, Errorf(http.StatusRequestEntityTooLarge, "the SDP fragment is larger than %d bytes", s.cfg.MaxSDPBytes))
		return
	}
	frag, err := parseSDPFrag(string(body))
	if err != nil {
		writeError(w, Errorf(http.StatusBadRequest, "invalid SDP fragment: %v", err))
		return
	}
	pc := ss.peer()
	if pc == nil || pc.CurrentRemoteDescription() == nil {
		writeError(w, Conflict("the session is not negotiated yet"))
		return
	}
	// One PATCH at a time per session: a restart renegotiates.
	ss.patchMu.Lock()
	defer ss.patchMu.Unlock()
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != etag(pc) {
		writeError(w, Errorf(http.StatusPreconditionFailed, "the ICE session changed (ETag %s); restart ICE", etag(pc)))
		return
	}
	w.Header().Set("Access-Control-Expose-Headers", "ETag")
	if frag.ufrag == "" || !s.credentialsChange(pc, frag.ufrag) {
		for _, c := range frag.candidates {
			if err := pc.AddICECandidate(c); err != nil {
				writeError(w, Errorf(http.StatusUnprocessableEntity, "unusable candidate: %v", err))
				return
			}
		}
		w.Header().Set("ETag", etag(pc))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	answer, err := s.restartICE(pc, frag)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", sdpFragType)
	w.Header().Set("ETag", etag(pc))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, answer)
}

// credentialsChange: does ufrag differ from the remote's current one?
func (s *Server) credentialsChange(pc *webrtc.PeerConnection, ufrag string) bool {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(pc.CurrentRemoteDescription().SDP); err != nil {
		return true
	}
	cur, _ := iceCreds(&sd)
	return cur != ufrag
}

// restartICE renegotiates the session with the client's new credentials
// (its previous offer with them in place: nothing else changes) and
// returns the server's new credentials and candidates as a fragment.
func (s *Server) restartICE(pc *webrtc.PeerConnection, frag sdpFrag) (string, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(pc.CurrentRemoteDescription().SDP); err != nil {
		return "", fmt.Errorf("previous offer: %w", err)
	}
	sd.Origin.SessionVersion++
	setCreds := func(attrs []sdp.Attribute) []sdp.Attribute {
		out := attrs[:0]
		for _, a := range attrs {
			switch a.Key {
			case "candidate", "end-of-candidates":
				continue
			case "ice-ufrag":
				a.Value = frag.ufrag
			case "ice-pwd":
				a.Value = frag.pwd
			}
			out = append(out, a)
		}
		return out
	}
	sd.Attributes = setCreds(sd.Attributes)
	for _, m := range sd.MediaDescriptions {
		m.Attributes = setCreds(m.Attributes)
	}
	offer, err := sd.Marshal()
	if err != nil {
		return "", fmt.Errorf("restart offer: %w", err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		return "", Errorf(http.StatusUnprocessableEntity, "cannot restart ICE: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", Errorf(http.StatusUnprocessableEntity, "cannot restart ICE: %v", err)
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", Errorf(http.StatusUnprocessableEntity, "cannot restart ICE: %v", err)
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		return "", Errorf(http.StatusServiceUnavailable, "gathering ICE candidates timed out")
	}
	for _, c := range frag.candidates {
		if err := pc.AddICECandidate(c); err != nil {
			return "", Errorf(http.StatusUnprocessableEntity, "unusable candidate: %v", err)
		}
	}
	return localFrag(pc.LocalDescription().SDP)
}

// localFrag extracts the ICE part of a description: credentials, then the
// candidates of the first media section (every section is bundled).
func localFrag(desc string) (string, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(desc); err != nil {
		return "", fmt.Errorf("answer: %w", err)
	}
	var b strings.Builder
	ufrag, _ := iceCreds(&sd)
	pwd, _ := sd.Attribute("ice-pwd")
	if len(sd.MediaDescriptions) == 0 {
		return "", fmt.Errorf("answer without media")
	}
	m := sd.MediaDescriptions[0]
	if pwd == "" {
		pwd, _ = m.Attribute("ice-pwd")
	}
	fmt.Fprintf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", ufrag, pwd)
	mid, _ := m.Attribute("mid")
	fmt.Fprintf(&b, "m=%s %d %s %s\r\na=mid:%s\r\n", m.MediaName.Media, m.MediaName.Port.Value,
		strings.Join(m.MediaName.Protos, "/"), strings.Join(m.MediaName.Formats, " "), mid)
	for _, a := range m.Attributes {
		if a.Key == "candidate" {
			fmt.Fprintf(&b, "a=candidate:%s\r\n", a.Value)
		}
	}
	b.WriteString("a=end-of-candidates\r\n")
	return b.String(), nil
}
