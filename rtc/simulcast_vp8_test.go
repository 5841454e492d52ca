package rtc

import (
	"bytes"
	"testing"
)

// vp8Payload is a VP8 RTP payload: a descriptor with a 15-bit (or, with
// short, 7-bit) PictureID, TL0PICIDX and TID/KEYIDX, then frame bytes.
func vp8Payload(pid uint16, tl0, keyIdx uint8, short bool, frame ...byte) []byte {
	p := []byte{0x90, 0xf0} // X, S; I, L, T, K
	if short {
		p = append(p, byte(pid&0x7f))
	} else {
		p = append(p, 0x80|byte(pid>>8&0x7f), byte(pid))
	}
	p = append(p, tl0, 0x40|keyIdx&0x1f) // TID 1, KEYIDX
	return append(p, frame...)
}

// A viewer switched from one layer to another gets picture numbers that
// go on from the last ones it got (what Chrome's decoder tracks frames
// by), with the frame bytes and the other descriptor bits untouched; a
// viewer that never switched gets the publisher's payload as it came.
func TestVP8MungerContinuesAcrossSwitch(t *testing.T) {
	for _, short := range []bool{false, true} {
		var m vp8Munger
		in := vp8Payload(100, 7, 3, short, 0xaa, 0xbb)
		if out := m.rewrite(in); &out[0] != &in[0] {
			t.Fatal("a payload was copied before any switch")
		}
		m.rewrite(vp8Payload(101, 8, 3, short, 0xcc))
		// The other layer numbers its pictures on its own.
		m.switchInput()
		var got [][]byte
		for i, pid := range []uint16{20000, 20001, 20002} {
			got = append(got, m.rewrite(vp8Payload(pid, 200+uint8(i), 30, short, 0x10, byte(i))))
			got[i] = append([]byte(nil), got[i]...)
		}
		for i, p := range got {
			pidAt, wide, tl0At, keyAt, ok := vp8Descriptor(p)
			if !ok || wide == short {
				t.Fatalf("short %v: packet %d: descriptor %x", short, i, p)
			}
			pid := uint16(p[pidAt] & 0x7f)
			if wide {
				pid = pid<<8 | uint16(p[pidAt+1])
			}
			if want := uint16(102 + i); pid != want {
				t.Errorf("short %v: packet %d: PictureID %d, want %d", short, i, pid, want)
			}
			if want := uint8(9 + i); p[tl0At] != want {
				t.Errorf("short %v: packet %d: TL0PICIDX %d, want %d", short, i, p[tl0At], want)
			}
			if p[keyAt]&0x1f != 4 || p[keyAt]&0xe0 != 0x40 {
				t.Errorf("short %v: packet %d: TID/KEYIDX byte %#x, want TID 1 and KEYIDX 4", short, i, p[keyAt])
			}
			if !bytes.Equal(p[len(p)-2:], []byte{0x10, byte(i)}) || p[0] != 0x90 || p[1] != 0xf0 {
				t.Errorf("short %v: packet %d: %x: bytes other than the numbers changed", short, i, p)
			}
		}
	}
}
