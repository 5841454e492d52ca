package rtc

// vp8Munger keeps the VP8 payload descriptor (RFC 7741) of one viewer's
// outgoing track continuous across layer switches, the way LiveKit's VP8
// munger and mediasoup's VP8 payload handler do. Each simulcast layer
// numbers its pictures (PictureID), base-layer pictures (TL0PICIDX) and
// keyframes (KEYIDX) on its own; Chrome's receiver tracks the references
// between frames by those numbers, and after a jump to another layer's
// numbers it holds back the frames that seem to depend on the pictures
// "missing" in the gap: the picture froze for the 3 s after which Chrome
// asks for a keyframe. Guarded by layered.mu.
type vp8Munger struct {
	started bool
	pending bool // the next packet (a keyframe's first) starts a new layer
	pidOff  uint16
	tl0Off  uint8
	keyOff  uint8
	lastPID uint16 // the highest PictureID sent (15 bits)
	lastTL0 uint8
	lastKey uint8 // 5 bits
	buf     []byte
}

// switchInput makes the next packet's numbers follow the last ones sent.
func (m *vp8Munger) switchInput() {
	if m.started {
		m.pending = true
	}
}

// vp8Descriptor locates the numbers in a VP8 payload descriptor: the
// offset of the PictureID (0: none) and whether it is 15 bits wide, of
// TL0PICIDX and of the byte holding KEYIDX (0: none).
func vp8Descriptor(p []byte) (pid int, wide bool, tl0, key int, ok bool) {
	if len(p) < 1 {
		return 0, false, 0, 0, false
	}
	if p[0]&0x80 == 0 { // X: no extension, no numbers
		return 0, false, 0, 0, true
	}
	if len(p) < 2 {
		return 0, false, 0, 0, false
	}
	x, i := p[1], 2
	if x&0x80 != 0 { // I: PictureID
		if len(p) < i+1 {
			return 0, false, 0, 0, false
		}
		pid, wide = i, p[i]&0x80 != 0
		i++
		if wide {
			i++
		}
	}
	if x&0x40 != 0 { // L: TL0PICIDX
		tl0 = i
		i++
	}
	if x&0x30 != 0 { // T or K: TID/Y/KEYIDX
		if x&0x10 != 0 {
			key = i
		}
		i++
	}
	return pid, wide, tl0, key, len(p) >= i
}

// rewrite returns payload with its numbers shifted onto the viewer's
// sequence: payload itself while no shift is needed (the viewer has not
// switched), else a copy (valid until the next call).
func (m *vp8Munger) rewrite(payload []byte) []byte {
	pidAt, wide, tl0At, keyAt, ok := vp8Descriptor(payload)
	if !ok {
		return payload
	}
	read := func() (pid uint16, tl0, key uint8) {
		if pidAt > 0 {
			pid = uint16(payload[pidAt] & 0x7f)
			if wide {
				pid = pid<<8 | uint16(payload[pidAt+1])
			}
		}
		if tl0At > 0 {
			tl0 = payload[tl0At]
		}
		if keyAt > 0 {
			key = payload[keyAt] & 0x1f
		}
		return pid, tl0, key
	}
	pid, tl0, key := read()
	if m.pending {
		m.pidOff = m.lastPID + 1 - pid
		m.tl0Off = m.lastTL0 + 1 - tl0
		m.keyOff = m.lastKey + 1 - key
		m.pending = false
	}
	out := payload
	if m.pidOff != 0 || m.tl0Off != 0 || m.keyOff != 0 {
		m.buf = append(m.buf[:0], payload...)
		out = m.buf
		if pidAt > 0 {
			if wide {
				v := (pid + m.pidOff) & 0x7fff
				out[pidAt], out[pidAt+1] = 0x80|byte(v>>8), byte(v)
			} else {
				out[pidAt] = byte(pid+m.pidOff) & 0x7f
			}
		}
		if tl0At > 0 {
			out[tl0At] = tl0 + m.tl0Off
		}
		if keyAt > 0 {
			out[keyAt] = out[keyAt]&0xe0 | (key+m.keyOff)&0x1f
		}
	}
	// The highest numbers sent (a resent or late packet may be older).
	pid, tl0, key = (pid+m.pidOff)&0x7fff, tl0+m.tl0Off, (key+m.keyOff)&0x1f
	bits := uint(15)
	if !wide {
		pid, bits = pid&0x7f, 7
	}
	if !m.started || newer(pid, m.lastPID, bits) {
		m.lastPID = pid
	}
	if !m.started || int8(tl0-m.lastTL0) > 0 {
		m.lastTL0 = tl0
	}
	if !m.started || newer(uint16(key), uint16(m.lastKey), 5) {
		m.lastKey = key
	}
	m.started = true
	return out
}

// newer reports whether a is after b in a sequence of bits-wide numbers.
func newer(a, b uint16, bits uint) bool {
	d := (a - b) & (1<<bits - 1)
	return d != 0 && d < 1<<(bits-1)
}
