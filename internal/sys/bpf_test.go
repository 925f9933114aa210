package sys_test

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpkit/xdpkit/internal/sys"
	"github.com/xdpkit/xdpkit/internal/testprogs"
	"github.com/xdpkit/xdpkit/internal/testutil"
)

func TestMapBTFIDs(t *testing.T) {
	testutil.RequirePrivileged(t)
	spec, err := testprogs.Spec("maps")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()

	btfID, keyID, valueID, err := sys.MapBTFIDs(coll.Maps["entries"].FD())
	if err != nil {
		t.Fatal(err)
	}
	if btfID == 0 || keyID == 0 || valueID == 0 {
		t.Fatalf("entries has BTF key and value, got btf %d key %d value %d", btfID, keyID, valueID)
	}
	_, keyID, valueID, err = sys.MapBTFIDs(coll.Maps["raw"].FD())
	if err != nil {
		t.Fatal(err)
	}
	if keyID != 0 || valueID != 0 {
		t.Fatalf("raw has no BTF key or value, got key %d value %d", keyID, valueID)
	}
	if _, _, _, err := sys.MapBTFIDs(-1); err == nil {
		t.Fatal("MapBTFIDs(-1) succeeded")
	}
}
