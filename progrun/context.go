package progrun

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Context is a program's typed context: one of *XDPContext, *SKBContext,
// *FlowDissectorContext, *SKLookupContext, *RawTracepointContext,
// *SyscallContext, *StructOpsContext or *RawContext. Values work too (a
// pointer saves the Runner a copy).
type Context interface {
	// accepts reports whether the context fits programs of type t.
	accepts(t ebpf.ProgramType) bool
}

// Bytes are raw bytes that print as hex in JSON and text ("0a0b0c"),
// as xdpkit shows and takes them everywhere.
type Bytes []byte

// MarshalText returns the bytes in hex.
func (b Bytes) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(b)))
	hex.Encode(out, b)
	return out, nil
}

// UnmarshalText reads hex.
func (b *Bytes) UnmarshalText(text []byte) error {
	out := make([]byte, hex.DecodedLen(len(text)))
	if _, err := hex.Decode(out, text); err != nil {
		return fmt.Errorf("bytes in hex: %w", err)
	}
	*b = out
	return nil
}

// Kernel struct sizes, checked against vmlinux BTF in the tests.
const (
	xdpMDSize       = 24  // struct xdp_md
	skBuffSize      = 192 // struct __sk_buff
	flowKeysSize    = 56  // struct bpf_flow_keys
	skLookupCtxSize = 72  // struct bpf_sk_lookup
	maxFuncArgs     = 12  // MAX_BPF_FUNC_ARGS: raw tracepoint and struct_ops arguments
	maxXDPMetaLen   = 32  // the kernel's limit on data_meta in a test run
)

// XDPContext is struct xdp_md as a test run takes it. data, data_end and
// data_meta are computed from the packet and Meta.
type XDPContext struct {
	// IngressIfindex is the interface the packet arrives on; 0 for none.
	// It must exist in the caller's network namespace.
	IngressIfindex uint32 `json:"ingress_ifindex"`
	// RxQueueIndex is the receive queue; it needs IngressIfindex and a
	// queue with XDP rxq info registered (a driver with XDP set up).
	RxQueueIndex uint32 `json:"rx_queue_index"`
	// Meta is metadata placed before the packet (data_meta .. data): a
	// multiple of 4 bytes, at most 32. Out: what the program left there.
	Meta Bytes `json:"meta,omitempty"`
}

func (XDPContext) accepts(t ebpf.ProgramType) bool { return t == ebpf.XDP }

func (c *XDPContext) encode(dst []byte, dataLen int) {
	clear(dst[:xdpMDSize])
	le := binary.NativeEndian
	le.PutUint32(dst[0:], uint32(len(c.Meta)))
	le.PutUint32(dst[4:], uint32(len(c.Meta)+dataLen))
	le.PutUint32(dst[12:], c.IngressIfindex)
	le.PutUint32(dst[16:], c.RxQueueIndex)
}

// SKBContext holds the fields of struct __sk_buff that the kernel accepts
// in a test run of SOCKET_FILTER, SCHED_CLS, SCHED_ACT, CGROUP_SKB and
// LWT_* programs; every other field must be zero, so there is no way to
// set one. The output context has the values the program left.
type SKBContext struct {
	Mark           uint32    `json:"mark"`
	Priority       uint32    `json:"priority"`
	IngressIfindex uint32    `json:"ingress_ifindex"`
	Ifindex        uint32    `json:"ifindex"` // must exist; 0 and 1 mean loopback
	CB             [5]uint32 `json:"cb"`
	Tstamp         uint64    `json:"tstamp"`
	WireLen        uint32    `json:"wire_len"` // 0: the packet's length; else at least that
	GSOSegs        uint32    `json:"gso_segs"`
	GSOSize        uint32    `json:"gso_size"`
	HWTstamp       uint64    `json:"hwtstamp"`
}

// __sk_buff offsets of the accepted fields.
const (
	skbMark           = 8
	skbPriority       = 32
	skbIngressIfindex = 36
	skbIfindex        = 40
	skbCB             = 48
	skbTstamp         = 152
	skbWireLen        = 160
	skbGSOSegs        = 164
	skbGSOSize        = 176
	skbHWTstamp       = 184
)

func (SKBContext) accepts(t ebpf.ProgramType) bool { return isSKBType(t) }

func isSKBType(t ebpf.ProgramType) bool {
	switch t {
	case ebpf.SocketFilter, ebpf.SchedCLS, ebpf.SchedACT, ebpf.CGroupSKB,
		ebpf.LWTIn, ebpf.LWTOut, ebpf.LWTXmit, ebpf.LWTSeg6Local:
		return true
	}
	return false
}

