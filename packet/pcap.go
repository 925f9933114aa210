package packet

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// MaxRecordLen is the longest record the Reader takes and the Writer
// writes: libpcap's MAXIMUM_SNAPLEN. Longer records are bad records.
const MaxRecordLen = 262144

// Record is one packet record of a capture file.
type Record struct {
	// Index is the 1-based number of the record in the file; bad records
	// count too.
	Index     int
	Timestamp time.Time // UTC
	// Data is the frame as captured. It points into the Reader's buffer
	// and is overwritten by the next call to Next (which so allocates
	// nothing per record); copy it to keep it.
	Data []byte
	// OriginalLength is the length of the packet on the wire, of which
	// Data holds the first len(Data) bytes.
	OriginalLength int
}

// RecordError is a bad record: Reader.Next returns it and, where the file
// still makes sense, goes on with the next record on the following call.
type RecordError struct {
	Index int // 1-based, as Record.Index
	Err   error
}

// Error returns e.g. "record 7: capture length 70000 exceeds the snapshot
// length 65535".
func (e *RecordError) Error() string { return fmt.Sprintf("record %d: %v", e.Index, e.Err) }

// Unwrap returns Err.
func (e *RecordError) Unwrap() error { return e.Err }

// Reader reads Ethernet frames from a classic pcap file (either byte
// order, microsecond or nanosecond timestamps) or a pcapng file, either of
// them gzipped or not. It is tolerant: a bad record is reported as a
// *RecordError and, when the file's structure allows it, the next call to
// Next returns the record after it. In a pcapng file, packets of
// interfaces whose link type differs from the first interface's are
// skipped, as libpcap does, and not counted.
type Reader struct {
	classic *classicReader
	ng      *pcapgo.NgReader
	closer  io.Closer
	index   int
	done    bool // no more records: the file ended or its structure is lost
}

// Magic numbers of capture files.
const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	pcapngMagic    = 0x0a0d0d0a
)

// NewReader reads the file header from r and returns a Reader for the
// records after it. The link type must be Ethernet. Errors match
// os.ErrInvalid when the input is not a capture file xdpkit can read.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(2)
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, errs.Markf(os.ErrInvalid, "pcap: gzip: %w", err)
		}
		br = bufio.NewReader(zr)
	} else if err != nil && err != io.EOF {
		return nil, fmt.Errorf("pcap: reading the file header: %w", err)
	}
	head, err = br.Peek(4)
	if len(head) == 0 {
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("pcap: reading the file header: %w", err)
		}
		return nil, errs.Markf(os.ErrInvalid, "pcap: empty input; want a pcap or pcapng file")
	}
	if len(head) < 4 {
		return nil, errs.Markf(os.ErrInvalid, "pcap: file header truncated (%d bytes)", len(head))
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == pcapngMagic:
		return newNgReader(br)
	case le == pcapMagicMicro || le == pcapMagicNano || be == pcapMagicMicro || be == pcapMagicNano:
		c, err := newClassicReader(br)
		if err != nil {
			return nil, err
		}
		return &Reader{classic: c}, nil
	}
	return nil, errs.Markf(os.ErrInvalid, "pcap: not a pcap or pcapng file (it starts with %x; pcap starts with d4c3b2a1 or a1b2c3d4, pcapng with 0a0d0d0a)", head)
}

// Open opens a capture file for NewReader; Close closes it.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer = f
	return r, nil
}

// Close closes the file Open opened; for a Reader from NewReader it does
// nothing.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	return c.Close()
}

// errNotEthernet is the error for a capture of another link type.
func errNotEthernet(lt uint32) error {
	name := ""
	if lt <= 0xffff {
		name = layers.LinkType(lt).String()
	}
	if name != "" && name != "UnknownLinkType" {
		return errs.Markf(os.ErrInvalid, "pcap: link type %d (%s) is not Ethernet; xdpkit needs Ethernet frames (LINKTYPE_ETHERNET, 1)", lt, name)
	}
	return errs.Markf(os.ErrInvalid, "pcap: link type %d is not Ethernet; xdpkit needs Ethernet frames (LINKTYPE_ETHERNET, 1)", lt)
}

// Next returns the next record; io.EOF after the last. A bad record is a
// *RecordError (matching os.ErrInvalid); call Next again for the record
// after it, which is io.EOF when the bad record ended the file or left it
// unreadable. Records longer than MaxRecordLen are bad records and are
// skipped without being held in memory.
func (r *Reader) Next() (Record, error) {
	if r.done {
		return Record{}, io.EOF
	}
	r.index++
	var rec Record
	var err error
	if r.classic != nil {
		rec, err = r.classic.next(r)
	} else {
		rec, err = r.nextNg()
	}
	if err == io.EOF {
		r.done = true
		return Record{}, io.EOF
	}
	if err != nil {
		return Record{}, &RecordError{Index: r.index, Err: err}
	}
	rec.Index = r.index
	return rec, nil
}

// badRecord marks a bad record's error as invalid input.
func badRecord(format string, args ...any) error {
	return errs.Markf(os.ErrInvalid, format, args...)
}

// classicReader reads the records of a classic pcap file.
type classicReader struct {
	r       *bufio.Reader
	order   binary.ByteOrder
	nanos   bool   // timestamp fractions are nanoseconds, not microseconds
	snaplen uint32 // from the header
	limit   int    // longest record taken: snaplen, at most MaxRecordLen
	hdr     [16]byte
	buf     []byte // the last record's bytes, reused
}

