package progrun_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/packet"
	"github.com/xdpkit/xdpkit/progrun"
)

// Run an XDP program on one frame with metadata, and read the verdict,
// the frame and the metadata it left. (Needs CAP_BPF and a real object;
// the example compiles but does not run in go test.)
func ExampleRunner_Run() {
	coll, err := ebpf.LoadCollection("xdp_prog.o")
	if err != nil {
		log.Fatal(err)
	}
	defer coll.Close()

	frame, err := packet.Build("eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(dport=53)/payload(32)")
	if err != nil {
		log.Fatal(err)
	}
	r := progrun.New(coll.Programs["xdp_prog"])
	res, err := r.Run(progrun.Input{
		Data:    frame,
		Context: &progrun.XDPContext{IngressIfindex: 1, Meta: []byte{0, 0, 0, 7}},
	})
	switch {
	case errors.Is(err, progrun.ErrPacketTooShort):
		log.Fatal("give a whole Ethernet frame: ", err)
	case err != nil:
		log.Fatal(err)
	}
	meta := res.Context.(*progrun.XDPContext).Meta
	fmt.Println(res.Verdict, len(res.Data), meta, res.Duration)
}

// Time a SCHED_CLS program over 1000 runs with a mark in its __sk_buff.
func ExampleRunner_Run_repeat() {
	coll, err := ebpf.LoadCollection("tc_prog.o")
	if err != nil {
		log.Fatal(err)
	}
	defer coll.Close()

	frame, _ := packet.Build("eth/ipv6/tcp(dport=443)")
	r := progrun.New(coll.Programs["tc_prog"])
	res, err := r.Run(progrun.Input{Data: frame, Context: &progrun.SKBContext{Mark: 7}, Repeat: 1000})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v, %v per run, mark now %d\n", res.Verdict, res.Duration, res.Context.(*progrun.SKBContext).Mark)
}
