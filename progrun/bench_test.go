package progrun_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/sys"
	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/packet"
	"github.com/xdpkit/xdpkit/progrun"
)

// The overhead benchmarks run the same XDP program on the same 64-byte
// packet three ways: through a Runner, through a bare loop of the
// BPF_PROG_RUN syscall with exactly the buffers a Runner passes (packet
// in/out, xdp_md in/out), and through cilium/ebpf's Program.Run.
// bench/progrun.sh prints their ratios.

func benchProgram(b *testing.B) *ebpf.Program {
	testutil.RequirePrivileged(b)
	return testutil.LoadXDPPass(b, "bench")
}

var benchPacket = make([]byte, 64)

func BenchmarkRunnerXDP(b *testing.B) {
	r := progrun.New(benchProgram(b))
	in := progrun.Input{Data: benchPacket}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Run(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareSyscallXDP(b *testing.B) {
	prog := benchProgram(b)
	out := make([]byte, len(benchPacket)+64<<10)
	ctxIn := make([]byte, 24)
	ctxOut := make([]byte, 24)
	ctxIn[4] = byte(len(benchPacket)) // xdp_md.data_end
	attr := sys.ProgRunAttr{}
	b.ReportAllocs()
	for b.Loop() {
		attr = sys.ProgRunAttr{
			ProgFD:      uint32(prog.FD()),
			DataSizeIn:  uint32(len(benchPacket)),
			DataSizeOut: uint32(len(out)),
			DataIn:      sys.SlicePointer(benchPacket),
			DataOut:     sys.SlicePointer(out),
			CtxSizeIn:   24,
			CtxSizeOut:  24,
			CtxIn:       sys.SlicePointer(ctxIn),
			CtxOut:      sys.SlicePointer(ctxOut),
		}
		if err := sys.ProgRun(&attr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCiliumRunXDP(b *testing.B) {
	prog := benchProgram(b)
	out := make([]byte, len(benchPacket)+64<<10)
	b.ReportAllocs()
	for b.Loop() {
		opts := ebpf.RunOptions{Data: benchPacket, DataOut: out}
		if _, err := prog.Run(&opts); err != nil {
			b.Fatal(err)
		}
	}
}

// nopBackend answers every run at once, so that BenchmarkRunnerNoKernel
// measures what a Runner adds around the syscall.
type nopBackend struct{}

func (nopBackend) Type() ebpf.ProgramType { return ebpf.XDP }
func (nopBackend) Run(req *progrun.Request) error {
	req.Retval, req.DataSizeOut = 2, uint32(len(req.DataIn))
	return nil
}

// BenchmarkRunnerNoKernel is the Runner's own cost per run: checking the
// input, laying out the buffers, decoding the result.
func BenchmarkRunnerNoKernel(b *testing.B) {
	r := progrun.NewRunner(nopBackend{})
	in := progrun.Input{Data: benchPacket, Context: &progrun.XDPContext{}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Run(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunnerXDPRepeat shows the kernel's own per-run cost, with the
// syscall amortised over 1000 runs.
func BenchmarkRunnerXDPRepeat(b *testing.B) {
	r := progrun.New(benchProgram(b))
	in := progrun.Input{Data: benchPacket, Repeat: 1000}
	var kernel int64
	for b.Loop() {
		res, err := r.Run(in)
		if err != nil {
			b.Fatal(err)
		}
		kernel += res.Duration.Nanoseconds()
	}
	b.ReportMetric(float64(kernel)/float64(b.N), "kernel-ns/run")
}

// BenchmarkReplay measures pcap replay as xdpkit run does it: read a
// frame from a pcap in memory, run the program on it; 1000 frames per op.
func BenchmarkReplay(b *testing.B) {
	r := progrun.New(benchProgram(b))
	var file bytes.Buffer
	w, err := packet.NewWriter(&file)
	if err != nil {
		b.Fatal(err)
	}
	frame, err := packet.Build("eth/ipv4/udp(dport=53)/payload(22)")
	if err != nil {
		b.Fatal(err)
	}
	const frames = 1000
	for range frames {
		if err := w.Write(time.Unix(0, 0), frame); err != nil {
			b.Fatal(err)
		}
	}
	pcap := file.Bytes()
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		rd, err := packet.NewReader(bytes.NewReader(pcap))
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Run(progrun.Input{Data: rec.Data}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(frames*b.N)/time.Since(start).Seconds(), "packets/s")
}
