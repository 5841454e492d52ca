package rtc

import (
	"fmt"
	"github.com/pion/transport/v5/stdnet"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// codecSet chooses what a peer connection may negotiate.
type codecSet int

const (
	// liveCodecs: what browsers and OBS send (OBS's WHIP output is H264).
	liveCodecs codecSet = iota
	// callCodecs: VP8 and Opus only, which every browser sends, so a call's
	// forwarding tracks can exist before either party has connected.
	callCodecs
)

// Congestion control feedback: transport-wide CC (the server reports when
// each packet arrived, so a browser's send-side estimator ramps up within
// seconds) and REMB (the server's cap on a publisher's bitrate).
var videoFeedback = []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"},
	{Type: webrtc.TypeRTCPFBTransportCC}, {Type: webrtc.TypeRTCPFBGoogREMB}}

var (
	opusCodec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1", RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}}}
	vp8Codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback}
)

// registerCodecs registers the codecs of set; with only non-empty, just
// those of them (a publisher rejoining a stream must send what the
// viewers' tracks were negotiated for).
func registerCodecs(m *webrtc.MediaEngine, set codecSet, only []webrtc.RTPCodecCapability) error {
	video := []webrtc.RTPCodecParameters{{RTPCodecCapability: vp8Codec, PayloadType: 96}}
	if set == liveCodecs {
		h264 := func(pt webrtc.PayloadType, fmtp string) webrtc.RTPCodecParameters {
			return webrtc.RTPCodecParameters{PayloadType: pt, RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: fmtp, RTCPFeedback: videoFeedback}}
		}
		video = append(video,
			h264(102, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
			h264(104, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"),
			h264(106, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"),
			h264(112, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f"),
			webrtc.RTPCodecParameters{PayloadType: 98, RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeVP9, ClockRate: 90000, SDPFmtpLine: "profile-id=0", RTCPFeedback: videoFeedback}},
			webrtc.RTPCodecParameters{PayloadType: 45, RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeAV1, ClockRate: 90000, RTCPFeedback: videoFeedback}},
		)
	}
	for _, c := range video {
		if len(only) > 0 && !slices.ContainsFunc(only, func(o webrtc.RTPCodecCapability) bool {
			return strings.EqualFold(o.MimeType, c.MimeType) && o.SDPFmtpLine == c.SDPFmtpLine
		}) {
			continue
		}
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return fmt.Errorf("register %s: %w", c.MimeType, err)
		}
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: 111},
		webrtc.RTPCodecTypeAudio); err != nil {
		return fmt.Errorf("register opus: %w", err)
	}
	// The transport-wide sequence number each packet carries, for the
	// feedback (the twcc interceptor in newPeerConnection sends it).
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, k); err != nil {
			return fmt.Errorf("register transport-cc extension: %w", err)
		}
	}
	if set == liveCodecs {
		// Simulcast: each layer's packets carry the m-line's mid and the
		// layer's RTP stream id (RID), which is how the layers are told apart.
		for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI, sdp.SDESRepairRTPStreamIDURI} {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeVideo); err != nil {
				return fmt.Errorf("register %s extension: %w", uri, err)
			}
		}
	}
	return nil
}

// newSettingEngine is shared by every peer connection (it holds the UDP mux).
func newSettingEngine(cfg Config, mux ice.UDPMux) (webrtc.SettingEngine, error) {
	var s webrtc.SettingEngine
	// AES-GCM first: authenticated encryption in one pass is several times
	// cheaper per packet than AES-CM + HMAC-SHA1; keep CM for old clients.
	s.SetSRTPProtectionProfiles(
		dtls.SRTP_AEAD_AES_128_GCM,
		dtls.SRTP_AEAD_AES_256_GCM,
		dtls.SRTP_AES128_CM_HMAC_SHA1_80,
	)
	// A disappeared peer is noticed within DisconnectTimeout.
	s.SetICETimeouts(cfg.DisconnectTimeout, 2*cfg.DisconnectTimeout, time.Second)
	// A server is reachable directly; resolving browsers' mDNS names would
	// cost a multicast socket per connection and never helps a public host.
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	s.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	if len(cfg.PublicIPs) > 0 {
		// behind a 1:1 NAT: announce the public address instead of the host's
		err := s.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		})
		if err != nil {
			return s, fmt.Errorf("public ips: %w", err)
		}
	}
	if mux != nil {
		s.SetICEUDPMux(mux)
	} else if cfg.PortMin > 0 && cfg.PortMax >= cfg.PortMin {
		if err := s.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return s, fmt.Errorf("udp port range: %w", err)
		}
	}
	return s, nil
}

