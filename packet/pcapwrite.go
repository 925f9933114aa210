package packet

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// Writer writes Ethernet frames to a classic pcap file: little-endian,
// microsecond timestamps, snapshot length MaxRecordLen (262144). It does
// not buffer: wrap a file in a bufio.Writer, and flush it, for speed.
type Writer struct {
	w *pcapgo.Writer
}

// NewWriter writes the pcap file header to w and returns a Writer for the
// records.
func NewWriter(w io.Writer) (*Writer, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(MaxRecordLen, layers.LinkTypeEthernet); err != nil {
		return nil, fmt.Errorf("pcap: writing the file header: %w", err)
	}
	return &Writer{w: pw}, nil
}

// pcap holds seconds in 32 unsigned bits.
var (
	minPcapTime = time.Unix(0, 0)
	maxPcapTime = time.Unix(1<<32-1, 999999999)
)

// Write writes one record: frame, whole, stamped ts. A zero ts is written
// as the Unix epoch, so files are reproducible; a ts pcap cannot hold
// (before 1970 or after 2106) and a frame longer than MaxRecordLen are
// errors matching os.ErrInvalid.
func (w *Writer) Write(ts time.Time, frame []byte) error {
	if len(frame) > MaxRecordLen {
		return errs.Markf(os.ErrInvalid, "pcap: frame of %d bytes is longer than the %d a record holds", len(frame), MaxRecordLen)
	}
	if ts.IsZero() {
		ts = minPcapTime
	}
	if ts.Before(minPcapTime) || ts.After(maxPcapTime) {
		return errs.Markf(os.ErrInvalid, "pcap: timestamp %s is outside what pcap holds (1970 to 2106)", ts.UTC().Format(time.RFC3339Nano))
	}
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(frame), Length: len(frame)}
	if err := w.w.WritePacket(ci, frame); err != nil {
		return fmt.Errorf("pcap: writing a record: %w", err)
	}
	return nil
}
