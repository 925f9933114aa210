// Package trafficgen is a traffic generator on XDP live frames
// (BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES): the kernel fills a page
// pool once with a frame and runs an XDP program over its pages in a loop,
// and every frame the program returns XDP_TX for leaves the interface.
//
// A Generator runs one worker per CPU, each a locked OS thread pinned to
// its CPU making one long live-frames call: every call pays a fixed set-up
// of tens of milliseconds, so the run is never cut into short calls. The
// generator's own program (bpf/xdp_gen.c) counts what it sends in per-CPU
// counters, which Stats reads at any time; it paces with a token bucket
// (a frame over budget is dropped, which only recycles its page), stops at
// each worker's share of Count, and varies ports and addresses from a
// frame counter, writing absolute values, since pages are recycled
// without being rewritten. Stop interrupts the calls with a signal to each
// worker's thread, which the kernel checks between batches.
//
// Build the frame with Template (or take frames from a pcap), describe the
// run with a Spec, then New, Start, Stats, Wait and Close:
//
//	frame, _ := trafficgen.Template{Proto: trafficgen.UDP, ...}.Frame()
//	g, err := trafficgen.New(trafficgen.Spec{Interface: "veth0", Frames: [][]byte{frame}, Count: 1e6})
//	if err != nil { ... }
//	defer g.Close()
//	if err := g.Start(); err != nil { ... }
//	stats, err := g.Wait()
package trafficgen
