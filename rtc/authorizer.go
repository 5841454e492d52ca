package rtc

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind says what a peer connection does.
type Kind string

const (
	KindPublish   Kind = "publish"   // WHIP: the host of a live stream sends media
	KindView      Kind = "view"      // WHEP: a viewer receives the stream
	KindCallSend  Kind = "call-send" // a call party sends its camera and microphone
	KindCallRecv  Kind = "call-recv" // a call party receives the other party
	KindICEConfig Kind = "ice"       // a member asks for STUN/TURN servers
)

// Grant is a decision of the Authorizer: who may do what on which stream
// or call. The media server keeps it for as long as the peer is connected
// and asks StillAllowed about it every Config.RecheckInterval.
type Grant struct {
	Kind     Kind
	Resource string // stream or call id ("" for KindICEConfig)
	User     string // the member acting (for a stream key: the host); counted per member
	Peer     string // calls: the other party's member id
	Record   bool   // publish: record the stream (see Events.StreamRecorded)
}

// Authorizer is how the application (hooks/) decides who may publish, view
// or call. The rtc package knows nothing about users, ranks or rooms.
//
// Methods return an *Error to choose the HTTP answer (401, 403, 404, 409);
// any other error is a 500. They are called on request goroutines.
type Authorizer interface {
	// AuthorizePublish: a PocketBase token or the stream's key (OBS) in
	// "Authorization: Bearer ...".
	AuthorizePublish(r *http.Request, streamID string) (Grant, error)
	AuthorizeView(r *http.Request, streamID string) (Grant, error)
	// AuthorizeCall returns a grant for one of the two parties of the call,
	// with Peer set to the other party (the server sets Kind to
	// KindCallSend or KindCallRecv).
	AuthorizeCall(r *http.Request, callID string) (Grant, error)
	// AuthorizeICE: who may receive STUN/TURN servers (and TURN credentials).
	AuthorizeICE(r *http.Request) (Grant, error)
	// StillAllowed is re-checked while the peer is connected; false cuts it
	// off within Config.RecheckInterval.
	StillAllowed(g Grant) bool
}

// Events tells the application what happened to streams and calls, so it
// can update its records. Every field may be nil. Callbacks run one at a
// time, in order, on a goroutine of their own (never on the media path),
// so they may take their time and write to the database.
type Events struct {
	// StreamLive: the publisher's media arrived; viewers can join.
	StreamLive func(streamID string, publisher Grant)
	// StreamEnded: the publisher left (DELETE, disconnect, cut off) after
	// the stream was live, or did not come back after a restart
	// (AwaitStream). Closing the server does not end streams.
	StreamEnded func(streamID string)
	// StreamRecorded: a recorded stream (its publisher's Grant.Record)
	// ended and its WebM file is complete at path, in Config.RecordDir.
	// The callee owns the file and must remove it. Without this callback
	// nothing is recorded.
	StreamRecorded func(streamID, path string)
	// ViewerCount: the number of connected viewers changed.
	ViewerCount func(streamID string, viewers int)
	// CallJoined: a party's media reached the server.
	CallJoined func(callID string, party Grant)
	// CallLeft: a party stopped sending (hang-up, tab closed, cut off).
	CallLeft func(callID string, party Grant)
}

// Error is an answer with an HTTP status, returned by an Authorizer or by
// the server itself. The message is shown to the client.
type Error struct {
	Status  int
	Message string
	// RetryAfter (seconds) is sent as Retry-After with a 429 or 503.
	RetryAfter int
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

// Errorf makes an *Error.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Handy constructors for Authorizer implementations.
func Unauthorized(msg string) *Error { return &Error{Status: http.StatusUnauthorized, Message: msg} }
func Forbidden(msg string) *Error    { return &Error{Status: http.StatusForbidden, Message: msg} }
func NotFound(msg string) *Error     { return &Error{Status: http.StatusNotFound, Message: msg} }
func Conflict(msg string) *Error     { return &Error{Status: http.StatusConflict, Message: msg} }

// statusOf maps err to an HTTP status and a message safe to show.
func statusOf(err error) (int, string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Status, e.Message
	}
	return http.StatusInternalServerError, "media server error"
}
