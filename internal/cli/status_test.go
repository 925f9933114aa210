package cli

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/xdp"
)

// xdpTestVeth creates a veth pair with unique names in the root network
// namespace, up, deleted when the test ends, and returns one end's name.
func xdpTestVeth(t *testing.T) string {
	t.Helper()
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: testutil.UniqueName("xc")},
		PeerName:  testutil.UniqueName("xd"),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("create veth: %v", err)
	}
	t.Cleanup(func() {
		if err := netlink.LinkDel(veth); err != nil {
			t.Errorf("delete veth %s: %v", veth.Name, err)
		}
	})
	for _, n := range []string{veth.Name, veth.PeerName} {
		l, err := netlink.LinkByName(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := netlink.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	return veth.Name
}

// xdpStatusJSON runs xdpkit status IFACE --json and decodes its one line.
func xdpStatusJSON(t *testing.T, iface string) interfaceJSON {
	t.Helper()
	r := runXdpkit(t, false, "status", iface, "--json")
	if r.code != 0 {
		t.Fatalf("status %s: exit %d: %s", iface, r.code, r.stderr)
	}
	var in interfaceJSON
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("status --json printed %q: %v", r.stdout, err)
	}
	return in
}

// waitDetached waits until iface has no XDP program, failing after 5s.
func waitDetached(t *testing.T, iface string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		in := xdpStatusJSON(t, iface)
		if len(in.Programs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still has XDP programs: %+v", iface, in.Programs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// attachNetlink attaches xdp_pass to iface the legacy way, through
// netlink, and removes it when the test ends.
func attachNetlink(t *testing.T, iface string, flags int) {
	t.Helper()
	attachNetlinkNamed(t, iface, flags, "xdp_pass")
}

// attachNetlinkNamed is attachNetlink with the program loaded under name
// (empty: none).
func attachNetlinkNamed(t *testing.T, iface string, flags int, name string) {
	t.Helper()
	prog := testutil.LoadXDPPass(t, name)
	l, err := netlink.LinkByName(iface)
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetXdpFdWithFlags(l, prog.FD(), flags); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netlink.LinkSetXdpFdWithFlags(l, -1, flags) })
}

func TestStatusCommand(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := xdpTestVeth(t)

	r := runXdpkit(t, false, "status", iface)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.Fields(sc.Text())...)
		lines = append(lines, "\n")
	}
	want := "IFACE PROGRAM MODE ID TAG ATTACH \n " + iface + " <no XDP program> \n"
	if got := strings.Join(lines, " "); got != want {
		t.Errorf("status printed %q, want %q", got, want)
	}

	if in := xdpStatusJSON(t, iface); in.Interface != iface || in.Ifindex == 0 || in.Mode != "" ||
		in.Programs == nil || len(in.Programs) != 0 {
		t.Errorf("status --json = %+v", in)
	}

	// All interfaces: one JSON line each, ours among them.
	r = runXdpkit(t, false, "status", "--json")
	found := false
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var in interfaceJSON
		if err := json.Unmarshal([]byte(line), &in); err != nil {
			t.Fatalf("status --json line %q: %v", line, err)
		}
		found = found || in.Interface == iface
	}
	if r.code != 0 || !found {
		t.Errorf("status --json: exit %d, %s missing from %q", r.code, iface, r.stdout)
	}
}

func TestStatusNetlink(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := xdpTestVeth(t)
	attachNetlink(t, iface, unix.XDP_FLAGS_SKB_MODE)

	in := xdpStatusJSON(t, iface)
	if in.Mode != "generic" || len(in.Programs) != 1 {
		t.Fatalf("status --json = %+v, want one program in generic mode", in)
	}
	p := in.Programs[0]
	if p.Name != "xdp_pass" || p.Attach != "netlink" || p.Type != "XDP" || p.ID == 0 || p.Tag == "" || p.LinkID != 0 {
		t.Fatalf("program = %+v, want xdp_pass attached via netlink", p)
	}
	r := runXdpkit(t, false, "status", iface)
	if !strings.Contains(r.stdout, "xdp_pass") || !strings.Contains(r.stdout, "netlink") {
		t.Errorf("status printed %q", r.stdout)
	}

	r = runXdpkit(t, false, "detach", iface)
	if r.code != 0 || !strings.Contains(r.stdout, "detached xdp_pass") {
		t.Fatalf("detach: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	waitDetached(t, iface)
}

func TestStatusUnprivileged(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := xdpTestVeth(t)
	attachNetlink(t, iface, unix.XDP_FLAGS_DRV_MODE)

	// Netlink tells anyone the mode and id; names need CAP_SYS_ADMIN.
	r := runXdpkit(t, true, "status", iface, "--json")
	if r.code != 0 {
		t.Fatalf("unprivileged status: exit %d: %s", r.code, r.stderr)
	}
	var in interfaceJSON
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("status --json printed %q: %v", r.stdout, err)
	}
	if in.Mode != "native" || len(in.Programs) != 1 || in.Programs[0].ID == 0 || in.Programs[0].Name != "" {
		t.Errorf("unprivileged status --json = %+v, want the id only", in)
	}
	if !strings.Contains(r.stderr, "CAP_SYS_ADMIN") {
		t.Errorf("no warning naming CAP_SYS_ADMIN on stderr: %q", r.stderr)
	}
}

func TestStatusErrors(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"status", "nosuchif0"}, ExitNotFound, `interface "nosuchif0" does not exist (see ip link)`},
		{[]string{"status", "a", "b"}, ExitUsage, "accepts between 0 and 1 arg"},
	} {
		r := runXdpkit(t, false, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("xdpkit %v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.stderr, tc.code, tc.msg)
		}
	}
}

// TestStatusNameless checks that a program loaded without a name still
// shows its type.
func TestStatusNameless(t *testing.T) {
	testutil.RequirePrivileged(t)
	iface := xdpTestVeth(t)
	attachNetlinkNamed(t, iface, unix.XDP_FLAGS_SKB_MODE, "")
	in := xdpStatusJSON(t, iface)
	if len(in.Programs) != 1 || in.Programs[0].Name != "" || in.Programs[0].Type != "XDP" || in.Programs[0].Attach != "netlink" {
		t.Fatalf("status --json = %+v, want a nameless XDP program via netlink", in)
	}
}

// TestStatusLinkUnknown checks how status shows a program held by one of
// several bpf_links of different network namespaces (xdp's
// TestNetnsSameIfindex sets that up for real).
func TestStatusLinkUnknown(t *testing.T) {
	p := xdp.Program{ID: 42, Name: "xdp_pass", Type: ebpf.XDP, Mode: xdp.ModeGeneric, Via: xdp.ViaLink, LinkCandidates: []link.ID{5, 7}}
	if got := attachText(p); got != "link ?" {
		t.Errorf("attachText = %q, want link ?", got)
	}
	j := programToJSON(p)
	if j.Attach != "link" || j.LinkID != 0 || len(j.LinkCandidates) != 2 || j.LinkCandidates[0] != 5 || j.LinkCandidates[1] != 7 ||
		!strings.Contains(j.Note, "5, 7") || !strings.Contains(j.Note, "network namespace") || j.Type != "XDP" {
		t.Errorf("programToJSON = %+v", j)
	}
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"link_candidates":[5,7]`) || strings.Contains(string(b), "link_id") {
		t.Errorf("JSON %s", b)
	}

	p.LinkID, p.LinkCandidates = 5, nil
	if j := programToJSON(p); j.Note != "" || j.LinkCandidates != nil || attachText(p) != "link 5" {
		t.Errorf("known link: %+v, %q", j, attachText(p))
	}
}