func (c *SKBContext) encode(dst []byte) {
	clear(dst[:skBuffSize])
	ne := binary.NativeEndian
	ne.PutUint32(dst[skbMark:], c.Mark)
	ne.PutUint32(dst[skbPriority:], c.Priority)
	ne.PutUint32(dst[skbIngressIfindex:], c.IngressIfindex)
	ne.PutUint32(dst[skbIfindex:], c.Ifindex)
	for i, v := range c.CB {
		ne.PutUint32(dst[skbCB+4*i:], v)
	}
	ne.PutUint64(dst[skbTstamp:], c.Tstamp)
	ne.PutUint32(dst[skbWireLen:], c.WireLen)
	ne.PutUint32(dst[skbGSOSegs:], c.GSOSegs)
	ne.PutUint32(dst[skbGSOSize:], c.GSOSize)
	ne.PutUint64(dst[skbHWTstamp:], c.HWTstamp)
}

func (c *SKBContext) decode(src []byte) {
	ne := binary.NativeEndian
	c.Mark = ne.Uint32(src[skbMark:])
	c.Priority = ne.Uint32(src[skbPriority:])
	c.IngressIfindex = ne.Uint32(src[skbIngressIfindex:])
	c.Ifindex = ne.Uint32(src[skbIfindex:])
	for i := range c.CB {
		c.CB[i] = ne.Uint32(src[skbCB+4*i:])
	}
	c.Tstamp = ne.Uint64(src[skbTstamp:])
	c.WireLen = ne.Uint32(src[skbWireLen:])
	c.GSOSegs = ne.Uint32(src[skbGSOSegs:])
	c.GSOSize = ne.Uint32(src[skbGSOSize:])
	c.HWTstamp = ne.Uint64(src[skbHWTstamp:])
}

// FlowDissectorContext is the input of a FLOW_DISSECTOR test run: the
// kernel accepts only the flags of struct bpf_flow_keys
// (BPF_FLOW_DISSECTOR_F_*).
type FlowDissectorContext struct {
	Flags uint32 `json:"flags"`
}

func (FlowDissectorContext) accepts(t ebpf.ProgramType) bool { return t == ebpf.FlowDissector }

func (c *FlowDissectorContext) encode(dst []byte) {
	clear(dst[:flowKeysSize])
	binary.NativeEndian.PutUint32(dst[48:], c.Flags)
}

// FlowKeys is struct bpf_flow_keys as a flow dissector program left it,
// with network-order fields turned to host order.
type FlowKeys struct {
	Nhoff       uint16     `json:"nhoff"`
	Thoff       uint16     `json:"thoff"`
	AddrProto   uint16     `json:"addr_proto"` // ETH_P_IP or ETH_P_IPV6 when Src and Dst are set
	IsFrag      bool       `json:"is_frag"`
	IsFirstFrag bool       `json:"is_first_frag"`
	IsEncap     bool       `json:"is_encap"`
	IPProto     uint8      `json:"ip_proto"`
	NProto      uint16     `json:"n_proto"` // ethertype
	Sport       uint16     `json:"sport"`
	Dport       uint16     `json:"dport"`
	Src         netip.Addr `json:"src"`
	Dst         netip.Addr `json:"dst"`
	Flags       uint32     `json:"flags"`
	FlowLabel   uint32     `json:"flow_label"`
}

func (k *FlowKeys) decode(b []byte) {
	ne, be := binary.NativeEndian, binary.BigEndian
	k.Nhoff = ne.Uint16(b[0:])
	k.Thoff = ne.Uint16(b[2:])
	k.AddrProto = ne.Uint16(b[4:])
	k.IsFrag = b[6] != 0
	k.IsFirstFrag = b[7] != 0
	k.IsEncap = b[8] != 0
	k.IPProto = b[9]
	k.NProto = be.Uint16(b[10:])
	k.Sport = be.Uint16(b[12:])
	k.Dport = be.Uint16(b[14:])
	switch k.AddrProto {
	case unix.ETH_P_IP:
		k.Src = netip.AddrFrom4([4]byte(b[16:20]))
		k.Dst = netip.AddrFrom4([4]byte(b[20:24]))
	case unix.ETH_P_IPV6:
		k.Src = netip.AddrFrom16([16]byte(b[16:32]))
		k.Dst = netip.AddrFrom16([16]byte(b[32:48]))
	default:
		k.Src, k.Dst = netip.Addr{}, netip.Addr{}
	}
	k.Flags = ne.Uint32(b[48:])
	k.FlowLabel = be.Uint32(b[52:])
}

// SKLookupContext is struct bpf_sk_lookup: the connection a socket is
// looked up for. Both addresses are of the family: IPv4 addresses (or
// IPv4-mapped IPv6 ones, ::ffff:a.b.c.d, taken as IPv4) for AF_INET, IPv6
// addresses for AF_INET6, where an IPv4-mapped address stays an IPv6
// address; a zero netip.Addr is the unspecified address. Family is taken
// from LocalIP when zero, or from RemoteIP when LocalIP is zero too. Out,
// Cookie is the socket cookie (SO_COOKIE) of the socket the program
// selected with bpf_sk_assign, 0 for none.
type SKLookupContext struct {
	Family     uint32     `json:"family"`   // unix.AF_INET or unix.AF_INET6
	Protocol   uint32     `json:"protocol"` // unix.IPPROTO_TCP (the default, 0) or unix.IPPROTO_UDP
	RemoteIP   netip.Addr `json:"remote_ip"`
	RemotePort uint16     `json:"remote_port"`
	LocalIP    netip.Addr `json:"local_ip"`
	LocalPort  uint16     `json:"local_port"`
	Cookie     uint64     `json:"cookie"`
}

