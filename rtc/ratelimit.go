package rtc

import (
	"net/http"
	"sync"
	"time"
)

// memberLimiter limits the offers (POSTs that build a peer connection) one
// member makes: a token bucket of Config.MaxOffersPerMember refilled over
// a minute. Members behind one NAT (a seminar venue, an office) share an
// IP, so the per-IP limit in front of the API can be generous and this
// one keeps each member from exhausting the server.
type memberLimiter struct {
	mu      sync.Mutex
	perMin  float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newMemberLimiter(perMinute int) *memberLimiter {
	return &memberLimiter{perMin: float64(perMinute), buckets: map[string]*bucket{}}
}

// allow takes a token of user's bucket; it returns how long to wait when
// there is none. The empty user (no member behind the grant) is not limited.
func (l *memberLimiter) allow(user string, now time.Time) (bool, time.Duration) {
	if user == "" {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[user]
	if b == nil {
		b = &bucket{tokens: l.perMin, at: now}
		l.buckets[user] = b
	}
	b.tokens = min(l.perMin, b.tokens+now.Sub(b.at).Minutes()*l.perMin)
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.perMin * float64(time.Minute))
	}
	b.tokens--
	return true, 0
}

// sweep forgets buckets that are full again.
func (l *memberLimiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for u, b := range l.buckets {
		if now.Sub(b.at) >= time.Minute {
			delete(l.buckets, u)
		}
	}
}

// AllowOffer counts an offer that another media path answers (the WHIP
// relay to LiveKit) against user's limit, as this server's own offers are:
// a *Error with status 429 and RetryAfter when there is no token left.
func (s *Server) AllowOffer(user string) error { return s.allowOffer(Grant{User: user}) }

// allowOffer answers 429 when g's member made too many offers.
func (s *Server) allowOffer(g Grant) error {
	if ok, wait := s.offers.allow(g.User, time.Now()); !ok {
		return &Error{Status: http.StatusTooManyRequests, Message: "too many media connections started; try again in a few seconds",
			RetryAfter: int(wait.Seconds()) + 1}
	}
	return nil
}
