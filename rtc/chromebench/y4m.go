package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
)

// writeBusyPicture writes a Y4M clip for Chromium's fake camera
// (--use-file-for-fake-video-capture, which loops it): w×h at 30 fps,
// frames of it. Each frame is a window onto a larger field of noise that
// pans a few pixels per frame, with a band of fresh noise sweeping down:
// detail everywhere and motion the encoder cannot predict, so it needs
// megabits, as a real camera's picture does, where the built-in fake
// camera's flat picture needs a few hundred kbit/s.
func writeBusyPicture(path string, w, h, frames int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg\n", w, h)
	rng := rand.New(rand.NewPCG(1, 2))
	const pan = 6 // pixels per frame, right and down
	fw, fh := w+pan*frames, h+pan*frames
	field := make([]byte, fw*fh)
	for r := range fh {
		for c := range fw {
			// a soft diagonal gradient under fine grain (2×2 px) of ±32:
			// detail like a textured scene, not white noise that no bitrate
			// makes look good (the encoder would shrink the picture)
			base := 64 + (r+c)%512/4
			grain := 0
			if r%2 == 0 && c%2 == 0 {
				grain = rng.IntN(65) - 32
			} else if c%2 == 1 {
				grain = int(field[r*fw+c-1]) - ((64 + (r+c-1)%512/4) & 0xff)
			} else {
				grain = int(field[(r-1)*fw+c]) - ((64 + (r-1+c)%512/4) & 0xff)
			}
			field[r*fw+c] = byte(max(0, min(255, base+grain)))
		}
	}
	band := h / 8
	y := make([]byte, w*h)
	uv := make([]byte, w*h/4)
	for n := range frames {
		for r := range h {
			copy(y[r*w:(r+1)*w], field[(r+n*pan)*fw+n*pan:])
		}
		top := (n * h / frames) % h
		for r := top; r < min(top+band, h); r++ {
			for c := range w {
				y[r*w+c] = byte(int(y[r*w+c]) + rng.IntN(33) - 16)
			}
		}
		for i := range uv {
			uv[i] = byte(96 + (i/(w/2)+n)%64)
		}
		if _, err := bw.WriteString("FRAME\n"); err != nil {
			return err
		}
		bw.Write(y)
		bw.Write(uv)
		bw.Write(uv)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}
