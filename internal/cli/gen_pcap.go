package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/netdev"
	"github.com/xdpkit/xdpkit/packet"
	"github.com/xdpkit/xdpkit/trafficgen"
)

func newGenPcapCmd(g *globals) *cobra.Command {
	var rf genRunFlags
	cmd := &cobra.Command{
		Use:   "pcap IFACE FILE",
		Short: "Send the frames of a pcap file out of IFACE, in order, looped",
		Long: fmt.Sprintf(`Send the frames of the pcap or pcapng FILE out of IFACE with XDP live
frames: all of them in the file's order, then again from the first, until
--count frames, --duration or Ctrl-C. The frames are sent as captured (no
timing: as fast as the kernel goes, or at --pps). With --threads N above 1
the threads take turns: the first sends frames 1, 1+N, 1+2N, ... of the
file, the second 2, 2+N, ..., so the order holds within a thread only and
the threads' frames interleave on the wire.

FILE must hold 1 to %d Ethernet frames. A record that cannot be read,
one captured truncated (a snap length: tcpdump -s 0 captures whole
frames), a frame shorter than an Ethernet header (14 bytes), or longer
than the MTU + 14 (+ 4 with a VLAN tag) of the interface the frames leave
by or than %d bytes (what one live-frames page holds), is an error
naming the record; frames of 14 to 59 bytes are padded with zeros to 60,
the Ethernet minimum without FCS.

`, trafficgen.MaxFrames, trafficgen.MaxFrameLen) + genRunHelp,
		Example: `  xdpkit gen pcap xk-demo capture.pcap --count 1000000 --peer-prog
  xdpkit gen pcap eth0 mix.pcapng --pps 50000 --duration 30s --json`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenPcap(cmd, g, args[0], args[1], &rf)
		},
	}
	addGenRunFlags(cmd, &rf)
	return cmd
}

func runGenPcap(cmd *cobra.Command, g *globals, iface, path string, rf *genRunFlags) error {
	spec, err := genSpec(cmd, iface, rf)
	if err != nil {
		return err
	}
	at, out, err := genDevices(&spec)
	if err != nil {
		return err
	}
	frames, padded, err := readGenPcap(path, at)
	if err != nil {
		return err
	}
	if err := caps.Require(caps.BPF, caps.NetAdmin); err != nil {
		return err
	}
	spec.Frames = frames
	total := 0
	for _, f := range frames {
		total += len(f)
	}
	what := fmt.Sprintf("the %d frames of %s (%d bytes in all)", len(frames), path, total)
	if len(frames) == 1 {
		what = fmt.Sprintf("the frame of %s (%d bytes)", path, total)
	}
	if padded > 0 {
		what += fmt.Sprintf(", %d of them padded to %d bytes", padded, trafficgen.MinFrameLen)
	}
	return runGenerator(cmd, g, genJob{mode: "pcap", spec: spec, out: out, rf: rf, what: what, pcap: path})
}

// readGenPcap reads every frame of the pcap at path for sending by dev:
// a bad record, a record captured truncated, a frame too short or too
// long is an error naming the record. Frames shorter than MinFrameLen are
// padded; padded counts them.
func readGenPcap(path string, dev *netdev.Device) (frames [][]byte, padded int, err error) {
	rd, err := packet.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer rd.Close()
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *packet.RecordError
		if errors.As(err, &re) {
			return nil, 0, usagef("%s: %v: fix or drop the record (editcap -r can keep the others) and try again", path, re)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		n := len(rec.Data)
		limit, why, page := frameLimit(dev, rec.Data)
		switch {
		case rec.OriginalLength > n:
			// Padding would send a frame nobody captured.
			return nil, 0, usagef("%s: record %d was captured truncated (%d of %d bytes): recapture without a snap length, tcpdump -s 0",
				path, rec.Index, n, rec.OriginalLength)
		case n < trafficgen.EthernetHeaderLen:
			return nil, 0, usagef("%s: record %d is %d bytes, shorter than an Ethernet header (%d bytes): it cannot be sent; drop it from the file",
				path, rec.Index, n, trafficgen.EthernetHeaderLen)
		case n > limit:
			fix := "drop it, or raise the MTU"
			if page {
				fix = "drop it: no longer frame fits a live-frames page"
			}
			return nil, 0, usagef("%s: record %d is %d bytes, longer than the %d bytes %s can send (%s): %s",
				path, rec.Index, n, limit, dev.Name, why, fix)
		}
		if len(frames) == trafficgen.MaxFrames {
			return nil, 0, usagef("%s holds more than %d frames, the most the generator keeps: cut it (editcap -r %s out.pcap 1-%d)",
				path, trafficgen.MaxFrames, path, trafficgen.MaxFrames)
		}
		frame := make([]byte, max(n, trafficgen.MinFrameLen))
		copy(frame, rec.Data)
		if n < trafficgen.MinFrameLen {
			padded++
		}
		frames = append(frames, frame)
	}
	if len(frames) == 0 {
		return nil, 0, usagef("%s holds no frames: nothing to send; give a capture with at least one Ethernet frame", path)
	}
	return frames, padded, nil
}
