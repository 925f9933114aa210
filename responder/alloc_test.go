package responder_test

import (
	"testing"

	"github.com/xdpkit/xdpkit/responder"
)

// benchRequests are one typical request of each kind, plus a large echo
// request and a frame that is not answered.
func benchRequests(tb testing.TB) []request {
	snm6, snmMAC6 := solicitedNode(own6)
	udp := fix4(mod(echo4{src: peer4, dst: own4, data: payload(56)}.frame(tb), func(_, ip []byte) { ip[9] = 17 }))
	return []request{
		{name: "arp-reply", frame: arpReq{spa: peer4, tpa: own4}.frame(tb), kind: responder.ARPReply},
		{name: "neighbor-advertisement", frame: ns{eth: eth{dmac: snmMAC6}, ip6: ip6{src: peer6, dst: snm6}, target: own6, sllao: true}.frame(tb), kind: responder.NeighborAdvertisement},
		{name: "neighbor-advertisement-dad", frame: ns{eth: eth{dmac: snmMAC6}, ip6: ip6{src: unspec, dst: snm6}, target: own6}.frame(tb), kind: responder.NeighborAdvertisement, slack: 8},
		{name: "echo-reply-v4", frame: echo4{src: peer4, dst: own4, id: 1, seq: 1, data: payload(56)}.frame(tb), kind: responder.EchoReplyV4},
		{name: "echo-reply-v4-1472", frame: echo4{src: peer4, dst: own4, id: 1, seq: 1, data: payload(1472)}.frame(tb), kind: responder.EchoReplyV4},
		{name: "echo-reply-v6", frame: echo6{ip6: ip6{src: peer6, dst: own6}, id: 1, seq: 1, data: payload(56)}.frame(tb), kind: responder.EchoReplyV6},
		{name: "echo-reply-v6-1452", frame: echo6{ip6: ip6{src: peer6, dst: own6}, id: 1, seq: 1, data: payload(1452)}.frame(tb), kind: responder.EchoReplyV6},
		{name: "none-udp", frame: udp, kind: responder.None},
	}
}

func TestAnswerAllocs(t *testing.T) {
	r := newResponder(t, testConfig())
	for _, q := range benchRequests(t) {
		buf := make([]byte, 2048) // a UMEM chunk
		var k responder.Kind
		allocs := testing.AllocsPerRun(100, func() {
			copy(buf, q.frame)
			_, k = r.Answer(buf, len(q.frame))
		})
		if k != q.kind {
			t.Errorf("%s: kind %v, want %v", q.name, k, q.kind)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Answer, want 0", q.name, allocs)
		}
	}
}

func BenchmarkAnswer(b *testing.B) {
	r := newResponder(b, testConfig())
	for _, q := range benchRequests(b) {
		b.Run(q.name, func(b *testing.B) {
			buf := make([]byte, 2048)
			b.ReportAllocs()
			b.SetBytes(int64(len(q.frame)))
			for b.Loop() {
				copy(buf, q.frame)
				if _, k := r.Answer(buf, len(q.frame)); k != q.kind {
					b.Fatalf("kind %v, want %v", k, q.kind)
				}
			}
		})
	}
}
