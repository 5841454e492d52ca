package rtc_test

import (
	"testing"
	"time"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// With batched writes on the single UDP port, viewers still get every
// picture: two viewers decode the stream and receive it at its rate, and
// the server closes cleanly (the queued packets flushed, the port freed
// for a new server).
func TestBatchedUDPWrites(t *testing.T) {
	port := freeUDPPort(t)
	// Both viewers reach the server at 127.0.0.1 (its only announced
	// address), so their packets leave from the same socket and can share
	// a sendmmsg: with the host's other addresses announced too, ICE may
	// pair each viewer with another of the port's sockets.
	e := newEnv(t, rtc.Config{UDPPort: port, UDPBatch: 16, PublicIPs: []string{"127.0.0.1"}})
	e.stream("b1", "host", "ann", "bob")
	e.goLive(t, "b1", "host")
	ann := rtctest.View(t, e.url+"/api/rtc/live/b1/whep", "ann")
	bob := rtctest.View(t, e.url+"/api/rtc/live/b1/whep", "bob")
	waitPicture(t, ann, "ann")
	waitPicture(t, bob, "bob")
	// The clip is about 30 frames a second: in two seconds each viewer
	// gets dozens of packets more.
	before := len(ann.VideoPackets()) + len(bob.VideoPackets())
	time.Sleep(2 * time.Second)
	if got := len(ann.VideoPackets()) + len(bob.VideoPackets()) - before; got < 60 {
		t.Fatalf("%d video packets in 2 s for two viewers", got)
	}
	// Both viewers' packets of one publisher packet went out together.
	st := e.srv.Stats()
	if st.UDPBatches == 0 || st.UDPBatched <= st.UDPBatches {
		t.Fatalf("sends not batched: %+v", st)
	}
	t.Logf("%d packets in %d sendmmsg calls", st.UDPBatched, st.UDPBatches)
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := rtc.New(rtc.Config{UDPPort: port, IncludeLoopback: true}, newAuthz(), rtc.Events{}, nil)
	if err != nil {
		t.Fatalf("the port is still taken after Close: %v", err)
	}
	again.Close()
}
