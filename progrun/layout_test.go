package progrun

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/testutil"
)

// The layout tests check the kernel structs progrun encodes and decodes
// against this kernel's BTF: the sizes and offsets progrun assumes, and
// what a Runner actually writes and reads, through a fake Backend that
// reads the input and writes the output at the offsets BTF gives.

var (
	kernelBTFOnce sync.Once
	kernelBTF     *btf.Spec
	kernelBTFErr  error
)

// kernelStruct returns struct name from vmlinux BTF.
func kernelStruct(t *testing.T, name string) *btf.Struct {
	t.Helper()
	kernelBTFOnce.Do(func() { kernelBTF, kernelBTFErr = btf.LoadKernelSpec() })
	if kernelBTFErr != nil {
		testutil.SkipOrFail(t, "no kernel BTF: %v", kernelBTFErr)
	}
	var s *btf.Struct
	if err := kernelBTF.TypeByName(name, &s); err != nil {
		t.Fatalf("struct %s: %v", name, err)
	}
	return s
}

// field is a member of a kernel struct: its offset and size in bytes.
type field struct{ off, size int }

// fields returns the members of s by name, members of anonymous structs
// and unions included at their offsets in s.
func fields(t *testing.T, s *btf.Struct) map[string]field {
	t.Helper()
	out := map[string]field{}
	var walk func(members []btf.Member, base int)
	walk = func(members []btf.Member, base int) {
		for _, m := range members {
			off := base + int(m.Offset.Bytes())
			if m.Name == "" {
				switch inner := btf.UnderlyingType(m.Type).(type) {
				case *btf.Struct:
					walk(inner.Members, off)
				case *btf.Union:
					walk(inner.Members, off)
				}
				continue
			}
			size, err := btf.Sizeof(m.Type)
			if err != nil {
				t.Fatalf("%s.%s: %v", s.Name, m.Name, err)
			}
			out[m.Name] = field{off, size}
		}
	}
	walk(s.Members, 0)
	return out
}

// checkLayout checks the size of struct name and the offsets of the
// members progrun uses.
func checkLayout(t *testing.T, name string, size int, offsets map[string]int) map[string]field {
	t.Helper()
	s := kernelStruct(t, name)
	if int(s.Size) != size {
		t.Errorf("sizeof(struct %s) = %d, progrun uses %d", name, s.Size, size)
	}
	f := fields(t, s)
	for member, off := range offsets {
		got, ok := f[member]
		if !ok {
			t.Errorf("struct %s has no member %s", name, member)
			continue
		}
		if got.off != off {
			t.Errorf("offsetof(struct %s, %s) = %d, progrun uses %d", name, member, got.off, off)
		}
	}
	return f
}

func TestLayoutOffsets(t *testing.T) {
	checkLayout(t, "xdp_md", xdpMDSize, map[string]int{
		"data": 0, "data_end": 4, "data_meta": 8, "ingress_ifindex": 12, "rx_queue_index": 16, "egress_ifindex": 20,
	})
	checkLayout(t, "__sk_buff", skBuffSize, map[string]int{
		"mark": skbMark, "priority": skbPriority, "ingress_ifindex": skbIngressIfindex, "ifindex": skbIfindex,
		"cb": skbCB, "tstamp": skbTstamp, "wire_len": skbWireLen, "gso_segs": skbGSOSegs,
		"gso_size": skbGSOSize, "hwtstamp": skbHWTstamp,
	})
	checkLayout(t, "bpf_flow_keys", flowKeysSize, map[string]int{
		"nhoff": 0, "thoff": 2, "addr_proto": 4, "is_frag": 6, "is_first_frag": 7, "is_encap": 8,
		"ip_proto": 9, "n_proto": 10, "sport": 12, "dport": 14, "ipv4_src": 16, "ipv4_dst": 20,
		"ipv6_src": 16, "ipv6_dst": 32, "flags": 48, "flow_label": 52,
	})
	checkLayout(t, "bpf_sk_lookup", skLookupCtxSize, map[string]int{
		"cookie": 0, "family": 8, "protocol": 12, "remote_ip4": 16, "remote_ip6": 20, "remote_port": 36,
		"local_ip4": 40, "local_ip6": 44, "local_port": 60, "ingress_ifindex": 64,
	})
}