func (SKLookupContext) accepts(t ebpf.ProgramType) bool { return t == ebpf.SkLookup }

func (c *SKLookupContext) family() uint32 {
	if c.Family != 0 {
		return c.Family
	}
	a := c.LocalIP
	if !a.IsValid() {
		a = c.RemoteIP
	}
	if a.Is6() && !a.Is4In6() {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

func (c *SKLookupContext) protocol() uint32 {
	if c.Protocol == 0 {
		return unix.IPPROTO_TCP
	}
	return c.Protocol
}

func (c *SKLookupContext) encode(dst []byte) {
	clear(dst[:skLookupCtxSize])
	ne := binary.NativeEndian
	f := c.family()
	ne.PutUint32(dst[8:], f)
	ne.PutUint32(dst[12:], c.protocol())
	putAddr(dst[16:20], dst[20:36], f, c.RemoteIP)
	binary.BigEndian.PutUint16(dst[36:], c.RemotePort)
	putAddr(dst[40:44], dst[44:60], f, c.LocalIP)
	ne.PutUint32(dst[60:], uint32(c.LocalPort))
}

// decode reads the context as the kernel returns it: the connection, and
// the cookie of the socket the program selected.
func (c *SKLookupContext) decode(b []byte) {
	ne := binary.NativeEndian
	c.Cookie = ne.Uint64(b[0:])
	c.Family = ne.Uint32(b[8:])
	c.Protocol = ne.Uint32(b[12:])
	if c.Family == unix.AF_INET6 {
		c.RemoteIP = netip.AddrFrom16([16]byte(b[20:36]))
		c.LocalIP = netip.AddrFrom16([16]byte(b[44:60]))
	} else {
		c.RemoteIP = netip.AddrFrom4([4]byte(b[16:20]))
		c.LocalIP = netip.AddrFrom4([4]byte(b[40:44]))
	}
	c.RemotePort = binary.BigEndian.Uint16(b[36:])
	c.LocalPort = uint16(ne.Uint32(b[60:]))
}

// putAddr writes a into the slot of family f: IPv4 (an IPv4-mapped IPv6
// address unmapped) for AF_INET, IPv6 (an IPv4-mapped address as it is)
// for AF_INET6. The Runner has refused addresses of the other family.
func putAddr(v4, v6 []byte, f uint32, a netip.Addr) {
	switch {
	case !a.IsValid():
	case f == unix.AF_INET6:
		b := a.As16()
		copy(v6, b[:])
	default:
		b := a.Unmap().As4()
		copy(v4, b[:])
	}
}

// RawTracepointContext holds the arguments a RAW_TRACEPOINT program gets
// (at most 12, each a u64) and, with OnCPU, the CPU the kernel runs it on.
// The kernel gives no duration and no output context for these runs.
type RawTracepointContext struct {
	Args  []uint64 `json:"args"`
	OnCPU bool     `json:"on_cpu"`
	CPU   uint32   `json:"cpu"`
}

func (RawTracepointContext) accepts(t ebpf.ProgramType) bool { return t == ebpf.RawTracepoint }

// SyscallContext is the context of a SYSCALL program: bytes in, and out
// the same number of bytes as the program left them.
type SyscallContext struct {
	Data Bytes `json:"data"`
}

func (SyscallContext) accepts(t ebpf.ProgramType) bool { return t == ebpf.Syscall }

// StructOpsContext holds the arguments of a STRUCT_OPS program's test run
// (at most 12 u64; exactly as many as the member takes). The kernel runs
// only programs of its test struct bpf_dummy_ops, whose members all take a
// struct bpf_dummy_ops_state pointer first.
type StructOpsContext struct {
	Args []uint64 `json:"args"`
	// State, when not nil, is the struct bpf_dummy_ops_state the first
	// argument points to: the Runner passes the address of a copy, the
	// kernel copies it in and back out, and the output context holds what
	// the program left. Nil passes Args[0] as it is (0: no state).
	State Bytes `json:"state,omitempty"`
}

func (StructOpsContext) accepts(t ebpf.ProgramType) bool { return t == ebpf.StructOps }

// RawContext passes bytes as the context of any program type, for types
// without a typed context (TRACING, NETFILTER) or to test how the kernel
// treats a malformed one. The output context is what the kernel copies
// back, at most as many bytes as Data: for the types with a context
// struct, the whole struct, so a RawContext shorter than it fails
// (ErrContext), and one longer than it (the bytes past it zero) comes back
// as long as the struct.
type RawContext struct {
	Data Bytes `json:"data"`
}

func (RawContext) accepts(ebpf.ProgramType) bool { return true }

func putArgs(dst []byte, args []uint64) []byte {
	dst = dst[:8*len(args)]
	for i, a := range args {
		binary.NativeEndian.PutUint64(dst[8*i:], a)
	}
	return dst
}