func newClassicReader(r *bufio.Reader) (*classicReader, error) {
	var h [24]byte
	if n, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return nil, errs.Markf(os.ErrInvalid, "pcap: file header truncated (%d of 24 bytes)", n)
		}
		return nil, fmt.Errorf("pcap: reading the file header: %w", err)
	}
	c := &classicReader{r: r, order: binary.LittleEndian}
	magic := c.order.Uint32(h[0:4])
	if magic != pcapMagicMicro && magic != pcapMagicNano {
		c.order = binary.BigEndian
		magic = c.order.Uint32(h[0:4])
	}
	c.nanos = magic == pcapMagicNano
	if major := c.order.Uint16(h[4:6]); major != 2 {
		return nil, errs.Markf(os.ErrInvalid, "pcap: version %d.%d is not 2.x; xdpkit reads pcap 2.4 and pcapng", major, c.order.Uint16(h[6:8]))
	}
	c.snaplen = c.order.Uint32(h[16:20])
	// The low 16 bits are the link type; the high ones may describe an FCS.
	if lt := c.order.Uint32(h[20:24]) & 0xffff; lt != uint32(layers.LinkTypeEthernet) {
		return nil, errNotEthernet(lt)
	}
	c.limit = MaxRecordLen
	if c.snaplen != 0 && c.snaplen < MaxRecordLen {
		c.limit = int(c.snaplen)
	}
	return c, nil
}

func (c *classicReader) next(r *Reader) (Record, error) {
	n, err := io.ReadFull(c.r, c.hdr[:])
	switch {
	case err == io.EOF:
		return Record{}, io.EOF
	case err == io.ErrUnexpectedEOF:
		r.done = true
		return Record{}, badRecord("truncated record header (%d of 16 bytes at the end of the file): %w", n, io.ErrUnexpectedEOF)
	case err != nil:
		r.done = true
		return Record{}, fmt.Errorf("reading the record header: %w", err)
	}
	sec, frac := c.order.Uint32(c.hdr[0:4]), c.order.Uint32(c.hdr[4:8])
	caplen, origlen := c.order.Uint32(c.hdr[8:12]), c.order.Uint32(c.hdr[12:16])
	if uint64(caplen) > uint64(c.limit) {
		skipped, err := c.r.Discard(min(int(caplen), 1<<30))
		if err != nil || uint64(skipped) < uint64(caplen) {
			r.done = true
			return Record{}, badRecord("capture length %d exceeds the %s, and the file ends after %d of its bytes", caplen, c.limitName(), skipped)
		}
		return Record{}, badRecord("capture length %d exceeds the %s", caplen, c.limitName())
	}
	if cap(c.buf) < int(caplen) {
		c.buf = make([]byte, caplen)
	}
	data := c.buf[:caplen]
	if got, err := io.ReadFull(c.r, data); err != nil {
		r.done = true
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return Record{}, badRecord("truncated: capture length %d, but the file ends after %d bytes: %w", caplen, got, io.ErrUnexpectedEOF)
		}
		return Record{}, fmt.Errorf("reading %d bytes: %w", caplen, err)
	}
	if caplen > origlen {
		return Record{}, badRecord("capture length %d exceeds the original length %d", caplen, origlen)
	}
	ns := int64(frac)
	if !c.nanos {
		ns *= 1000
	}
	return Record{
		Timestamp:      time.Unix(int64(sec), ns).UTC(),
		Data:           data,
		OriginalLength: int(origlen),
	}, nil
}

// limitName names what limits a record's length.
func (c *classicReader) limitName() string {
	if c.limit == int(c.snaplen) {
		return fmt.Sprintf("snapshot length %d", c.snaplen)
	}
	return fmt.Sprintf("largest record xdpkit reads (%d bytes)", MaxRecordLen)
}

func newNgReader(r io.Reader) (*Reader, error) {
	ng, err := pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{})
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errs.Markf(os.ErrInvalid, "pcapng: no interface description before the end of the file (the file is truncated or holds no packets)")
		}
		return nil, errs.Markf(os.ErrInvalid, "pcapng: %w", err)
	}
	if lt := ng.LinkType(); lt != layers.LinkTypeEthernet {
		return nil, errNotEthernet(uint32(lt))
	}
	return &Reader{ng: ng}, nil
}

// nextNg reads a pcapng record. pcapgo's reader cannot resume after an
// error in the middle of a block, so such an error ends the file; a
// record that was read whole but is bad does not.
func (r *Reader) nextNg() (Record, error) {
	data, ci, err := r.ng.ZeroCopyReadPacketData()
	switch {
	case err == io.EOF:
		return Record{}, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		r.done = true
		return Record{}, badRecord("truncated block at the end of the file: %w", err)
	case err != nil:
		r.done = true
		return Record{}, badRecord("pcapng: %w", err)
	}
	switch {
	case len(data) > MaxRecordLen:
		return Record{}, badRecord("capture length %d exceeds the largest record xdpkit reads (%d bytes)", len(data), MaxRecordLen)
	case ci.CaptureLength > ci.Length:
		return Record{}, badRecord("capture length %d exceeds the original length %d", ci.CaptureLength, ci.Length)
	}
	return Record{Timestamp: ci.Timestamp.UTC(), Data: data, OriginalLength: ci.Length}, nil
}
