package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"log"
	"net"
	"net/netip"
	"runtime"
	"syscall"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"golang.org/x/net/ipv4"
)

// -floor measures what one packet delivered to a viewer costs below the
// media server's own code, on this machine, with the bench's packet sizes
// (a frame: 5 packets of 1200 bytes of payload and one of 250, plus the
// RTP header and SRTP's 10-byte tag):
//   - the kernel's part: a plain loop sends each packet to n loopback
//     sockets (read by n goroutines, as n viewers would), by sendmmsg of
//     up to batch packets (what the server's batching sockets do) and by
//     one sendto each, paced at the stream's 180 packets/s; the sending
//     thread's CPU time per packet (on loopback it includes the delivery
//     into the receiving socket, which a network card would take over);
//   - SRTP's part: AES_CM_128_HMAC_SHA1_80 encryption of each packet with
//     pion/srtp (what the server runs per viewer: n contexts in turn, as n
//     viewers' keys), and with Go's crypto/cipher CTR and crypto/hmac.

// rusageThread is RUSAGE_THREAD (Linux): the calling thread's CPU time.
const rusageThread = 1

// threadCPU is the calling (locked) thread's user+system CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// framePackets are the sizes of one frame's SRTP packets as sent.
var framePackets = []int{12 + 1200 + 10, 12 + 1200 + 10, 12 + 1200 + 10, 12 + 1200 + 10, 12 + 1200 + 10, 12 + 250 + 10}

func runFloor(n, batch int, window time.Duration) {
	fmt.Printf("| what (per packet delivered to one of %d viewers) | µs | viewers per core at 180 pkt/s |\n|---|---|---|\n", n)
	row := func(what string, per time.Duration) {
		us := float64(per) / float64(time.Microsecond)
		fmt.Printf("| %s | %.2f | %.0f |\n", what, us, 1e6/(180*us))
	}
	if batch < 1 {
		batch = 32
	}
	mm := kernelFloor(n, batch, window)
	row(fmt.Sprintf("kernel: sendmmsg, up to %d a call, loopback", batch), mm)
	row("kernel: one sendto each, loopback", kernelFloor(n, 1, window))
	pion := srtpFloor(n, window, false)
	row("SRTP AES-CM + HMAC-SHA1, pion/srtp", pion)
	row("SRTP AES-CM + HMAC-SHA1, crypto/cipher CTR + crypto/hmac", srtpFloor(n, window, true))
	row("sendmmsg + pion/srtp (the floor of the server's fan-out)", mm+pion)
}

// kernelFloor sends for window and gives the sending thread's CPU per
// packet; batch 1 is one sendto per packet.
func kernelFloor(n, batch int, window time.Duration) time.Duration {
	var dsts []netip.AddrPort
	var socks []*net.UDPConn
	for range n {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			log.Fatal(err)
		}
		socks = append(socks, c)
		dsts = append(dsts, c.LocalAddr().(*net.UDPAddr).AddrPort())
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
					return
				}
			}
		}()
	}
	defer func() {
		for _, c := range socks {
			c.Close()
		}
	}()
	out, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	pc := ipv4.NewPacketConn(out)
	msgs := make([]ipv4.Message, n)
	for i := range msgs {
		msgs[i] = ipv4.Message{Buffers: [][]byte{nil}, Addr: net.UDPAddrFromAddrPort(dsts[i])}
	}
	payload := make([]byte, 1500)

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const every = time.Second / 180
	start, cpu0 := time.Now(), threadCPU()
	sent := 0
	for i := 0; time.Since(start) < window; i++ {
		p := payload[:framePackets[i%len(framePackets)]]
		if batch == 1 {
			for _, d := range dsts {
				if _, err := out.WriteToUDPAddrPort(p, d); err == nil {
					sent++
				}
			}
		} else {
			for j := range msgs {
				msgs[j].Buffers[0] = p
			}
			for j := 0; j < len(msgs); {
				k, err := pc.WriteBatch(msgs[j:min(j+batch, len(msgs))], 0)
				if err != nil || k <= 0 {
					k = 1
				} else {
					sent += k
				}
				j += k
			}
		}
		if wait := time.Until(start.Add(time.Duration(i+1) * every)); wait > 0 {
			time.Sleep(wait)
		}
	}
	return (threadCPU() - cpu0) / time.Duration(max(sent, 1))
}

// srtpFloor encrypts the frame's packets for window, n contexts in turn,
// and gives the thread's CPU per packet; std uses Go's AES-CTR and HMAC
// instead of pion/srtp (the same cipher, not an SRTP implementation: no
// key derivation, a fixed IV layout).
func srtpFloor(n int, window time.Duration, std bool) time.Duration {
	type viewer struct {
		ctx   *srtp.Context
		block cipher.Block
		mac   func([]byte) []byte
		seq   uint16
	}
	vs := make([]*viewer, n)
	for i := range vs {
		key, salt := make([]byte, 16), make([]byte, 14)
		binary.BigEndian.PutUint32(key, uint32(i+1))
		ctx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAes128CmHmacSha1_80)
		if err != nil {
			log.Fatal(err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			log.Fatal(err)
		}
		h := hmac.New(sha1.New, key)
		vs[i] = &viewer{ctx: ctx, block: block, mac: func(b []byte) []byte {
			h.Reset()
			h.Write(b)
			return h.Sum(b)
		}}
	}
	plain := make([]byte, 1500)
	dst := make([]byte, 1500)
	iv := make([]byte, aes.BlockSize)
	hdr := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, cpu0 := time.Now(), threadCPU()
	packets := 0
	for i := 0; time.Since(start) < window; i++ {
		size := framePackets[(i/n)%len(framePackets)] - 10 // before the tag
		v := vs[i%n]
		v.seq++
		hdr.SequenceNumber = v.seq
		if _, err := hdr.MarshalTo(plain); err != nil {
			log.Fatal(err)
		}
		if std {
			binary.BigEndian.PutUint16(iv[12:], v.seq)
			cipher.NewCTR(v.block, iv).XORKeyStream(dst[12:size], plain[12:size])
			copy(dst, plain[:12])
			v.mac(dst[:size])
		} else if _, err := v.ctx.EncryptRTP(dst, plain[:size], &hdr); err != nil {
			log.Fatal(err)
		}
		packets++
	}
	return (threadCPU() - cpu0) / time.Duration(packets)
}
