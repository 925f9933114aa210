package packet

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pcapFile builds a classic pcap file by hand.
type pcapFile struct {
	order binary.ByteOrder
	buf   bytes.Buffer
}

func newPcapFile(order binary.ByteOrder, magic, snaplen, linkType uint32) *pcapFile {
	f := &pcapFile{order: order}
	h := make([]byte, 24)
	order.PutUint32(h[0:], magic)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], snaplen)
	order.PutUint32(h[20:], linkType)
	f.buf.Write(h)
	return f
}

// record appends a record header and data; caplen and origlen are written
// as given, whatever len(data) is.
func (f *pcapFile) record(sec, frac, caplen, origlen uint32, data []byte) *pcapFile {
	h := make([]byte, 16)
	f.order.PutUint32(h[0:], sec)
	f.order.PutUint32(h[4:], frac)
	f.order.PutUint32(h[8:], caplen)
	f.order.PutUint32(h[12:], origlen)
	f.buf.Write(h)
	f.buf.Write(data)
	return f
}

func (f *pcapFile) good(sec uint32, data []byte) *pcapFile {
	return f.record(sec, 0, uint32(len(data)), uint32(len(data)), data)
}

func (f *pcapFile) bytes() []byte { return f.buf.Bytes() }

func frameN(n int, fill byte) []byte { return bytes.Repeat([]byte{fill}, n) }

// readAll calls Next until io.EOF (at most 100 times) and returns what
// each call gave: a record index, or an error.
type result struct {
	rec Record
	err error
}

func readAll(t *testing.T, r *Reader) []result {
	t.Helper()
	var out []result
	for range 100 {
		rec, err := r.Next()
		if err == io.EOF {
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("Next after io.EOF = %v, want io.EOF", err)
			}
			return out
		}
		rec.Data = bytes.Clone(rec.Data) // Next reuses its buffer
		out = append(out, result{rec, err})
	}
	t.Fatal("Next never returned io.EOF")
	return nil
}

func TestWriterReaderRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	frames := [][]byte{expectUDPv4(), expectARP(), {1, 2, 3}, {}}
	base := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	for i, f := range frames {
		if err := w.Write(base.Add(time.Duration(i)*time.Second), f); err != nil {
			t.Fatal(err)
		}
	}
	h := buf.Bytes()[:24]
	if !bytes.Equal(h[:4], []byte{0xd4, 0xc3, 0xb2, 0xa1}) || binary.LittleEndian.Uint32(h[16:]) != 262144 || binary.LittleEndian.Uint32(h[20:]) != 1 {
		t.Fatalf("file header %x", h)
	}
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	if len(got) != len(frames) {
		t.Fatalf("read %d records, want %d", len(got), len(frames))
	}
	for i, res := range got {
		if res.err != nil {
			t.Fatalf("record %d: %v", i+1, res.err)
		}
		want := base.Add(time.Duration(i) * time.Second).Truncate(time.Microsecond)
		if res.rec.Index != i+1 || !bytes.Equal(res.rec.Data, frames[i]) || !res.rec.Timestamp.Equal(want) || res.rec.OriginalLength != len(frames[i]) {
			t.Errorf("record %d = %+v, want data %x at %v", i+1, res.rec, frames[i], want)
		}
		if res.rec.Timestamp.Location() != time.UTC {
			t.Errorf("record %d timestamp not UTC", i+1)
		}
	}
}

func TestWriterErrors(t *testing.T) {
	w, err := NewWriter(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(time.Unix(1, 0), make([]byte, MaxRecordLen+1)); err == nil || !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "frame of 262145 bytes is longer than the 262144 a record holds") {
		t.Errorf("long frame: %v", err)
	}
	if err := w.Write(time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), []byte{1}); err == nil || !strings.Contains(err.Error(), "outside what pcap holds") {
		t.Errorf("1969: %v", err)
	}
	var buf bytes.Buffer
	w, _ = NewWriter(&buf)
	if err := w.Write(time.Time{}, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if sec := binary.LittleEndian.Uint32(buf.Bytes()[24:]); sec != 0 {
		t.Errorf("zero time written as %d, want the epoch", sec)
	}
}

func TestReaderSkipsRecordOverSnaplen(t *testing.T) {
	f := newPcapFile(binary.LittleEndian, 0xa1b2c3d4, 100, 1).
		good(1, frameN(50, 1)).
		record(2, 0, 150, 150, frameN(150, 2)).
		good(3, frameN(60, 3)).
		good(4, frameN(100, 4))
	r, err := NewReader(bytes.NewReader(f.bytes()))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	if len(got) != 4 {
		t.Fatalf("got %d results, want 4: %+v", len(got), got)
	}
	var re *RecordError
	if !errors.As(got[1].err, &re) || re.Index != 2 {
		t.Fatalf("result 2 = %v, want a RecordError for record 2", got[1].err)
	}
	if msg := got[1].err.Error(); msg != "record 2: capture length 150 exceeds the snapshot length 100" {
		t.Errorf("message %q", msg)
	}
	if !errors.Is(got[1].err, os.ErrInvalid) {
		t.Errorf("%v does not match os.ErrInvalid", got[1].err)
	}
	for _, i := range []int{0, 2, 3} {
		rec := got[i].rec
		if got[i].err != nil || rec.Index != i+1 || rec.Data[0] != byte(i+1) || rec.Timestamp.Unix() != int64(i+1) {
			t.Errorf("result %d = %+v, %v", i+1, rec, got[i].err)
		}
	}
}

