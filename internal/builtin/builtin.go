// Package builtin holds xdpkit's own BPF programs, compiled from the C
// sources under bpf/ by bpf2go and committed, so that building xdpkit needs
// no clang.
//
// Each program is available as a CollectionSpec and as the raw ELF object,
// which the CLI and the README's demo use like any other object file.
package builtin

import (
	"bytes"

	"github.com/cilium/ebpf"
)

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I../../bpf/include" -target bpfel -go-package builtin xdpPass ../../bpf/xdp_pass.c
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I../../bpf/include" -target bpfel -go-package builtin xdpCount ../../bpf/xdp_count.c
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I../../bpf/include" -target bpfel -go-package builtin xdpDrop ../../bpf/xdp_drop.c

// XDPPassObject returns the ELF object of xdp_pass (bpf/xdp_pass.c): one
// XDP program, "xdp_pass", that passes every frame. The slice is shared: do
// not modify it.
func XDPPassObject() []byte { return _XdpPassBytes }

// XDPCountObject returns the ELF object of xdp_count (bpf/xdp_count.c): one
// XDP program, "xdp_count", that counts frames and bytes per EtherType and IP
// protocol in the per-CPU hash map "xdp_count_stats" and passes every frame.
// The slice is shared: do not modify it.
func XDPCountObject() []byte { return _XdpCountBytes }

// XDPDropObject returns the ELF object of xdp_drop (bpf/xdp_drop.c): one
// XDP program, "xdp_drop", that drops every frame. The slice is shared: do
// not modify it.
func XDPDropObject() []byte { return _XdpDropBytes }

// XDPDropSpec parses XDPDropObject into a fresh CollectionSpec.
func XDPDropSpec() (*ebpf.CollectionSpec, error) {
	return ebpf.LoadCollectionSpecFromReader(bytes.NewReader(_XdpDropBytes))
}

// XDPPassSpec parses XDPPassObject into a fresh CollectionSpec.
func XDPPassSpec() (*ebpf.CollectionSpec, error) {
	return ebpf.LoadCollectionSpecFromReader(bytes.NewReader(_XdpPassBytes))
}

// XDPCountSpec parses XDPCountObject into a fresh CollectionSpec.
func XDPCountSpec() (*ebpf.CollectionSpec, error) {
	return ebpf.LoadCollectionSpecFromReader(bytes.NewReader(_XdpCountBytes))
}
