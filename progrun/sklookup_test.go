package progrun_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/testutil"
	"github.com/xdpkit/xdpkit/progrun"
)

// The SK_LOOKUP tests run lookup of bpf/testprogs/run_sk_lookup.c, which
// selects sockets the test puts into its SOCKMAP.

// listener returns a TCP socket listening on 127.0.0.1 (with SO_REUSEPORT
// if asked) and its socket cookie, closed when the test ends.
func listener(t *testing.T, reuseport bool) (fd int, cookie uint64) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if reuseport {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	cookie, err = unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_COOKIE)
	if err != nil {
		t.Fatal(err)
	}
	return fd, cookie
}

func TestSKLookup(t *testing.T) {
	testutil.RequirePrivileged(t)
	coll := loadCollection(t, "run_sk_lookup")
	fd, cookie := listener(t, false)
	if err := coll.Maps["socks"].Put(uint32(0), uint64(fd)); err != nil {
		t.Fatal(err)
	}
	r := progrun.New(coll.Programs["lookup"])

	local4 := netip.MustParseAddr("127.0.0.1")
	remote4 := netip.MustParseAddr("10.1.2.3")
	for _, tc := range []struct {
		name   string
		ctx    progrun.SKLookupContext
		code   uint32
		verd   string
		cookie uint64
	}{
		{"selects the socket", progrun.SKLookupContext{Protocol: unix.IPPROTO_TCP,
			RemoteIP: remote4, RemotePort: 40000, LocalIP: local4, LocalPort: 7007}, 1, "SK_PASS", cookie},
		{"other remote port", progrun.SKLookupContext{Protocol: unix.IPPROTO_TCP,
			RemoteIP: remote4, RemotePort: 40001, LocalIP: local4, LocalPort: 7007}, 0, "SK_DROP", 0},
		{"other remote address", progrun.SKLookupContext{Protocol: unix.IPPROTO_TCP,
			RemoteIP: netip.MustParseAddr("10.1.2.4"), RemotePort: 40000, LocalIP: local4, LocalPort: 7007}, 0, "SK_DROP", 0},
		{"udp", progrun.SKLookupContext{Protocol: unix.IPPROTO_UDP,
			RemoteIP: remote4, RemotePort: 40000, LocalIP: local4, LocalPort: 7007}, 0, "SK_DROP", 0},
		{"dropped port", progrun.SKLookupContext{Protocol: unix.IPPROTO_TCP,
			RemoteIP: remote4, RemotePort: 40000, LocalIP: local4, LocalPort: 7008}, 0, "SK_DROP", 0},
		{"other port", progrun.SKLookupContext{Protocol: unix.IPPROTO_TCP,
			RemoteIP: remote4, RemotePort: 40000, LocalIP: local4, LocalPort: 80}, 1, "SK_PASS", 0},
		{"ipv6 from 2001:db8::/32", progrun.SKLookupContext{Protocol: unix.IPPROTO_UDP,
			RemoteIP: netip.MustParseAddr("2001:db8::5"), RemotePort: 1, LocalIP: netip.IPv6Loopback(), LocalPort: 7010}, 1, "SK_PASS", 0},
		{"ipv6 from elsewhere", progrun.SKLookupContext{Protocol: unix.IPPROTO_UDP,
			RemoteIP: netip.MustParseAddr("2001:db9::5"), RemotePort: 1, LocalIP: netip.IPv6Loopback(), LocalPort: 7010}, 0, "SK_DROP", 0},
		{"ipv4 on the ipv6 port", progrun.SKLookupContext{Protocol: unix.IPPROTO_UDP,
			RemoteIP: remote4, RemotePort: 1, LocalIP: local4, LocalPort: 7010}, 0, "SK_DROP", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, r, progrun.Input{Context: &tc.ctx})
			wantVerdict(t, res, tc.code, tc.verd)
			out, ok := res.Context.(*progrun.SKLookupContext)
			if !ok {
				t.Fatalf("context out is %T", res.Context)
			}
			if out.Cookie != tc.cookie {
				t.Errorf("cookie %d, want %d", out.Cookie, tc.cookie)
			}
			// The kernel hands the connection back as it was given.
			wantFamily := uint32(unix.AF_INET)
			if tc.ctx.LocalIP.Is6() {
				wantFamily = unix.AF_INET6
			}
			if out.Family != wantFamily || out.Protocol != tc.ctx.Protocol || out.RemoteIP != tc.ctx.RemoteIP ||
				out.RemotePort != tc.ctx.RemotePort || out.LocalIP != tc.ctx.LocalIP || out.LocalPort != tc.ctx.LocalPort {
				t.Errorf("context out %+v, want the connection %+v", *out, tc.ctx)
			}
			if res.Data != nil {
				t.Errorf("data out % x, want none", res.Data)
			}
		})
	}

	res := run(t, r, progrun.Input{Repeat: 100, Context: &progrun.SKLookupContext{Protocol: unix.IPPROTO_TCP,
		RemoteIP: remote4, RemotePort: 40000, LocalIP: local4, LocalPort: 7007}})
	if res.Repeat != 100 || res.Duration <= 0 {
		t.Errorf("repeat %d duration %v, want 100 and > 0", res.Repeat, res.Duration)
	}
	if c := res.Context.(*progrun.SKLookupContext); c.Cookie != cookie {
		t.Errorf("cookie after 100 runs %d, want %d", c.Cookie, cookie)
	}
}

