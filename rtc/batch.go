package rtc

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5"
	"golang.org/x/net/ipv4"
)

// Batched UDP writes (Config.UDPBatch): while a forwarder sends one packet
// to each of its subscribers (sendBatch.hold ... release), the media
// port's IPv4 sockets queue what is written to them, and the packets go
// out with one sendmmsg per UDPBatch of them, sent by the goroutine that
// filled the batch, and the rest when the forwarder is done. Outside such
// a fan-out a packet is sent at once, as without batching. No goroutine
// hands packets over and nothing waits for a timer: a queued packet waits
// at most for UDPBatch packets more or the end of one fan-out.
// pion/transport's BatchConn flushes on a 0.5 ms ticker instead, which
// costs CPU while the server is idle, and an earlier version here sent
// from one goroutine per socket, which a busy machine starved (the p99
// delay grew tenfold; BENCHMARKS.md).
//
// The UDP mux takes any net.PacketConn, so the batching sockets come in
// through the network it listens with (batchNet). IPv6 sockets are left
// as they are.

// sendBatch is the fan-outs in progress, shared by a server's sockets.
type sendBatch struct {
	holders atomic.Int32
	mu      sync.Mutex
	conns   []*batchConn
	// What the batches were (Stats): sendmmsg calls, the packets they
	// sent, calls that sent a whole UDPBatch, and calls that sent fewer
	// packets than given (an error after the first: a full socket buffer, say).
	calls, packets, full, short atomic.Uint64
}

// hold starts a fan-out: writes are queued until release.
func (s *sendBatch) hold() {
	if s != nil {
		s.holders.Add(1)
	}
}

// release ends a fan-out and sends whatever the sockets queued (a
// packet queued by a writer that is not fanning out waits no longer).
func (s *sendBatch) release() {
	if s == nil {
		return
	}
	s.holders.Add(-1)
	s.mu.Lock()
	conns := s.conns
	s.mu.Unlock()
	for _, c := range conns {
		c.flush()
	}
}

// batchNet is the standard network whose IPv4 UDP sockets send in batches.
type batchNet struct {
	transport.Net
	size  int // packets per sendmmsg
	batch *sendBatch
}

func (n batchNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil || laddr == nil || laddr.IP.To4() == nil {
		return c, err
	}
	raw, ok := c.(*net.UDPConn)
	if !ok {
		return c, nil // sendmmsg needs the socket
	}
	b := &batchConn{UDPConn: c, raw: raw, pc: ipv4.NewPacketConn(c), size: max(n.size, 1), batch: n.batch}
	n.batch.mu.Lock()
	n.batch.conns = append(n.batch.conns, b)
	n.batch.mu.Unlock()
	return b, nil
}

// batchQueueMax bounds the packets queued per socket; beyond it a writer
// sends its packet itself, as without batching.
const batchQueueMax = 4096

// batchConn sends through its queue and reads as the socket does. It
// reads and writes netip.AddrPort addresses (ice.AddrPortReaderWriter), as
// ICE does with a plain socket: no address is allocated per packet.
var _ ice.AddrPortReaderWriter = (*batchConn)(nil)

type batchConn struct {
	transport.UDPConn
	raw   *net.UDPConn
	pc    *ipv4.PacketConn
	size  int
	batch *sendBatch

	mu     sync.Mutex
	queue  []ipv4.Message
	free   []ipv4.Message   // messages sent, their buffer and address kept for the next ones
	spare  [][]ipv4.Message // emptied queues
	closed bool
}

// ReadFromAddrPort reads as the socket does.
func (b *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	return b.raw.ReadFromUDPAddrPort(p)
}

// WriteTo sends p to addr, queued during a fan-out.
func (b *batchConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	u, ok := addr.(*net.UDPAddr)
	if !ok {
		return b.UDPConn.WriteTo(p, addr)
	}
	return b.WriteToAddrPort(p, u.AddrPort())
}

// WriteToAddrPort sends p to addr, queued (a copy: the caller reuses its
// buffer) during a fan-out.
func (b *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	held := b.batch.holders.Load() > 0
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return 0, net.ErrClosed
	}
	ip := addr.Addr().Unmap()
	if (!held && len(b.queue) == 0) || len(b.queue) >= batchQueueMax || !ip.Is4() {
		b.mu.Unlock()
		return b.raw.WriteToUDPAddrPort(p, addr)
	}
	var m ipv4.Message
	if n := len(b.free); n > 0 {
		m, b.free = b.free[n-1], b.free[:n-1]
	} else {
		m = ipv4.Message{Buffers: [][]byte{make([]byte, 0, 1500)}, Addr: &net.UDPAddr{}}
	}
	m.Buffers[0] = append(m.Buffers[0][:0], p...)
	a, v4 := m.Addr.(*net.UDPAddr), ip.As4()
	a.IP, a.Port = append(a.IP[:0], v4[:]...), int(addr.Port())
	b.queue = append(b.queue, m)
	var out []ipv4.Message
	if !held || len(b.queue) >= b.size {
		out = b.take()
	}
	b.mu.Unlock()
	if out != nil {
		b.send(out)
	}
	return len(p), nil
}

// take empties the queue; the caller sends what it held. Under b.mu.
func (b *batchConn) take() []ipv4.Message {
	if len(b.queue) == 0 {
		return nil
	}
	out := b.queue
	b.queue = nil
	if n := len(b.spare); n > 0 {
		b.queue, b.spare = b.spare[n-1], b.spare[:n-1]
	}
	return out
}

// flush sends what is queued.
func (b *batchConn) flush() {
	b.mu.Lock()
	out := b.take()
	b.mu.Unlock()
	if out != nil {
		b.send(out)
	}
}

// send writes out, size packets per sendmmsg, and keeps its messages for
// the next packets.
func (b *batchConn) send(out []ipv4.Message) {
	for i := 0; i < len(out); {
		want := min(b.size, len(out)-i)
		n, err := b.pc.WriteBatch(out[i:i+want], 0)
		b.batch.calls.Add(1)
		if n > 0 {
			b.batch.packets.Add(uint64(n))
		}
		if n == b.size {
			b.batch.full.Add(1)
		} else if n < want {
			b.batch.short.Add(1)
		}
		if err != nil || n <= 0 {
			n = 1 // that packet is lost, as a failed sendto's would be
		}
		i += n
	}
	b.mu.Lock()
	for i := range out {
		out[i].N, out[i].NN, out[i].Flags = 0, 0, 0
		if len(b.free) < batchQueueMax {
			b.free = append(b.free, out[i])
		}
		out[i] = ipv4.Message{}
	}
	if len(b.spare) < 4 {
		b.spare = append(b.spare, out[:0])
	}
	b.mu.Unlock()
}

// Close sends what is queued and closes the socket.
func (b *batchConn) Close() error {
	b.flush()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return net.ErrClosed
	}
	b.closed = true
	b.mu.Unlock()
	return b.UDPConn.Close()
}
