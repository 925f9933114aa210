package xsk

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/xdp"
)

// ProgramOptions says how to attach the default redirect program.
type ProgramOptions struct {
	// Mode is the XDP attach mode: xdp.ModeNative (the default) or
	// xdp.ModeGeneric.
	Mode xdp.Mode
}

// Program is xdpkit's default AF_XDP program (bpf/xsk_redirect.c)
// attached to an interface with a bpf_link: a queue's frames go to the
// socket registered for that queue, everything else passes to the stack.
// Closing it (or the process exiting) detaches it.
type Program struct {
	att   *xdp.Attachment
	xsks  *XSKMap
	stats *ebpf.Map
}

// ProgramObject returns the ELF object of the default program: the
// program "xsk_redirect" with its maps "xsks_map" (XSKMAP) and "xsk_stats".
// The slice is shared: do not modify it.
func ProgramObject() []byte { return _XskRedirectBytes }

// AttachProgram loads the default program with maps sized for the
// interface's queues (at least 64) and attaches it to iface. It needs
// CAP_BPF and CAP_NET_ADMIN; errors are those of xdp.Attach.
func AttachProgram(iface string, opts ProgramOptions) (*Program, error) {
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(_XskRedirectBytes))
	if err != nil {
		return nil, fmt.Errorf("parsing the built-in xsk_redirect object: %w", err)
	}
	dev, err := netdev.Lookup(iface)
	if err != nil {
		return nil, err
	}
	if n := uint32(max(dev.RxQueues, dev.TxQueues)); n > spec.Maps["xsks_map"].MaxEntries {
		spec.Maps["xsks_map"].MaxEntries = n
		spec.Maps["xsk_stats"].MaxEntries = 2 * n
	}
	att, err := xdp.Attach(xdp.AttachOptions{Interface: iface, Spec: spec, Program: "xsk_redirect", Mode: opts.Mode})
	if err != nil {
		return nil, explainTaken(err, iface)
	}
	xsks, err := OpenXSKMap(att.Map("xsks_map"))
	if err != nil {
		att.Close()
		return nil, err
	}
	return &Program{att: att, xsks: xsks, stats: att.Map("xsk_stats")}, nil
}

// explainTaken rewords xdp.Attach's "detach it first" when what holds the
// interface is this program, most likely of another process's sockets:
// detaching it would silently cut those off.
func explainTaken(err error, iface string) error {
	if !errors.Is(err, xdp.ErrAlreadyAttached) {
		return err
	}
	status, serr := xdp.Status(iface)
	if serr != nil || len(status) != 1 {
		return err
	}
	for _, p := range status[0].Programs {
		if p.Name == "xsk_redirect" {
			return errs.Mark(fmt.Errorf("%s already has xdpkit's AF_XDP redirect program (program %d), most likely of another process's AF_XDP sockets (an xdpkit xsk run, or another user of this package): its sockets would stop receiving if it were detached; register the sockets of all queues in one Program, or register in its XSKMAP (LoadPinnedXSKMap, once pinned)", iface, p.ID), xdp.ErrAlreadyAttached)
		}
	}
	return err
}

// Register puts s into the program's XSKMAP for its queue.
func (p *Program) Register(s *Socket) error { return p.xsks.Register(s) }

// XSKMap returns the program's XSKMAP.
func (p *Program) XSKMap() *XSKMap { return p.xsks }

// Attachment returns the attachment: program, link, interface.
func (p *Program) Attachment() *xdp.Attachment { return p.att }

// QueueCounters are what the program did with one queue's frames.
type QueueCounters struct {
	Queue      uint32 `json:"queue"`
	Redirected uint64 `json:"redirected"`
	Passed     uint64 `json:"passed"`
}

// Counters returns, for each queue that saw frames, how many the program
// redirected to a socket and how many it passed to the stack, summed over
// CPUs.
func (p *Program) Counters() ([]QueueCounters, error) {
	var out []QueueCounters
	var perCPU []uint64
	read := func(key uint32) (uint64, error) {
		if err := p.stats.Lookup(key, &perCPU); err != nil {
			return 0, fmt.Errorf("reading xsk_stats[%d]: %w", key, err)
		}
		var sum uint64
		for _, v := range perCPU {
			sum += v
		}
		return sum, nil
	}
	for q := uint32(0); 2*q+1 < p.stats.MaxEntries(); q++ {
		c := QueueCounters{Queue: q}
		var err error
		if c.Redirected, err = read(2 * q); err != nil {
			return nil, err
		}
		if c.Passed, err = read(2*q + 1); err != nil {
			return nil, err
		}
		if c.Redirected != 0 || c.Passed != 0 {
			out = append(out, c)
		}
	}
	return out, nil
}

// Close unregisters the sockets and detaches the program.
func (p *Program) Close() error {
	return errors.Join(p.xsks.Close(), p.att.Close())
}