// A SO_REUSEPORT socket selected without BPF_SK_LOOKUP_F_NO_REUSEPORT
// would be resolved within its group, which a test run cannot do: the
// kernel answers EOPNOTSUPP.
func TestSKLookupReuseport(t *testing.T) {
	testutil.RequirePrivileged(t)
	coll := loadCollection(t, "run_sk_lookup")
	fd, _ := listener(t, true)
	if err := coll.Maps["socks"].Put(uint32(1), uint64(fd)); err != nil {
		t.Fatal(err)
	}
	r := progrun.New(coll.Programs["lookup"])
	_, err := r.Run(progrun.Input{Context: &progrun.SKLookupContext{Protocol: unix.IPPROTO_TCP,
		RemoteIP: netip.MustParseAddr("10.1.2.3"), RemotePort: 1, LocalIP: netip.MustParseAddr("127.0.0.1"), LocalPort: 7009}})
	if !errors.Is(err, progrun.ErrContext) || !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatalf("error %v, want ErrContext with EOPNOTSUPP", err)
	}
	if !strings.Contains(err.Error(), "reuseport socket without bpf_sk_assign's BPF_SK_LOOKUP_F_NO_REUSEPORT") {
		t.Errorf("message %q does not explain the reuseport socket", err)
	}
}

// An AF_INET6 lookup with IPv4-mapped addresses is an IPv6 lookup: the
// kernel gets the addresses in its IPv6 fields and hands them back as
// they were given; the program's IPv4 fields stay zero.
func TestSKLookupMapped(t *testing.T) {
	testutil.RequirePrivileged(t)
	coll := loadCollection(t, "run_sk_lookup")
	r := progrun.New(coll.Programs["lookup"])
	remote, local := netip.MustParseAddr("::ffff:10.1.2.3"), netip.MustParseAddr("::ffff:127.0.0.1")
	for _, tc := range []struct {
		port uint16
		code uint32
		verd string
	}{
		{80, 1, "SK_PASS"},
		{7007, 0, "SK_DROP"}, // checks remote_ip4, which is 0 for IPv6
	} {
		in := progrun.SKLookupContext{Family: unix.AF_INET6, Protocol: unix.IPPROTO_TCP,
			RemoteIP: remote, RemotePort: 40000, LocalIP: local, LocalPort: tc.port}
		res := run(t, r, progrun.Input{Context: &in})
		wantVerdict(t, res, tc.code, tc.verd)
		out := res.Context.(*progrun.SKLookupContext)
		out.Cookie = 0
		if *out != in {
			t.Errorf("port %d: context out %+v, want %+v", tc.port, *out, in)
		}
	}
	_, err := r.Run(progrun.Input{Context: &progrun.SKLookupContext{Family: unix.AF_INET,
		LocalIP: netip.IPv6Loopback(), LocalPort: 80}})
	if !errors.Is(err, progrun.ErrContext) || !strings.Contains(err.Error(), "local_ip ::1 is an IPv6 address, but the family is AF_INET") {
		t.Errorf("AF_INET with ::1: error %v", err)
	}
}
