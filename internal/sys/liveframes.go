package sys

import "unsafe"

// xdpMD is struct xdp_md as BPF_PROG_RUN takes it for an XDP context:
// data, data_end, data_meta, ingress_ifindex, rx_queue_index,
// egress_ifindex.
type xdpMD [6]uint32

// LiveFrames is a BPF_PROG_RUN call in XDP live-frames mode
// (BPF_F_TEST_XDP_LIVE_FRAMES), ready to be made again and again: the
// kernel fills a page pool once with the frame and runs the program over
// its pages, Repeat frames in batches, sending what the program sends. It
// holds the frame and the context, so that nothing is allocated per call.
// A LiveFrames is used by one goroutine at a time.
type LiveFrames struct {
	attr  ProgRunAttr
	frame []byte
	ctx   xdpMD
}

// NewLiveFrames prepares live-frames calls of the XDP program progFD on
// frame, as if received on ifindex's queue rxQueue (XDP_TX sends out of
// ifindex), batch frames per batch (0 for the kernel's default, 64). The
// frame is copied.
func NewLiveFrames(progFD int, frame []byte, ifindex, rxQueue, batch uint32) *LiveFrames {
	l := &LiveFrames{frame: append([]byte(nil), frame...)}
	l.ctx[1] = uint32(len(frame)) // data_end: the frame's length, as the kernel requires
	l.ctx[3] = ifindex
	l.ctx[4] = rxQueue
	l.attr = ProgRunAttr{
		ProgFD:     uint32(progFD),
		DataSizeIn: uint32(len(l.frame)),
		DataIn:     SlicePointer(l.frame),
		CtxSizeIn:  uint32(unsafe.Sizeof(l.ctx)),
		CtxIn:      NewPointer(unsafe.Pointer(&l.ctx)),
		Flags:      TestXDPLiveFrames,
		BatchSize:  batch,
	}
	return l
}

// Run runs the program over repeat frames and returns the errno, if any.
// EINTR means a signal arrived (see InterruptOnDone): the kernel stopped
// between two batches, after sending what the batch sent.
func (l *LiveFrames) Run(repeat uint32) error {
	a := l.attr
	a.Repeat = repeat
	return ProgRun(&a)
}
