package progrun

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/bpfobj/btfvalue"
	"github.com/xdpkit/xdpkit/internal/errs"
)

// skbRefused lists the __sk_buff fields a test run refuses to take (they
// must be zero), so that asking for one gets that answer rather than
// "unknown field".
var skbRefused = []string{"len", "pkt_type", "queue_mapping", "protocol", "vlan_present", "vlan_tci",
	"vlan_proto", "tc_index", "hash", "tc_classid", "data", "data_end", "napi_id", "family",
	"remote_ip4", "local_ip4", "remote_ip6", "local_ip6", "remote_port", "local_port", "data_meta",
	"flow_keys", "sk", "tstamp_type"}

func argFields() []string {
	f := make([]string, maxFuncArgs)
	for i := range f {
		f[i] = "arg" + strconv.Itoa(i)
	}
	return f
}

// ContextFields lists the context fields ParseContext takes for programs
// of type t: for the skb types, exactly the __sk_buff fields the kernel
// accepts in a test run.
func ContextFields(t ebpf.ProgramType) []string {
	switch {
	case t == ebpf.XDP:
		return []string{"ingress_ifindex", "rx_queue_index", "meta"}
	case isSKBType(t):
		return []string{"mark", "priority", "ingress_ifindex", "ifindex", "cb0", "cb1", "cb2", "cb3", "cb4",
			"tstamp", "wire_len", "gso_segs", "gso_size", "hwtstamp"}
	case t == ebpf.FlowDissector:
		return []string{"flags"}
	case t == ebpf.SkLookup:
		return []string{"family", "protocol", "remote_ip", "remote_port", "local_ip", "local_port"}
	case t == ebpf.RawTracepoint:
		return append(argFields(), "cpu")
	case t == ebpf.StructOps:
		return append(argFields(), "state")
	case t == ebpf.Syscall:
		return []string{"data"}
	}
	return []string{"raw"}
}

