package packet

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var seedSpecs = []string{
	"eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(dport=53)/payload(64)",
	"eth/ipv6/icmp6(type=echo-request,id=7,seq=1)/payload(56)",
	"eth/arp(op=request,tpa=10.11.1.2)",
	"eth/vlan(id=100)/ipv4/tcp(dport=443,flags=S)",
	"eth/vlan/vlan/ipv6/ipv4/icmp(type=echo-reply)",
	`eth/payload(text="a, b")`,
	"eth/payload(hex=de:ad:be:ef)",
	" ETH ( src = 02:00:00:00:00:0a ) / IPv4(ttl=0x10,df=true) ",
	"eth/ipv4(ttl=300)",
	"eth/ipv4(srcc=1)",
	"eth//udp",
	"eth/ipv4(",
	`eth/payload(text="\xff")`,
	"eth/payload(65521)",
	"",
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range seedSpecs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ParseSpec(s)
		if err != nil {
			if !errors.Is(err, os.ErrInvalid) {
				t.Fatalf("ParseSpec(%q): %v does not match os.ErrInvalid", s, err)
			}
			return
		}
		out := spec.String()
		again, err := ParseSpec(out)
		if err != nil {
			t.Fatalf("ParseSpec(%q) (String of %q): %v", out, s, err)
		}
		if !reflect.DeepEqual(spec, again) {
			t.Fatalf("%q -> %q does not round trip:\n%#v\n%#v", s, out, spec, again)
		}
		if again.String() != out {
			t.Fatalf("String not canonical: %q then %q", out, again.String())
		}
		frame, err := spec.Build()
		if err != nil {
			if !errors.Is(err, os.ErrInvalid) {
				t.Fatalf("Build(%q): %v does not match os.ErrInvalid", s, err)
			}
			return
		}
		if len(frame) < EthernetHeaderLen || len(frame) > MaxFrameLen {
			t.Fatalf("Build(%q) = %d bytes", s, len(frame))
		}
		_ = Describe(frame)
		if d := Diff(frame, frame); d != nil {
			t.Fatalf("Diff of a frame with itself: %v", d)
		}
	})
}

func FuzzParseHex(f *testing.F) {
	for _, s := range []string{"0a0b0c", "0x0a 0x0b", "de:ad:be:ef", "0a-0b\n0c\t0d", "0a0bzz", "abc", "", "0x", "é", "eth/ipv4", "ipv5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseHex(s)
		if err != nil {
			if !errors.Is(err, os.ErrInvalid) {
				t.Fatalf("ParseHex(%q): %v does not match os.ErrInvalid", s, err)
			}
		} else {
			again, err := ParseHex(hex.EncodeToString(b))
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("ParseHex(%q) = %x does not re-parse: %x, %v", s, b, again, err)
			}
		}
		if _, err := FromArg(s); err != nil && !errors.Is(err, os.ErrInvalid) {
			t.Fatalf("FromArg(%q): %v does not match os.ErrInvalid", s, err)
		}
	})
}

// seedCaptures returns good and broken capture files.
func seedCaptures(f *testing.F) [][]byte {
	var files [][]byte
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seedSpecs[:4] {
		w.Write(time.Unix(1, 2000), mustBuild(f, s))
	}
	files = append(files, bytes.Clone(buf.Bytes()))
	files = append(files, buf.Bytes()[:buf.Len()-7])

	var ng bytes.Buffer
	nw, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seedSpecs[:3] {
		frame := mustBuild(f, s)
		nw.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(5, 0), CaptureLength: len(frame), Length: len(frame)}, frame)
	}
	nw.Flush()
	files = append(files, bytes.Clone(ng.Bytes()), ng.Bytes()[:ng.Len()-5])

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(files[0])
	zw.Close()
	files = append(files, gz.Bytes())

	le := binary.LittleEndian
	files = append(files,
		newPcapFile(le, 0xa1b2c3d4, 100, 1).good(1, frameN(50, 1)).record(2, 0, 150, 150, frameN(150, 2)).good(3, frameN(60, 3)).bytes(),
		newPcapFile(le, 0xa1b2c3d4, 65535, 1).record(1, 0, 20, 10, frameN(20, 1)).bytes(),
		newPcapFile(binary.BigEndian, 0xa1b23c4d, 65535, 1).good(1, frameN(14, 1)).record(2, 0, 0xffffffff, 5, nil).bytes(),
		newPcapFile(le, 0xa1b2c3d4, 65535, 113).bytes(),
		[]byte("not a capture file"),
		nil,
	)
	return files
}

func FuzzReader(f *testing.F) {
	for _, b := range seedCaptures(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		// A gzipped file may hold many more records than it has bytes, but
		// never more than a million of the smallest.
		for i := 0; ; i++ {
			if i > 1<<20 {
				t.Fatal("Next did not reach io.EOF")
			}
			rec, err := r.Next()
			if err == io.EOF {
				return
			}
			var re *RecordError
			if err != nil && (!errors.As(err, &re) || re.Index != i+1) {
				t.Fatalf("Next %d: %v is not a RecordError for record %d", i+1, err, i+1)
			}
			if err == nil && (rec.Index != i+1 || len(rec.Data) > MaxRecordLen || len(rec.Data) > rec.OriginalLength) {
				t.Fatalf("Next %d: record %d with %d of %d bytes", i+1, rec.Index, len(rec.Data), rec.OriginalLength)
			}
		}
	})
}

func FuzzDiff(f *testing.F) {
	frames := [][]byte{nil, {1, 2, 3}, make([]byte, 14)}
	for _, s := range seedSpecs[:7] {
		b := mustBuild(f, s)
		frames = append(frames, b, b[:len(b)/2], b[:len(b)-1])
	}
	for i, a := range frames {
		f.Add(a, frames[(i+1)%len(frames)])
		f.Add(a, a)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		d := Diff(a, b)
		if bytes.Equal(a, b) != (d == nil) {
			t.Fatalf("Diff(%x, %x) = %v", a, b, d)
		}
		_ = FormatDiff(d)
		_ = Describe(a)
	})
}
