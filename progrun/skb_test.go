package progrun_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/sys"
	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/progrun"
)

// The tests of the types that see the packet from the network header on
// run the programs of bpf/testprogs/run_skb.c. The kernel strips the
// Ethernet header before the run and puts back 14 zero bytes after it, so
// the packet out starts with zeros whatever went in; skb->len and the
// wire_len it reports count from the network header.

func TestSocketFilter(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_skb", "sock_keep")
	icmp := cat(ether(ethIPv4), ipv4(ip4A, ip4C, 1, 64, 0, 8), []byte{8, 0, 0xf7, 0xff, 0, 0, 0, 0})
	for _, tc := range []struct {
		name  string
		frame []byte
		code  uint32
		verd  string
	}{
		{"udp keeps its headers", udp4Frame(ip4C, 40000, 53, "query"), 28, "keep 28"},
		{"tcp dropped", tcp4Frame(ip4C, 40000, 80), 0, "drop"},
		// skb->len counts from the network header: 28 of the 42 bytes.
		{"icmp keeps skb->len", icmp, 28, "keep 28"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, r, progrun.Input{Data: tc.frame})
			wantVerdict(t, res, tc.code, tc.verd)
			if res.Verdict.Dropped() != (tc.code == 0) {
				t.Errorf("Dropped() = %v", res.Verdict.Dropped())
			}
			// The kernel does not trim to the length kept.
			wantBytes(t, "packet out", res.Data, zeroEther(tc.frame))
			c := skbOut(t, res)
			if c.WireLen != uint32(len(tc.frame)-14) || c.Ifindex != 1 {
				t.Errorf("wire_len %d ifindex %d, want %d and 1", c.WireLen, c.Ifindex, len(tc.frame)-14)
			}
		})
	}
	res := run(t, r, progrun.Input{Data: icmp, Repeat: 20})
	if res.Repeat != 20 || res.Duration <= 0 {
		t.Errorf("repeat %d duration %v, want 20 and > 0", res.Repeat, res.Duration)
	}
}

func TestCgroupSKB(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_skb", "cg_port")
	for _, tc := range []struct {
		name  string
		frame []byte
		code  uint32
		verd  string
		mark  uint32
	}{
		{"udp 53 allowed", udp4Frame(ip4C, 40000, 53, "query"), 1, "allow", 53},
		{"tcp 23 denied", tcp4Frame(ip4C, 40000, 23), 0, "drop", 23},
		{"udp 23 denied", udp4Frame(ip4C, 40000, 23, "x"), 0, "drop", 23},
		{"arp allowed", arpFrame(), 1, "allow", 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, r, progrun.Input{Data: tc.frame, Context: &progrun.SKBContext{Mark: 9}})
			wantVerdict(t, res, tc.code, tc.verd)
			if res.Verdict.Dropped() != (tc.code == 0) {
				t.Errorf("Dropped() = %v", res.Verdict.Dropped())
			}
			wantBytes(t, "packet out", res.Data, zeroEther(tc.frame))
			if c := skbOut(t, res); c.Mark != tc.mark {
				t.Errorf("mark %d, want %d", c.Mark, tc.mark)
			}
		})
	}
	res := run(t, r, progrun.Input{Data: udp4Frame(ip4C, 1, 2, ""), Repeat: 20})
	if res.Repeat != 20 || res.Duration <= 0 {
		t.Errorf("repeat %d duration %v, want 20 and > 0", res.Repeat, res.Duration)
	}
}

func TestLWT(t *testing.T) {
	testutil.RequirePrivileged(t)
	coll := loadCollection(t, "run_skb")
	for _, tc := range []struct {
		prog string
		typ  ebpf.ProgramType
		mark uint32
	}{
		{"lwt_in_prog", ebpf.LWTIn, 1},
		{"lwt_out_prog", ebpf.LWTOut, 2},
		{"lwt_xmit_prog", ebpf.LWTXmit, 3},
	} {
		t.Run(tc.prog, func(t *testing.T) {
			r := progrun.New(coll.Programs[tc.prog])
			if r.Type() != tc.typ {
				t.Fatalf("type %v, want %v", r.Type(), tc.typ)
			}

			blocked := udp4Frame(ip4C, 40000, 53, "to TEST-NET-1")
			res := run(t, r, progrun.Input{Data: blocked})
			wantVerdict(t, res, 2, "BPF_DROP")
			if !res.Verdict.Dropped() {
				t.Errorf("BPF_DROP not Dropped()")
			}
			wantBytes(t, "dropped packet out", res.Data, zeroEther(blocked))
			if c := skbOut(t, res); c.Mark != tc.mark {
				t.Errorf("mark %d, want %d", c.Mark, tc.mark)
			}

			passed := udp4Frame(ip4B, 40000, 53, "to TEST-NET-2")
			res = run(t, r, progrun.Input{Data: passed, Repeat: 10})
			wantVerdict(t, res, 0, "BPF_OK")
			want := zeroEther(passed)
			if tc.typ == ebpf.LWTXmit {
				// TOS 0x10, checksum recomputed; offset 1 of the IPv4
				// header, which is offset 0 for the program.
				want = setIPv4(want, 14, 1, 0x10)
			}
			wantBytes(t, "passed packet out", res.Data, want)
			if !ipv4Valid(res.Data, 14) {
				t.Errorf("IPv4 checksum of the packet out does not verify")
			}
			if res.Repeat != 10 || res.Duration <= 0 {
				t.Errorf("repeat %d duration %v, want 10 and > 0", res.Repeat, res.Duration)
			}
		})
	}
}

// The kernel has no test runner for LWT_SEG6LOCAL: it answers ENOTSUPP,
// which the Runner turns into ErrNotRunnable.
func TestLWTSeg6LocalNotRunnable(t *testing.T) {
	testutil.RequirePrivileged(t)
	r := loadRunner(t, "run_skb", "seg6_prog")
	_, err := r.Run(progrun.Input{Data: udp4Frame(ip4B, 1, 2, "")})
	if !errors.Is(err, progrun.ErrNotRunnable) || !errors.Is(err, ebpf.ErrNotSupported) || !errors.Is(err, sys.ENOTSUPP) {
		t.Fatalf("error %v, want ErrNotRunnable matching ebpf.ErrNotSupported and ENOTSUPP", err)
	}
	for _, s := range []string{"LWT_SEG6LOCAL", "the kernel has no test runner for LWT_SEG6LOCAL programs", "(kernel: ENOTSUPP)"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not contain %q", err, s)
		}
	}
}