func TestReaderBadRecords(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name string
		file []byte
		// want is one entry per Next call before io.EOF: "" for a good
		// record, else the error text.
		want []string
	}{
		{
			"caplen over origlen",
			newPcapFile(le, 0xa1b2c3d4, 65535, 1).record(1, 0, 20, 10, frameN(20, 1)).good(2, frameN(20, 2)).bytes(),
			[]string{"record 1: capture length 20 exceeds the original length 10", ""},
		},
		{
			"truncated final record",
			newPcapFile(le, 0xa1b2c3d4, 65535, 1).good(1, frameN(60, 1)).record(2, 0, 60, 60, frameN(30, 2)).bytes(),
			[]string{"", "record 2: truncated: capture length 60, but the file ends after 30 bytes: unexpected EOF"},
		},
		{
			"truncated record header",
			append(newPcapFile(le, 0xa1b2c3d4, 65535, 1).good(1, frameN(60, 1)).bytes(), 1, 2, 3, 4, 5),
			[]string{"", "record 2: truncated record header (5 of 16 bytes at the end of the file): unexpected EOF"},
		},
		{
			"record over the reader's limit",
			newPcapFile(le, 0xa1b2c3d4, 0xffffffff, 1).record(1, 0, 300000, 300000, frameN(300000, 1)).good(2, frameN(14, 2)).bytes(),
			[]string{"record 1: capture length 300000 exceeds the largest record xdpkit reads (262144 bytes)", ""},
		},
		{
			"snaplen 0 means the reader's limit",
			newPcapFile(le, 0xa1b2c3d4, 0, 1).good(1, frameN(70000, 1)).bytes(),
			[]string{""},
		},
		{
			"huge caplen past the end",
			newPcapFile(le, 0xa1b2c3d4, 65535, 1).good(1, frameN(14, 1)).record(2, 0, 0xffffffff, 0xffffffff, frameN(10, 2)).bytes(),
			[]string{"", "record 2: capture length 4294967295 exceeds the snapshot length 65535, and the file ends after 10 of its bytes"},
		},
		{
			"no records",
			newPcapFile(le, 0xa1b2c3d4, 65535, 1).bytes(),
			nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, r)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d results %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				var re *RecordError
				switch {
				case w == "" && got[i].err != nil:
					t.Errorf("result %d: %v", i+1, got[i].err)
				case w == "" && got[i].rec.Index != i+1:
					t.Errorf("result %d: index %d", i+1, got[i].rec.Index)
				case w != "" && (got[i].err == nil || got[i].err.Error() != w):
					t.Errorf("result %d: got %v\nwant %s", i+1, got[i].err, w)
				case w != "" && (!errors.As(got[i].err, &re) || re.Index != i+1 || !errors.Is(got[i].err, os.ErrInvalid)):
					t.Errorf("result %d: %#v is not an invalid RecordError for record %d", i+1, got[i].err, i+1)
				}
			}
			if strings.Contains(tc.name, "truncated") && !errors.Is(got[len(got)-1].err, io.ErrUnexpectedEOF) {
				t.Errorf("truncation error does not match io.ErrUnexpectedEOF")
			}
		})
	}
}

func TestReaderFormats(t *testing.T) {
	frame := expectARP()
	tests := []struct {
		name   string
		order  binary.ByteOrder
		magic  uint32
		frac   uint32
		wantNs int
	}{
		{"little-endian micro", binary.LittleEndian, 0xa1b2c3d4, 123456, 123456000},
		{"big-endian micro", binary.BigEndian, 0xa1b2c3d4, 123456, 123456000},
		{"little-endian nano", binary.LittleEndian, 0xa1b23c4d, 123456789, 123456789},
		{"big-endian nano", binary.BigEndian, 0xa1b23c4d, 123456789, 123456789},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newPcapFile(tc.order, tc.magic, 65535, 1).record(1700000000, tc.frac, uint32(len(frame)), 1500, frame)
			r, err := NewReader(bytes.NewReader(f.bytes()))
			if err != nil {
				t.Fatal(err)
			}
			rec, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			want := time.Unix(1700000000, int64(tc.wantNs)).UTC()
			if !rec.Timestamp.Equal(want) || !bytes.Equal(rec.Data, frame) || rec.OriginalLength != 1500 || rec.Index != 1 {
				t.Errorf("got %+v, want time %v", rec, want)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("second Next = %v", err)
			}
		})
	}
}