// fakeBackend runs nothing: run checks and fills in the Request.
type fakeBackend struct {
	typ ebpf.ProgramType
	run func(req *Request) error
}

func (f *fakeBackend) Type() ebpf.ProgramType { return f.typ }
func (f *fakeBackend) Run(req *Request) error { return f.run(req) }

// get reads member name, an integer, of a struct laid out as f in b, in
// native byte order; put writes it.
func get(t *testing.T, f map[string]field, b []byte, name string) uint64 {
	t.Helper()
	m := f[name]
	v := b[m.off : m.off+m.size]
	ne := binary.NativeEndian
	switch m.size {
	case 1:
		return uint64(v[0])
	case 2:
		return uint64(ne.Uint16(v))
	case 4:
		return uint64(ne.Uint32(v))
	case 8:
		return ne.Uint64(v)
	}
	t.Fatalf("member %s is %d bytes", name, m.size)
	return 0
}

func put(t *testing.T, f map[string]field, b []byte, name string, x uint64) {
	t.Helper()
	m := f[name]
	v := b[m.off : m.off+m.size]
	ne := binary.NativeEndian
	switch m.size {
	case 1:
		v[0] = byte(x)
	case 2:
		ne.PutUint16(v, uint16(x))
	case 4:
		ne.PutUint32(v, uint32(x))
	case 8:
		ne.PutUint64(v, x)
	default:
		t.Fatalf("member %s is %d bytes", name, m.size)
	}
}

func putBytes(f map[string]field, b []byte, name string, v []byte) { copy(b[f[name].off:], v) }
func getBytes(f map[string]field, b []byte, name string) []byte {
	return b[f[name].off : f[name].off+f[name].size]
}

func TestLayoutXDPContext(t *testing.T) {
	f := fields(t, kernelStruct(t, "xdp_md"))
	pkt := bytes.Repeat([]byte{0xab}, 100)
	meta := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	r := NewRunner(&fakeBackend{typ: ebpf.XDP, run: func(req *Request) error {
		in := req.CtxIn
		if len(in) != xdpMDSize || len(req.CtxOut) != xdpMDSize {
			t.Fatalf("ctx in %d bytes, out %d; want %d", len(in), len(req.CtxOut), xdpMDSize)
		}
		for name, want := range map[string]uint64{"data_meta": 0, "data": 8, "data_end": 108,
			"ingress_ifindex": 7, "rx_queue_index": 3, "egress_ifindex": 0} {
			if got := get(t, f, in, name); got != want {
				t.Errorf("xdp_md.%s in = %d, want %d", name, got, want)
			}
		}
		if !bytes.Equal(req.DataIn, append(bytes.Clone(meta), pkt...)) {
			t.Errorf("data in is not meta followed by the packet")
		}
		// The program dropped 4 bytes of metadata.
		out := req.CtxOut
		put(t, f, out, "data", 4)
		put(t, f, out, "data_end", 104)
		put(t, f, out, "ingress_ifindex", 7)
		put(t, f, out, "rx_queue_index", 3)
		n := copy(req.DataOut, req.DataIn[4:])
		req.DataSizeOut, req.CtxSizeOut = uint32(n), xdpMDSize
		return nil
	}})
	res, err := r.Run(Input{Data: pkt, Context: &XDPContext{IngressIfindex: 7, RxQueueIndex: 3, Meta: meta}})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Context.(*XDPContext)
	if !bytes.Equal(c.Meta, meta[4:]) || !bytes.Equal(res.Data, pkt) || c.IngressIfindex != 7 || c.RxQueueIndex != 3 {
		t.Errorf("decoded meta % x, ifindex %d, queue %d, %d bytes of packet", c.Meta, c.IngressIfindex, c.RxQueueIndex, len(res.Data))
	}
}

