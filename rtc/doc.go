// Package rtc is Salonbase's media server, a selective forwarding unit
// (SFU) built on Pion WebRTC v4: live streams published with WHIP (RFC
// 9725, from a browser or OBS) and watched with WHEP, and 1:1 calls.
//
// It forwards RTP without decoding: every publisher track feeds one local
// track that all subscribers' peer connections share. RTCP reports and
// the NACKs to publishers come from pion/interceptor (one registry per
// peer connection); a viewer's or call party's NACK is answered from its
// forwarder's shared history (retransmit.go); a viewer joining or asking (PLI/FIR) makes the server ask the publisher
// for a keyframe.
//
// The package knows nothing about members, ranks or chat: the application
// decides through an Authorizer and learns what happened through Events.
package rtc