func TestReaderHeaderErrors(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"linux sll", newPcapFile(le, 0xa1b2c3d4, 65535, 113).bytes(), "pcap: link type 113 (Linux SLL) is not Ethernet; xdpkit needs Ethernet frames (LINKTYPE_ETHERNET, 1)"},
		{"unknown link type", newPcapFile(binary.BigEndian, 0xa1b2c3d4, 65535, 40000).bytes(), "pcap: link type 40000 is not Ethernet; xdpkit needs Ethernet frames (LINKTYPE_ETHERNET, 1)"},
		{"empty", nil, "pcap: empty input; want a pcap or pcapng file"},
		{"short", []byte{0xd4, 0xc3}, "pcap: file header truncated (2 bytes)"},
		{"short header", newPcapFile(le, 0xa1b2c3d4, 65535, 1).bytes()[:20], "pcap: file header truncated (20 of 24 bytes)"},
		{"text", []byte("hello, world"), "pcap: not a pcap or pcapng file (it starts with 68656c6c; pcap starts with d4c3b2a1 or a1b2c3d4, pcapng with 0a0d0d0a)"},
		{"version 3", func() []byte {
			b := newPcapFile(le, 0xa1b2c3d4, 65535, 1).bytes()
			b[4] = 3
			return b
		}(), "pcap: version 3.4 is not 2.x"},
		{"pcapng without interface", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0}, "pcapng: no interface description"},
		{"bad gzip", []byte{0x1f, 0x8b, 1, 2, 3}, "pcap: gzip:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
			if !errors.Is(err, os.ErrInvalid) {
				t.Errorf("%v does not match os.ErrInvalid", err)
			}
		})
	}
}

func TestReaderPcapng(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	frames := [][]byte{expectUDPv4(), expectTCPv6(), expectICMPv6()}
	base := time.Date(2025, 1, 2, 3, 4, 5, 678901000, time.UTC)
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f) + i}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	if len(got) != len(frames) {
		t.Fatalf("%d records, want %d", len(got), len(frames))
	}
	for i, res := range got {
		want := base.Add(time.Duration(i) * time.Millisecond)
		if res.err != nil || res.rec.Index != i+1 || !bytes.Equal(res.rec.Data, frames[i]) || !res.rec.Timestamp.Equal(want) || res.rec.OriginalLength != len(frames[i])+i {
			t.Errorf("record %d = %+v, %v", i+1, res.rec, res.err)
		}
	}

	// Truncated: the last block cut short is reported, then io.EOF.
	cut := buf.Bytes()[:buf.Len()-10]
	r, err = NewReader(bytes.NewReader(cut))
	if err != nil {
		t.Fatal(err)
	}
	got = readAll(t, r)
	var re *RecordError
	if len(got) != 3 || got[0].err != nil || got[1].err != nil || !errors.As(got[2].err, &re) || re.Index != 3 || !errors.Is(got[2].err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated pcapng: %+v", got)
	}

	// Not Ethernet.
	buf.Reset()
	w, err = pcapgo.NewNgWriter(&buf, layers.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if _, err := NewReader(bytes.NewReader(buf.Bytes())); err == nil || !strings.Contains(err.Error(), "is not Ethernet; xdpkit needs Ethernet frames (LINKTYPE_ETHERNET, 1)") || !errors.Is(err, os.ErrInvalid) {
		t.Errorf("raw pcapng: %v", err)
	}
}

func TestReaderGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(newPcapFile(binary.LittleEndian, 0xa1b2c3d4, 65535, 1).good(1, expectARP()).bytes())
	zw.Close()
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	if len(got) != 1 || got[0].err != nil || !bytes.Equal(got[0].rec.Data, expectARP()) {
		t.Fatalf("gzip: %+v", got)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(time.Unix(5, 0), expectARP()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := r.Next(); err != nil || !bytes.Equal(rec.Data, expectARP()) {
		t.Fatalf("Next = %+v, %v", rec, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.pcap")
	os.WriteFile(bad, []byte("not a capture"), 0o644)
	if _, err := Open(bad); err == nil || !strings.HasPrefix(err.Error(), bad+": pcap: not a pcap") {
		t.Errorf("Open of a bad file: %v", err)
	}
	if err := (&Reader{}).Close(); err != nil {
		t.Errorf("Close of a NewReader reader: %v", err)
	}
}

// TestReaderNextAllocatesNothing: replaying a capture costs no allocation
// per record once the buffer has grown to the largest frame.
func TestReaderNextAllocatesNothing(t *testing.T) {
	var file bytes.Buffer
	w, err := NewWriter(&file)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := Build("eth/ipv4/udp/payload(64)")
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if err := w.Write(time.Unix(1, 0), frame); err != nil {
			t.Fatal(err)
		}
	}
	r, err := NewReader(bytes.NewReader(file.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %.1f times per record", allocs)
	}
}
