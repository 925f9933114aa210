package netdev

import (
	"bytes"
	"testing"
)

// The kernel fails NETDEV_CMD_DEV_GET with EINVAL when the reserved bytes
// of the generic netlink header are not zero.
func TestGenlHeaderReservedZero(t *testing.T) {
	h := genlHeader{cmd: netdevCmdDevGet, version: netdevFamilyVersion}
	if got := h.Serialize(); len(got) != h.Len() || !bytes.Equal(got, []byte{netdevCmdDevGet, netdevFamilyVersion, 0, 0}) {
		t.Fatalf("header %v", got)
	}
}
