package builtin

import (
	"bytes"

	"github.com/cilium/ebpf"
)

// XDPFirewallObject returns the ELF object of xdp_fw (bpf/xdp_fw.c): one
// XDP program, "xdp_fw", a small example firewall and ping responder. It
// answers ICMPv4 and ICMPv6 echo requests itself, rewriting them in place
// into echo replies (XDP_TX), drops TCP to port 23 and UDP to port 9
// (XDP_DROP) and passes everything else untouched, counting each verdict
// in the per-CPU array "xdp_fw_verdicts" indexed by the XDP action. The
// slice is shared: do not modify it.
func XDPFirewallObject() []byte { return _XdpFwBytes }

// XDPFirewallSpec parses XDPFirewallObject into a fresh CollectionSpec.
func XDPFirewallSpec() (*ebpf.CollectionSpec, error) {
	return ebpf.LoadCollectionSpecFromReader(bytes.NewReader(_XdpFwBytes))
}
