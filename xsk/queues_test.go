package xsk_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/netenv"
	"github.com/xdpkit/xdpkit/xsk"
)

// TestMultiQueueSharedUmem binds a socket to each of 4 queues with one
// UMEM (each with its own FILL and COMPLETION rings and its own range of
// frames), registers them in one program, and sends frames to each queue
// from the inner end: every socket gets exactly the frames of its queue.
//
// Frames are steered by queue: a copy-mode AF_XDP socket sends on its own
// TX queue, and a veth hands what arrives on its TX queue q to its peer's
// RX queue q.
func TestMultiQueueSharedUmem(t *testing.T) {
	const (
		queues   = 4
		perQueue = 200 // fewer than a FILL ring holds: no refill needed
		frames   = 512 // per queue
	)
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true, Queues: queues})
	umem := newUmem(t, xsk.UmemConfig{NumFrames: queues * frames, FillSize: 256, CompletionSize: 256})
	socks := make([]*xsk.Socket, queues)
	pools := make([]*xsk.FramePool, queues)
	for q := range uint32(queues) {
		s, err := xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Queue: q, RxSize: 256, TxSize: 64, Mode: xsk.ModeCopy})
		if err != nil {
			t.Fatalf("queue %d: %v", q, err)
		}
		defer s.Close()
		if s.Queue() != q || s.Ifindex() != env.Outer.Ifindex || s.Umem() != umem {
			t.Fatalf("socket of queue %d: queue %d ifindex %d", q, s.Queue(), s.Ifindex())
		}
		socks[q] = s
		pools[q] = xsk.NewFramePool(umem, q*frames, frames)
		if n := s.FillFrom(pools[q], 256); n != 256 {
			t.Fatalf("queue %d: FillFrom moved %d", q, n)
		}
	}
	for i := range socks {
		for j := range i {
			if socks[i].Fill() == socks[j].Fill() || socks[i].Completion() == socks[j].Completion() {
				t.Fatalf("sockets of queues %d and %d share their FILL or COMPLETION ring", j, i)
			}
		}
	}
	prog, err := xsk.AttachProgram(env.Outer.Interface, xsk.ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	for _, s := range socks {
		if err := prog.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	for q := range uint32(queues) {
		if prog.XSKMap().Registered(q) != socks[q] {
			t.Fatalf("XSKMAP entry %d does not hold its socket", q)
		}
	}

	for q := range uint32(queues) {
		newInnerSender(t, env, q).send(t, env, q<<16, perQueue)
	}

	// Drain all sockets: frame seq q<<16|i must come on queue q.
	got := receiveEach(t, socks, pools, frames, queues*perQueue, 5*time.Second)
	for q := range uint32(queues) {
		if len(got[q]) != perQueue {
			t.Errorf("queue %d received %d distinct frames, want %d", q, len(got[q]), perQueue)
		}
		for seq, c := range got[q] {
			if seq>>16 != q || seq&0xffff >= perQueue || c != 1 {
				t.Errorf("queue %d received frame %#x %d times (sent to queue %d)", q, seq, c, seq>>16)
			}
		}
	}
	c := counters(t, prog)
	for q := range uint32(queues) {
		if c[q].Redirected < perQueue {
			t.Errorf("program redirected %d frames of queue %d, want >= %d (%+v)", c[q].Redirected, q, perQueue, c)
		}
		st, err := socks[q].Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st != (xsk.Statistics{}) {
			t.Errorf("queue %d: drops %+v", q, st)
		}
	}
}

// TestSharedUmemSameQueue: sockets of one UMEM on one queue share its
// FILL and COMPLETION rings, also on a queue other than the first
// socket's; a socket of another UMEM cannot take a queue that has one.
func TestSharedUmemSameQueue(t *testing.T) {
	env := testutil.NewEnv(t, netenv.Spec{NoIPv6: true, Queues: 3})
	sender := newInnerSender(t, env, 0)
	fds := openFDs(t)
	umem, err := xsk.NewUmem(smallUmem())
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(q uint32) xsk.SocketConfig {
		return xsk.SocketConfig{Interface: env.Outer.Interface, Queue: q, RxSize: 128, TxSize: 64, Mode: xsk.ModeCopy}
	}
	s1, err := xsk.NewSocket(umem, cfg(0))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := xsk.NewSocket(umem, cfg(0))
	if err != nil {
		t.Fatalf("second socket on queue 0 (shared UMEM): %v", err)
	}
	if s2.Fill() != s1.Fill() || s2.Completion() != s1.Completion() {
		t.Fatal("sockets on one queue do not share FILL and COMPLETION")
	}
	if s2.RX() == s1.RX() || s2.FD() == s1.FD() {
		t.Fatal("sockets share their RX ring or fd")
	}
	// Queue 1: one socket with rings of its own, a second sharing them.
	s3, err := xsk.NewSocket(umem, cfg(1))
	if err != nil {
		t.Fatal(err)
	}
	s4, err := xsk.NewSocket(umem, cfg(1))
	if err != nil {
		t.Fatalf("second socket on queue 1 (shared UMEM): %v", err)
	}
	if s3.Fill() == s1.Fill() || s4.Fill() != s3.Fill() || s4.Completion() != s3.Completion() {
		t.Fatal("queue 1's sockets do not share their own FILL and COMPLETION")
	}
	// Shared sockets take the first socket's mode and need_wakeup.
	_, err = xsk.NewSocket(umem, xsk.SocketConfig{Interface: env.Outer.Interface, Queue: 2, NeedWakeup: true})
	if !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "NeedWakeup") {
		t.Errorf("shared socket asking for need_wakeup the first socket lacks: %v", err)
	}

	// Another UMEM on a taken queue.
	other, err := xsk.NewUmem(smallUmem())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []uint32{0, 1} {
		_, err = xsk.NewSocket(other, cfg(q))
		if !errors.Is(err, xsk.ErrQueueBusy) {
			t.Fatalf("socket of another UMEM on queue %d: %v; want ErrQueueBusy", q, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "close it") || !strings.Contains(msg, "share") {
			t.Errorf("ErrQueueBusy message %q does not say to close the socket or share its UMEM", msg)
		}
	}
	// The failed binds leave the other UMEM usable.
	s5, err := xsk.NewSocket(other, cfg(2))
	if err != nil {
		t.Fatalf("the other UMEM on the free queue 2 after failed binds: %v", err)
	}

	// Frames to queue 0 reach s2 through the shared FILL ring, also
	// after s1 (the UMEM's first socket) closed.
	prog, err := xsk.AttachProgram(env.Outer.Interface, xsk.ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Register(s2); err != nil {
		t.Fatal(err)
	}
	pool := xsk.NewFramePool(umem, 0, umem.NumFrames())
	s1.FillFrom(pool, 128)
	sender.send(t, env, 0, 100)
	if seen := receive(t, s2, pool, 100, 5*time.Second); len(seen) != 100 {
		t.Fatalf("s2 received %d frames through the shared FILL ring, want 100", len(seen))
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	sender.send(t, env, 100, 100)
	if seen := receive(t, s2, pool, 100, 5*time.Second); len(seen) != 100 {
		t.Fatalf("s2 received %d frames after the first socket closed, want 100", len(seen))
	}
	if err := umem.Close(); !errors.Is(err, xsk.ErrInUse) {
		t.Fatalf("Umem.Close with open sockets: %v; want ErrInUse", err)
	}
	// s4 keeps queue 1's rings after s3 closes, and a new socket joins
	// them through s4.
	if err := s3.Close(); err != nil {
		t.Fatal(err)
	}
	s6, err := xsk.NewSocket(umem, cfg(1))
	if err != nil {
		t.Fatalf("joining queue 1's rings after their first socket closed: %v", err)
	}
	if s6.Fill() != s4.Fill() {
		t.Fatal("s6 does not share s4's FILL ring")
	}

	if err := prog.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*xsk.Socket{s2, s4, s5, s6} {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := umem.Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	checkNoFDLeak(t, fds)
}

// TestSharedUmemTwoInterfaces: one UMEM, a socket on each of two
// interfaces (the second with XDP_SHARED_UMEM and FILL and COMPLETION
// rings of its own), each with its own range of frames and a program on
// its interface: both receive their interface's frames, into their own
// frames only.
func TestSharedUmemTwoInterfaces(t *testing.T) {
	const (
		perSocket = 256 // frames
		n         = 300 // frames sent to each, more than a FILL ring holds
	)
	envs := []*netenv.Env{
		testutil.NewEnv(t, netenv.Spec{NoIPv6: true}),
		testutil.NewEnv(t, netenv.Spec{NoIPv6: true}),
	}
	umem := newUmem(t, xsk.UmemConfig{NumFrames: 2 * perSocket, FillSize: 128, CompletionSize: 128})
	socks := make([]*xsk.Socket, len(envs))
	pools := make([]*xsk.FramePool, len(envs))
	for i, env := range envs {
		socks[i], _ = listen(t, umem, xsk.SocketConfig{Interface: env.Outer.Interface, RxSize: 128, TxSize: 64, Mode: xsk.ModeCopy})
		pools[i] = xsk.NewFramePool(umem, uint32(i)*perSocket, perSocket)
		socks[i].FillFrom(pools[i], socks[i].Fill().Size())
	}
	if socks[0].Fill() == socks[1].Fill() || socks[0].Completion() == socks[1].Completion() {
		t.Fatal("the sockets of two interfaces share their FILL or COMPLETION ring")
	}
	if socks[0].Ifindex() == socks[1].Ifindex() {
		t.Fatal("both sockets are on one interface")
	}

	senders := []*innerSender{newInnerSender(t, envs[0], 0), newInnerSender(t, envs[1], 0)}
	for batch := range uint32(3) {
		for i, s := range senders {
			s.send(t, envs[i], uint32(i)<<16|batch*(n/3), n/3)
		}
		got := receiveEach(t, socks, pools, perSocket, 2*(n/3), 5*time.Second)
		for i := range socks {
			if len(got[i]) != n/3 {
				t.Fatalf("batch %d: socket on %s received %d of %d frames", batch, envs[i].Outer.Interface, len(got[i]), n/3)
			}
			for seq, c := range got[i] {
				if seq>>16 != uint32(i) || c != 1 {
					t.Fatalf("socket %d received frame %#x %d times (sent to socket %d)", i, seq, c, seq>>16)
				}
			}
		}
	}
	for i, s := range socks {
		if st, err := s.Stats(); err != nil || st != (xsk.Statistics{}) {
			t.Errorf("socket %d: drops %+v, %v", i, st, err)
		}
	}
}