func TestLayoutSKBContext(t *testing.T) {
	f := fields(t, kernelStruct(t, "__sk_buff"))
	in := SKBContext{Mark: 1, Priority: 2, IngressIfindex: 3, Ifindex: 4, CB: [5]uint32{5, 6, 7, 8, 9},
		Tstamp: 10, WireLen: 100, GSOSegs: 12, GSOSize: 13, HWTstamp: 14}
	values := func(c SKBContext) map[string]uint64 {
		return map[string]uint64{"mark": uint64(c.Mark), "priority": uint64(c.Priority),
			"ingress_ifindex": uint64(c.IngressIfindex), "ifindex": uint64(c.Ifindex), "tstamp": c.Tstamp,
			"wire_len": uint64(c.WireLen), "gso_segs": uint64(c.GSOSegs), "gso_size": uint64(c.GSOSize),
			"hwtstamp": c.HWTstamp}
	}
	out := SKBContext{Mark: 21, Priority: 22, IngressIfindex: 23, Ifindex: 24, CB: [5]uint32{25, 26, 27, 28, 29},
		Tstamp: 30, WireLen: 31, GSOSegs: 32, GSOSize: 33, HWTstamp: 34}
	r := NewRunner(&fakeBackend{typ: ebpf.SchedCLS, run: func(req *Request) error {
		if len(req.CtxIn) != skBuffSize {
			t.Fatalf("ctx in %d bytes, want %d", len(req.CtxIn), skBuffSize)
		}
		seen := make([]byte, skBuffSize) // bytes progrun may set
		for name, want := range values(in) {
			if got := get(t, f, req.CtxIn, name); got != want {
				t.Errorf("__sk_buff.%s in = %d, want %d", name, got, want)
			}
			put(t, f, seen, name, ^uint64(0))
		}
		cb := getBytes(f, req.CtxIn, "cb")
		for i, want := range in.CB {
			if got := binary.NativeEndian.Uint32(cb[4*i:]); got != want {
				t.Errorf("__sk_buff.cb[%d] in = %d, want %d", i, got, want)
			}
		}
		putBytes(f, seen, "cb", bytes.Repeat([]byte{0xff}, 20))
		for i, b := range req.CtxIn {
			if b != 0 && seen[i] == 0 {
				t.Errorf("__sk_buff byte %d in is %#x: a field the kernel refuses", i, b)
			}
		}
		for name, v := range values(out) {
			put(t, f, req.CtxOut, name, v)
		}
		cbOut := getBytes(f, req.CtxOut, "cb")
		for i, v := range out.CB {
			binary.NativeEndian.PutUint32(cbOut[4*i:], v)
		}
		req.DataSizeOut = uint32(copy(req.DataOut, req.DataIn))
		return nil
	}})
	res, err := r.Run(Input{Data: make([]byte, 60), Context: &in})
	if err != nil {
		t.Fatal(err)
	}
	if got := *res.Context.(*SKBContext); got != out {
		t.Errorf("decoded\n got %+v\nwant %+v", got, out)
	}
}

