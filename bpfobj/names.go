package bpfobj

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// mapTypeNames are the kernel's map types as bpftool names them, indexed by
// enum bpf_map_type.
var mapTypeNames = []string{
	"unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash",
	"percpu_array", "stack_trace", "cgroup_array", "lru_hash", "lru_percpu_hash",
	"lpm_trie", "array_of_maps", "hash_of_maps", "devmap", "sockmap", "cpumap",
	"xskmap", "sockhash", "cgroup_storage_deprecated", "reuseport_sockarray",
	"percpu_cgroup_storage_deprecated", "queue", "stack", "sk_storage",
	"devmap_hash", "struct_ops", "ringbuf", "inode_storage", "task_storage",
	"bloom_filter", "user_ringbuf", "cgrp_storage", "arena",
}

// progTypeNames are the kernel's program types as bpftool names them,
// indexed by enum bpf_prog_type.
var progTypeNames = []string{
	"unspec", "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint",
	"xdp", "perf_event", "cgroup_skb", "cgroup_sock", "lwt_in", "lwt_out",
	"lwt_xmit", "sock_ops", "sk_skb", "cgroup_device", "sk_msg",
	"raw_tracepoint", "cgroup_sock_addr", "lwt_seg6local", "lirc_mode2",
	"sk_reuseport", "flow_dissector", "cgroup_sysctl",
	"raw_tracepoint_writable", "cgroup_sockopt", "tracing", "struct_ops",
	"ext", "lsm", "sk_lookup", "syscall", "netfilter",
}

// MapTypeName returns t as bpftool names it ("hash", "percpu_array"), or
// "type N" for a type this table does not know.
func MapTypeName(t ebpf.MapType) string {
	if int(t) < len(mapTypeNames) {
		return mapTypeNames[t]
	}
	return fmt.Sprintf("type %d", uint32(t))
}

// ProgramTypeName returns t as bpftool names it ("xdp", "sched_cls"), or
// "type N" for a type this table does not know.
func ProgramTypeName(t ebpf.ProgramType) string {
	if int(t) < len(progTypeNames) {
		return progTypeNames[t]
	}
	return fmt.Sprintf("type %d", uint32(t))
}

// ParseMapType returns the map type called name, as MapTypeName spells it
// (case and - versus _ do not matter). The error, which wraps os.ErrInvalid,
// lists the known names.
func ParseMapType(name string) (ebpf.MapType, error) {
	n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_")
	for i, known := range mapTypeNames {
		if i > 0 && n == known {
			return ebpf.MapType(i), nil
		}
	}
	return 0, errs.Markf(ErrInvalidInput, "unknown map type %q: use one of %s", name, strings.Join(mapTypeNames[1:], ", "))
}

// perCPU reports whether maps of type t hold one value per possible CPU.
func perCPU(t ebpf.MapType) bool {
	switch t {
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash, ebpf.PerCPUCGroupStorage:
		return true
	}
	return false
}