// newUDPMux opens the single UDP port every connection shares, on every
// IPv4 and IPv6 address of the host (browsers prefer IPv6 where they have
// it). A host whose IPv6 cannot be bound falls back to IPv4 alone.
func newUDPMux(cfg Config, log *slog.Logger, batch *sendBatch) (*ice.MultiUDPMuxDefault, error) {
	open := func(networks ...ice.NetworkType) (*ice.MultiUDPMuxDefault, error) {
		opts := []ice.UDPMuxFromPortOption{ice.UDPMuxFromPortWithNetworks(networks...)}
		if cfg.IncludeLoopback {
			opts = append(opts, ice.UDPMuxFromPortWithLoopback())
		}
		if cfg.UDPBatch > 0 {
			std, err := stdnet.NewNet()
			if err != nil {
				return nil, fmt.Errorf("network: %w", err)
			}
			opts = append(opts, ice.UDPMuxFromPortWithNet(batchNet{Net: std, size: cfg.UDPBatch, batch: batch}))
		}
		return ice.NewMultiUDPMuxFromPort(cfg.UDPPort, opts...)
	}
	mux, err := open(ice.NetworkTypeUDP4, ice.NetworkTypeUDP6)
	if err != nil {
		log.Warn("rtc: IPv6 media port unavailable, IPv4 only", "port", cfg.UDPPort, "error", err)
		mux, err = open(ice.NetworkTypeUDP4)
	}
	if err != nil {
		return nil, fmt.Errorf("listen udp :%d: %w", cfg.UDPPort, err)
	}
	return mux, nil
}

// newPeerConnection builds a peer connection with its own media engine and
// interceptor registry (interceptors keep per-connection state: NACK
// buffers, RTCP report statistics).
func (s *Server) newPeerConnection(set codecSet, only []webrtc.RTPCodecCapability) (*webrtc.PeerConnection, error) {
	pc, _, err := s.newPeerConnectionBWE(set, only, false)
	return pc, err
}

// newViewerPeerConnection builds a viewer's peer connection. A viewer
// only receives, so it needs none of the interceptors that work on what a
// peer sends (transport-wide CC and NACK feedback, receiver reports), and
// its NACKs are answered from its forwarders' shared history
// (retransmit.go), not by a NACK responder that keeps a copy of every
// packet per viewer. What stays per packet and viewer is the sender
// report's count (the browser plays audio and video in sync by them). A
// simulcast viewer (estimate) keeps them all: its video track is its own.
// A call party's receiving connection is a viewer's too (set callCodecs).
func (s *Server) newViewerPeerConnection(set codecSet, estimate bool) (*webrtc.PeerConnection, cc.BandwidthEstimator, error) {
	if estimate {
		return s.newPeerConnectionBWE(set, nil, true)
	}
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m, set, nil); err != nil {
		return nil, nil, err
	}
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, nil, err
	}
	ir := &interceptor.Registry{}
	ir.Add(sr)
	pc, err := s.peerConnection(m, ir)
	return pc, nil, err
}

// newPeerConnectionBWE is newPeerConnection, with estimate also a
// send-side bandwidth estimator (Google congestion control over the
// transport-wide CC feedback the peer sends) of the connection's downlink.
func (s *Server) newPeerConnectionBWE(set codecSet, only []webrtc.RTPCodecCapability, estimate bool) (*webrtc.PeerConnection, cc.BandwidthEstimator, error) {
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m, set, only); err != nil {
		return nil, nil, err
	}
	ir := &interceptor.Registry{}
	var bwe cc.BandwidthEstimator
	if estimate {
		// No pacer: the forwarder sends what the publisher sent, as it
		// comes; the estimate only chooses the layer.
		f, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
			return gcc.NewSendSideBWE(gcc.SendSideBWEInitialBitrate(viewerStartBWE),
				gcc.SendSideBWEMaxBitrate(viewerMaxBWE), gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
		})
		if err != nil {
			return nil, nil, err
		}
		f.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) { bwe = e })
		ir.Add(f)
		// The transport-wide sequence number on what we send, added
		// before the estimator records each packet (so registered after it).
		hx, err := twcc.NewHeaderExtensionInterceptor()
		if err != nil {
			return nil, nil, err
		}
		ir.Add(hx)
	}
	// Transport-wide CC feedback on what a publisher sends, every 100 ms.
	fb, err := twcc.NewSenderInterceptor(twcc.SendInterval(100 * time.Millisecond))
	if err != nil {
		return nil, nil, err
	}
	ir.Add(fb)
	// NACK: ask the publisher to resend what we lost, and resend to a
	// simulcast viewer what it lost. 256 packets ≈ 1.4 s
	// of a 1.5 Mbps stream (NACKs come within a round trip).
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, nil, err
	}
	resp, err := nack.NewResponderInterceptor(nack.ResponderSize(256))
	if err != nil {
		return nil, nil, err
	}
	ir.Add(gen)
	ir.Add(resp)
	// RTCP sender and receiver reports (round trip, loss, jitter).
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, nil, err
	}
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, nil, err
	}
	ir.Add(rr)
	ir.Add(sr)
	pc, err := s.peerConnection(m, ir)
	return pc, bwe, err
}

// peerConnection is a peer connection with the server's settings (its one
// UDP port, its candidates) and the given codecs and interceptors.
func (s *Server) peerConnection(m *webrtc.MediaEngine, ir *interceptor.Registry) (*webrtc.PeerConnection, error) {
	api := webrtc.NewAPI(
		webrtc.WithMediaEngine(m),
		webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(s.settings),
	)
	return api.NewPeerConnection(webrtc.Configuration{})
}