// ParseContext builds the context for programs of type t from
// "field=value" settings, as `xdpkit run --ctx` takes them: numbers in
// decimal or 0x hex, interfaces by index or name, addresses as text,
// bytes (meta, data, raw) as hex. A field the type does not have, or that
// the kernel refuses in a test run, is an error that lists the fields it
// takes. No settings give a nil Context: the kernel's default.
func ParseContext(t ebpf.ProgramType, settings []string) (Context, error) {
	if len(settings) == 0 {
		return nil, nil
	}
	p := ctxParser{t: t, seen: map[string]bool{}}
	var (
		xdp  XDPContext
		skb  SKBContext
		flow FlowDissectorContext
		skl  SKLookupContext
		raw  RawTracepointContext
		ops  StructOpsContext
		sysc SyscallContext
		rc   RawContext
	)
	for _, s := range settings {
		key, val, ok := strings.Cut(s, "=")
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		if !ok || key == "" {
			return nil, errs.Markf(os.ErrInvalid, "context setting %q: want FIELD=VALUE, with FIELD one of %s",
				s, strings.Join(ContextFields(t), ", "))
		}
		if err := p.field(key); err != nil {
			return nil, err
		}
		if p.seen[key] {
			return nil, errs.Markf(os.ErrInvalid, "context field %s given twice", key)
		}
		p.seen[key] = true
		var err error
		switch {
		case t == ebpf.XDP:
			err = p.xdp(&xdp, key, val)
		case isSKBType(t):
			err = p.skb(&skb, key, val)
		case t == ebpf.FlowDissector:
			flow.Flags, err = p.u32(key, val)
		case t == ebpf.SkLookup:
			err = p.skLookup(&skl, key, val)
		case t == ebpf.RawTracepoint && key == "cpu":
			raw.OnCPU = true
			raw.CPU, err = p.u32(key, val)
		case t == ebpf.RawTracepoint:
			raw.Args, err = p.arg(raw.Args, key, val)
		case t == ebpf.StructOps && key == "state":
			ops.State, err = p.bytes(key, val)
			if len(ops.Args) == 0 {
				ops.Args = append(ops.Args, 0)
			}
		case t == ebpf.StructOps:
			ops.Args, err = p.arg(ops.Args, key, val)
		case t == ebpf.Syscall:
			sysc.Data, err = p.bytes(key, val)
		default:
			rc.Data, err = p.bytes(key, val)
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case t == ebpf.XDP:
		return &xdp, nil
	case isSKBType(t):
		return &skb, nil
	case t == ebpf.FlowDissector:
		return &flow, nil
	case t == ebpf.SkLookup:
		return &skl, nil
	case t == ebpf.RawTracepoint:
		return &raw, nil
	case t == ebpf.StructOps:
		return &ops, nil
	case t == ebpf.Syscall:
		return &sysc, nil
	}
	return &rc, nil
}

type ctxParser struct {
	t    ebpf.ProgramType
	seen map[string]bool
}

func (p *ctxParser) field(key string) error {
	fields := ContextFields(p.t)
	if slices.Contains(fields, key) {
		return nil
	}
	if isSKBType(p.t) && slices.Contains(skbRefused, key) {
		return errs.Markf(ErrContext, "context field %s: the kernel does not accept __sk_buff.%s in a test run "+
			"(it must be zero); %s programs take %s", key, key, typeName(p.t), strings.Join(fields, ", "))
	}
	if p.t == ebpf.SkLookup && (key == "ingress_ifindex" || key == "cookie" || key == "sk") {
		return errs.Markf(ErrContext, "context field %s: the kernel does not accept bpf_sk_lookup.%s in a test run "+
			"(it must be zero); SK_LOOKUP programs take %s", key, key, strings.Join(fields, ", "))
	}
	if key == "cb" && isSKBType(p.t) {
		return errs.Markf(ErrContext, "context field cb: give the five words one by one, as cb0 to cb4")
	}
	return errs.Markf(ErrContext, "%s programs have no context field %q; they take %s",
		typeName(p.t), key, strings.Join(fields, ", "))
}

func (p *ctxParser) bad(key, val, want string) error {
	return errs.Markf(ErrContext, "context field %s=%q: want %s", key, val, want)
}

func (p *ctxParser) uint(key, val string, bits int) (uint64, error) {
	n, err := strconv.ParseUint(val, 0, bits)
	if err != nil {
		return 0, p.bad(key, val, fmt.Sprintf("an unsigned %d-bit number (decimal or 0x hex)", bits))
	}
	return n, nil
}

func (p *ctxParser) u32(key, val string) (uint32, error) {
	n, err := p.uint(key, val, 32)
	return uint32(n), err
}

// ifindex takes an interface index or name.
func (p *ctxParser) ifindex(key, val string) (uint32, error) {
	if n, err := strconv.ParseUint(val, 0, 32); err == nil {
		return uint32(n), nil
	}
	ifc, err := net.InterfaceByName(val)
	if err != nil {
		return 0, errs.Markf(ErrNoDevice, "context field %s=%s: no interface %q in this network namespace "+
			"(see `ip link`)", key, val, val)
	}
	return uint32(ifc.Index), nil
}

func (p *ctxParser) bytes(key, val string) ([]byte, error) {
	if val == "" {
		return []byte{}, nil
	}
	b, err := btfvalue.ParseHex(val)
	if err != nil {
		return nil, p.bad(key, val, "bytes in hex, such as 0a0b0c0d")
	}
	return b, nil
}

func (p *ctxParser) arg(args []uint64, key, val string) ([]uint64, error) {
	i, _ := strconv.Atoi(strings.TrimPrefix(key, "arg"))
	n, err := strconv.ParseUint(val, 0, 64)
	if err != nil {
		s, serr := strconv.ParseInt(val, 0, 64)
		if serr != nil {
			return nil, p.bad(key, val, "a 64-bit number (decimal, negative or 0x hex)")
		}
		n = uint64(s)
	}
	for len(args) <= i {
		args = append(args, 0)
	}
	args[i] = n
	return args, nil
}

func (p *ctxParser) xdp(c *XDPContext, key, val string) (err error) {
	switch key {
	case "ingress_ifindex":
		c.IngressIfindex, err = p.ifindex(key, val)
	case "rx_queue_index":
		c.RxQueueIndex, err = p.u32(key, val)
	case "meta":
		c.Meta, err = p.bytes(key, val)
	}
	return err
}

func (p *ctxParser) skb(c *SKBContext, key, val string) (err error) {
	var n uint64
	switch key {
	case "ingress_ifindex":
		c.IngressIfindex, err = p.ifindex(key, val)
	case "ifindex":
		c.Ifindex, err = p.ifindex(key, val)
	case "tstamp", "hwtstamp":
		n, err = p.uint(key, val, 64)
		if key == "tstamp" {
			c.Tstamp = n
		} else {
			c.HWTstamp = n
		}
	default:
		var v uint32
		v, err = p.u32(key, val)
		switch key {
		case "mark":
			c.Mark = v
		case "priority":
			c.Priority = v
		case "wire_len":
			c.WireLen = v
		case "gso_segs":
			c.GSOSegs = v
		case "gso_size":
			c.GSOSize = v
		default: // cb0..cb4
			c.CB[key[2]-'0'] = v
		}
	}
	return err
}

func (p *ctxParser) skLookup(c *SKLookupContext, key, val string) error {
	switch key {
	case "family":
		switch strings.ToLower(val) {
		case "inet", "ipv4", "4", "2", "af_inet":
			c.Family = unix.AF_INET
		case "inet6", "ipv6", "6", "10", "af_inet6":
			c.Family = unix.AF_INET6
		default:
			return p.bad(key, val, "inet or inet6")
		}
	case "protocol":
		switch strings.ToLower(val) {
		case "tcp", "6":
			c.Protocol = unix.IPPROTO_TCP
		case "udp", "17":
			c.Protocol = unix.IPPROTO_UDP
		default:
			return p.bad(key, val, "tcp or udp")
		}
	case "remote_ip", "local_ip":
		a, err := netip.ParseAddr(val)
		if err != nil {
			return p.bad(key, val, "an IPv4 or IPv6 address")
		}
		if key == "remote_ip" {
			c.RemoteIP = a
		} else {
			c.LocalIP = a
		}
	case "remote_port", "local_port":
		n, err := p.uint(key, val, 16)
		if err != nil {
			return err
		}
		if key == "remote_port" {
			c.RemotePort = uint16(n)
		} else {
			c.LocalPort = uint16(n)
		}
	}
	return nil
}
