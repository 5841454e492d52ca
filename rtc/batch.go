package rtc

import (
	"net"
	"sync"

	"github.com/pion/transport/v5"
	"golang.org/x/net/ipv4"
)

// Batched UDP writes (Config.UDPBatch): the media port's IPv4 sockets
// queue outgoing packets, and one goroutine per socket sends whatever is
// queued with one sendmmsg (up to UDPBatch packets a call) instead of a
// sendto per packet. Nothing waits for a timer: a packet is sent as soon
// as the sender is free, so a quiet server sends each packet at once and a
// busy one (many viewers, a packet for each) sends dozens per system call.
// pion/transport's BatchConn flushes on a 0.5 ms ticker instead, which
// costs CPU while the server is idle (BENCHMARKS.md).
//
// The UDP mux takes any net.PacketConn, so the batching sockets come in
// through the network it listens with (batchNet). IPv6 sockets are left
// as they are.

// batchNet is the standard network whose IPv4 UDP sockets send in batches.
type batchNet struct {
	transport.Net
	size int // packets per sendmmsg
}

func (n batchNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil || laddr == nil || laddr.IP.To4() == nil {
		return c, err
	}
	if _, ok := c.(*net.UDPConn); !ok {
		return c, nil // sendmmsg needs the socket
	}
	return newBatchConn(c, n.size), nil
}

// batchQueueMax bounds the packets queued per socket; beyond it a writer
// sends its packet itself, as without batching.
const batchQueueMax = 4096

// batchConn sends through its queue and reads as the socket does.
type batchConn struct {
	transport.UDPConn
	pc   *ipv4.PacketConn
	size int

	mu     sync.Mutex
	queue  []ipv4.Message
	free   [][]byte // buffers of sent packets, for the next ones
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

func newBatchConn(c transport.UDPConn, size int) *batchConn {
	b := &batchConn{UDPConn: c, pc: ipv4.NewPacketConn(c), size: max(size, 1),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	go b.send()
	return b
}

// WriteTo queues a copy of p (the caller reuses its buffer).
func (b *batchConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return 0, net.ErrClosed
	}
	if len(b.queue) >= batchQueueMax {
		b.mu.Unlock()
		return b.UDPConn.WriteTo(p, addr)
	}
	var buf []byte
	if n := len(b.free); n > 0 {
		buf, b.free = b.free[n-1][:0], b.free[:n-1]
	}
	buf = append(buf, p...)
	b.queue = append(b.queue, ipv4.Message{Buffers: [][]byte{buf}, Addr: addr})
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

// send writes out the queue each time it is woken, until Close.
func (b *batchConn) send() {
	defer close(b.done)
	var spare []ipv4.Message
	for range b.wake {
		b.mu.Lock()
		batch := b.queue
		b.queue = spare[:0]
		closed := b.closed
		b.mu.Unlock()
		for i := 0; i < len(batch); {
			n, err := b.pc.WriteBatch(batch[i:min(i+b.size, len(batch))], 0)
			if err != nil || n == 0 {
				n = 1 // that packet is lost, as a failed sendto's would be
			}
			i += n
		}
		b.mu.Lock()
		for i := range batch {
			if len(b.free) < batchQueueMax {
				b.free = append(b.free, batch[i].Buffers[0])
			}
			batch[i] = ipv4.Message{}
		}
		b.mu.Unlock()
		spare = batch
		if closed {
			return
		}
	}
}

// Close sends what is queued and closes the socket.
func (b *batchConn) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return net.ErrClosed
	}
	b.closed = true
	b.mu.Unlock()
	close(b.wake)
	<-b.done
	return b.UDPConn.Close()
}