func TestLayoutFlowKeys(t *testing.T) {
	f := fields(t, kernelStruct(t, "bpf_flow_keys"))
	for _, tc := range []struct {
		proto    uint16
		src, dst netip.Addr
	}{
		{unix.ETH_P_IP, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("192.0.2.7")},
		{unix.ETH_P_IPV6, netip.MustParseAddr("2001:db8::a"), netip.MustParseAddr("2001:db8::b")},
	} {
		r := NewRunner(&fakeBackend{typ: ebpf.FlowDissector, run: func(req *Request) error {
			if len(req.CtxIn) != flowKeysSize || get(t, f, req.CtxIn, "flags") != 5 {
				t.Errorf("ctx in: %d bytes, flags %d; want %d and 5", len(req.CtxIn), get(t, f, req.CtxIn, "flags"), flowKeysSize)
			}
			for i, b := range req.CtxIn {
				if b != 0 && (i < f["flags"].off || i >= f["flags"].off+4) {
					t.Errorf("bpf_flow_keys byte %d in is %#x: the kernel takes only flags", i, b)
				}
			}
			k := req.DataOut[:flowKeysSize]
			put(t, f, k, "nhoff", 14)
			put(t, f, k, "thoff", 34)
			put(t, f, k, "addr_proto", uint64(tc.proto))
			put(t, f, k, "is_frag", 1)
			put(t, f, k, "is_first_frag", 1)
			put(t, f, k, "is_encap", 1)
			put(t, f, k, "ip_proto", 17)
			putBytes(f, k, "n_proto", binary.BigEndian.AppendUint16(nil, tc.proto))
			putBytes(f, k, "sport", []byte{0x30, 0x39})                  // 12345
			putBytes(f, k, "dport", []byte{0x00, 0x35})                  // 53
			putBytes(f, k, "flow_label", []byte{0x00, 0x0a, 0xbc, 0xde}) // 0xabcde
			put(t, f, k, "flags", 5)
			if tc.src.Is4() {
				putBytes(f, k, "ipv4_src", tc.src.AsSlice())
				putBytes(f, k, "ipv4_dst", tc.dst.AsSlice())
			} else {
				putBytes(f, k, "ipv6_src", tc.src.AsSlice())
				putBytes(f, k, "ipv6_dst", tc.dst.AsSlice())
			}
			req.DataSizeOut = flowKeysSize
			return nil
		}})
		res, err := r.Run(Input{Data: make([]byte, 60), Context: &FlowDissectorContext{Flags: 5}})
		if err != nil {
			t.Fatal(err)
		}
		want := FlowKeys{Nhoff: 14, Thoff: 34, AddrProto: tc.proto, IsFrag: true, IsFirstFrag: true, IsEncap: true,
			IPProto: 17, NProto: tc.proto, Sport: 12345, Dport: 53, Src: tc.src, Dst: tc.dst, Flags: 5, FlowLabel: 0xabcde}
		if res.FlowKeys == nil || *res.FlowKeys != want {
			t.Errorf("decoded\n got %+v\nwant %+v", res.FlowKeys, want)
		}
	}
}

func TestLayoutSKLookupContext(t *testing.T) {
	f := fields(t, kernelStruct(t, "bpf_sk_lookup"))
	for _, tc := range []struct {
		remote, local netip.Addr
		family        uint64
		ip4, ip6      string // the members the addresses go to
	}{
		{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("127.0.0.1"), unix.AF_INET, "_ip4", ""},
		{netip.MustParseAddr("2001:db8::5"), netip.IPv6Loopback(), unix.AF_INET6, "", "_ip6"},
	} {
		r := NewRunner(&fakeBackend{typ: ebpf.SkLookup, run: func(req *Request) error {
			in := req.CtxIn
			if len(in) != skLookupCtxSize {
				t.Fatalf("ctx in %d bytes, want %d", len(in), skLookupCtxSize)
			}
			for name, want := range map[string]uint64{"cookie": 0, "family": tc.family, "protocol": unix.IPPROTO_TCP,
				"local_port": 7007, "ingress_ifindex": 0} {
				if got := get(t, f, in, name); got != want {
					t.Errorf("bpf_sk_lookup.%s in = %d, want %d", name, got, want)
				}
			}
			if got := getBytes(f, in, "remote_port"); !bytes.Equal(got, []byte{0x9c, 0x40}) { // 40000, network order
				t.Errorf("remote_port in % x, want 9c 40", got)
			}
			suffix := tc.ip4 + tc.ip6
			if got := getBytes(f, in, "remote"+suffix); !bytes.Equal(got, tc.remote.AsSlice()) {
				t.Errorf("remote%s in % x, want %s", suffix, got, tc.remote)
			}
			if got := getBytes(f, in, "local"+suffix); !bytes.Equal(got, tc.local.AsSlice()) {
				t.Errorf("local%s in % x, want %s", suffix, got, tc.local)
			}
			put(t, f, req.CtxOut, "cookie", 0x1122334455667788)
			req.Retval = 1
			return nil
		}})
		res, err := r.Run(Input{Context: &SKLookupContext{Protocol: unix.IPPROTO_TCP,
			RemoteIP: tc.remote, RemotePort: 40000, LocalIP: tc.local, LocalPort: 7007}})
		if err != nil {
			t.Fatal(err)
		}
		if c := res.Context.(*SKLookupContext); c.Cookie != 0x1122334455667788 || res.Verdict.String() != "SK_PASS" {
			t.Errorf("decoded cookie %#x verdict %v", c.Cookie, res.Verdict)
		}
	}
}
