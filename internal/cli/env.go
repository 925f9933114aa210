package cli

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/internal/output"
	"github.com/xdpkit/xdpkit/netenv"
)

// envCaps are what making, entering and removing namespaces takes.
var envCaps = []caps.Cap{caps.NetAdmin, caps.SysAdmin}

func newEnvCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Test environments: network namespaces joined by veth pairs",
		Long: `Test environments for trying XDP programs on real traffic without touching
real interfaces. An env NAME is a veth pair: the outer end xk-NAME in the
current network namespace (or, with --isolated, in a namespace xko-NAME of
its own) and the inner end xk-NAME-in in the namespace xk-NAME, with IPv4
and IPv6 addresses on both (10.11.N.1/24 and fc00:dead:cafe:N::1/64 outside,
.2 and ::2 inside, N different for each env).

Envs persist until "xdpkit env teardown": setup in one shell, use them from
others ("ip netns exec xk-NAME ..." works too), remove them when done.`,
	}
	cmd.AddCommand(
		newEnvSetupCmd(g),
		newEnvTeardownCmd(g),
		newEnvListCmd(g),
		newEnvExecCmd(g),
		newEnvPingCmd(g),
	)
	return cmd
}

// envSetupFlags are the flags of "env setup".
type envSetupFlags struct {
	queues, mtu    int
	ipv4, ipv6     string
	noIPv4, noIPv6 bool
	isolated       bool
}

func newEnvSetupCmd(g *globals) *cobra.Command {
	var f envSetupFlags
	cmd := &cobra.Command{
		Use:   "setup [NAME]",
		Short: "Create a test environment",
		Long: fmt.Sprintf(`Create the env NAME (a generated name when omitted): a namespace, a veth pair
with addresses, everything up. NAME is 1 to %d lowercase letters, digits or
'-'. It fails, leaving the existing env alone, when NAME is in use. If
setup fails or is interrupted halfway, what it made is removed.

With --json: one object describing the env.`, netenv.MaxNameLen),
		Example: `  xdpkit env setup test1
  xdpkit env setup mq --queues 4 --mtu 3000
  xdpkit env setup iso --isolated --ipv4 192.168.50.1/30 --no-ipv6`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return runEnvSetup(cmd, g, name, f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.queues, "queues", 1, "TX and RX queues on each veth end")
	fl.IntVar(&f.mtu, "mtu", 0, "MTU of both ends (default: the kernel's, 1500)")
	fl.StringVar(&f.ipv4, "ipv4", "", "outer end's IPv4 address/prefix; the inner end gets the next address (default 10.11.N.1/24)")
	fl.StringVar(&f.ipv6, "ipv6", "", "outer end's IPv6 address/prefix; the inner end gets the next address (default fc00:dead:cafe:N::1/64)")
	fl.BoolVar(&f.noIPv4, "no-ipv4", false, "no IPv4 addresses")
	fl.BoolVar(&f.noIPv6, "no-ipv6", false, "no IPv6 addresses")
	fl.BoolVar(&f.isolated, "isolated", false, "put the outer end in a namespace of its own too (xko-NAME)")
	return cmd
}

func runEnvSetup(cmd *cobra.Command, g *globals, name string, f envSetupFlags) error {
	spec := netenv.Spec{
		Name:     name,
		Queues:   f.queues,
		MTU:      f.mtu,
		NoIPv4:   f.noIPv4,
		NoIPv6:   f.noIPv6,
		Isolated: f.isolated,
	}
	if f.queues < 1 {
		return usagef("--queues %d: use at least 1", f.queues)
	}
	var err error
	if spec.IPv4, err = parsePrefixFlag("ipv4", f.ipv4); err != nil {
		return err
	}
	if spec.IPv6, err = parsePrefixFlag("ipv6", f.ipv6); err != nil {
		return err
	}
	if err := spec.Validate(); err != nil {
		return err
	}
	if err := caps.Require(envCaps...); err != nil {
		return err
	}
	env, err := netenv.Setup(cmd.Context(), spec)
	if err != nil {
		return caps.Explain(err, envCaps...)
	}
	for _, note := range env.Notes {
		fmt.Fprintf(g.stderr, "note: %s\n", note)
	}
	if g.json {
		return output.JSON(g.stdout, envToJSON(env))
	}
	fmt.Fprintf(g.stdout, "env %s is up\n\n", env.Name)
	if err := envTable(env).Write(g.stdout); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, `
Use it:    xdpkit env exec %[1]s -- ip addr       (or: ip netns exec %[2]s ip addr)
           xdpkit env ping %[1]s
           xdpkit attach %[3]s PROG.o
Remove it: xdpkit env teardown %[1]s
`, env.Name, env.Inner.Netns, env.Outer.Interface)
	return nil
}

// parsePrefixFlag parses an ADDRESS/PREFIX flag; empty means unset.
func parsePrefixFlag(flag, s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, usagef("--%s %q: want ADDRESS/PREFIX such as %s", flag, s,
			map[string]string{"ipv4": "10.11.5.1/24", "ipv6": "fc00:dead:cafe:5::1/64"}[flag])
	}
	return p, nil
}

func newEnvTeardownCmd(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "teardown NAME...|--all",
		Short: "Remove test environments",
		Long: `Remove the envs NAME... (or, with --all, every env xdpkit made): the veth
pair and the namespaces. Half-made envs are removed too. The others are
still removed when one fails. A NAME that does not exist fails with exit
code 5, unless removing another env failed otherwise: that failure's exit
code wins.

With --json: one object per env removed.`,
		Example: `  xdpkit env teardown test1
  xdpkit env teardown --all`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return usagef("give env names or --all, not both nor neither (see %q)", cmd.CommandPath()+" --help")
			}
			return runEnvTeardown(g, args, all)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "remove every env (only envs xdpkit made)")
	return cmd
}

// envRemovedJSON is the --json form of a removed env.
type envRemovedJSON struct {
	Name    string `json:"name"`
	Removed bool   `json:"removed"`
}

func runEnvTeardown(g *globals, names []string, all bool) error {
	for _, n := range names {
		if err := netenv.ValidateName(n); err != nil {
			return err
		}
	}
	if err := caps.Require(envCaps...); err != nil {
		return err
	}
	if all {
		var err error
		if names, err = netenv.List(); err != nil {
			return err
		}
		if len(names) == 0 && !g.json {
			fmt.Fprintln(g.stderr, "no envs to remove")
		}
	}
	var failures []error
	for _, n := range names {
		if err := netenv.Teardown(n); err != nil {
			failures = append(failures, caps.Explain(err, envCaps...))
			continue
		}
		if g.json {
			if err := output.JSON(g.stdout, envRemovedJSON{Name: n, Removed: true}); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(g.stdout, "removed env %s\n", n)
		}
	}
	return mostSerious(failures)
}

// mostSerious joins errs into one error that lists them all but decides
// the exit code by the most serious: an env that does not exist counts
// only when nothing worse happened to the others.
func mostSerious(failures []error) error {
	var serious []error
	for _, err := range failures {
		if !errors.Is(err, os.ErrNotExist) {
			serious = append(serious, err)
		}
	}
	all := errors.Join(failures...)
	if len(serious) == 0 || len(serious) == len(failures) {
		return all
	}
	return errs.Markf(errors.Join(serious...), "%s", all)
}

func newEnvListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List test environments",
		Long: `List the envs xdpkit made, with their interfaces, addresses and namespaces.
A half-made env (its veth pair gone) is listed as incomplete. An env that
cannot be read for another reason is listed with its error, and xdpkit then
exits non-zero after listing the others.

With --json: one object per env per line.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEnvList(g)
		},
	}
}

func runEnvList(g *globals) error {
	if err := caps.Require(envCaps...); err != nil {
		return err
	}
	names, err := netenv.List()
	if err != nil {
		return err
	}
	t := output.NewTable("NAME", "END", "NETNS", "INTERFACE", "IFINDEX", "IPV4", "IPV6", "QUEUES")
	var failures []error
	for _, n := range names {
		env, err := netenv.Open(n)
		if errors.Is(err, os.ErrPermission) {
			return caps.Explain(err, envCaps...)
		}
		if errors.Is(err, os.ErrNotExist) && !errors.Is(err, netenv.ErrIncomplete) {
			continue // removed meanwhile
		}
		// A half-made env is shown as such on its row; an env that cannot
		// be read is shown too, and its error reported after the list:
		// the other envs are still worth listing.
		incomplete := errors.Is(err, netenv.ErrIncomplete)
		if err != nil && !incomplete {
			failures = append(failures, err)
		}
		if g.json {
			j := envJSON{Name: n}
			if env != nil {
				j = envToJSON(env)
			} else {
				j.Error = err.Error()
				j.Incomplete = incomplete
			}
			if err := output.JSON(g.stdout, j); err != nil {
				return err
			}
			continue
		}
		switch {
		case env != nil:
			addEnvRows(t, env)
		case incomplete:
			t.Row(n, "-", "-", "(incomplete: remove it with xdpkit env teardown "+n+")", "", "", "", "")
		default:
			t.Row(n, "-", "-", "(error: see below)", "", "", "", "")
		}
	}
	if !g.json {
		if t.Len() == 0 {
			fmt.Fprintln(g.stderr, "no envs (make one with: xdpkit env setup NAME)")
		} else if err := t.Write(g.stdout); err != nil {
			return err
		}
	}
	return errors.Join(failures...)
}

func newEnvExecCmd(g *globals) *cobra.Command {
	var outer bool
	cmd := &cobra.Command{
		Use:   "exec NAME [--outer] -- CMD [ARGS...]",
		Short: "Run a command inside a test environment",
		Long: `Run CMD inside the namespace of env NAME's inner end (with --outer, of its
outer end), with /sys showing that namespace's interfaces, like
"ip netns exec". Standard streams are passed through, and xdpkit exits with
CMD's exit code (128+N when a signal N kills it, as shells do). Put "--"
before CMD when CMD has flags of its own.`,
		Example: `  xdpkit env exec test1 -- ip -br addr
  xdpkit env exec test1 -- tcpdump -ni xk-test1-in -c 5`,
		Args: minimumArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash > 1 {
				return usagef("put \"--\" right after NAME: xdpkit env exec NAME -- CMD [ARGS...]")
			}
			return runEnvExec(cmd, g, args[0], outer, args[1:])
		},
	}
	cmd.Flags().BoolVar(&outer, "outer", false, "run in the outer end's namespace instead of the inner end's")
	return cmd
}

// openEnv checks the name and the privileges, then opens the env NAME.
func openEnv(name string) (*netenv.Env, error) {
	if err := netenv.ValidateName(name); err != nil {
		return nil, err
	}
	if err := caps.Require(envCaps...); err != nil {
		return nil, err
	}
	env, err := netenv.Open(name)
	if err != nil {
		return nil, caps.Explain(err, envCaps...)
	}
	return env, nil
}

func runEnvExec(cmd *cobra.Command, g *globals, name string, outer bool, argv []string) error {
	env, err := openEnv(name)
	if err != nil {
		return err
	}
	end := env.Inner
	if outer {
		end = env.Outer
	}
	c := end.Command(cmd.Context(), argv...)
	c.Stdin, c.Stdout, c.Stderr = cmd.InOrStdin(), g.stdout, g.stderr
	err = c.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if exit.ExitCode() >= 0 {
			return exitStatusError{code: exit.ExitCode()}
		}
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitStatusError{code: 128 + int(ws.Signal())}
		}
	}
	if err != nil {
		return fmt.Errorf("run %s in env %s: %w", argv[0], name, err)
	}
	return nil
}

func newEnvPingCmd(g *globals) *cobra.Command {
	var (
		count      int
		ipv4, ipv6 bool
		from       string
	)
	cmd := &cobra.Command{
		Use:   "ping NAME",
		Short: "Ping across a test environment",
		Long: `Ping from one end of env NAME to the other (by default from the inner end to
the outer one), over IPv4 and IPv6 (or only the family asked for), with a
bounded count and time. Exits 1 when a reply is missing.

With --json: one object per family.`,
		Example: `  xdpkit env ping test1
  xdpkit env ping test1 --ipv6 --count 10 --from outer`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if count < 1 {
				return usagef("--count %d: use at least 1", count)
			}
			var side netenv.Side
			switch from {
			case "inner":
				side = netenv.Inner
			case "outer":
				side = netenv.Outer
			default:
				return usagef("--from %q: use inner or outer", from)
			}
			families := []bool{false, true} // IPv6?
			if ipv4 != ipv6 {
				families = []bool{ipv6}
			}
			return runEnvPing(cmd, g, args[0], netenv.PingOptions{From: side, Count: count}, families, ipv4 || ipv6)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&count, "count", "c", 3, "echo requests per family")
	fl.BoolVarP(&ipv4, "ipv4", "4", false, "ping over IPv4 only")
	fl.BoolVarP(&ipv6, "ipv6", "6", false, "ping over IPv6 only")
	fl.StringVar(&from, "from", "inner", "the end that pings: inner or outer")
	return cmd
}

// pingJSON is the --json form of one env ping run.
type pingJSON struct {
	Name     string `json:"name"`
	From     string `json:"from"`
	Family   string `json:"family"`
	Target   string `json:"target"`
	Sent     int    `json:"sent"`
	Received int    `json:"received"`
}

func runEnvPing(cmd *cobra.Command, g *globals, name string, opts netenv.PingOptions, families []bool, explicit bool) error {
	env, err := openEnv(name)
	if err != nil {
		return err
	}
	var failures []error
	pinged := 0
	for _, v6 := range families {
		opts.IPv6 = v6
		res, err := env.Ping(cmd.Context(), opts)
		if errors.Is(err, os.ErrNotExist) && !explicit {
			continue // the env has no address of this family
		}
		family := "ipv4"
		if v6 {
			family = "ipv6"
		}
		if err != nil && res.Sent == 0 {
			failures = append(failures, err)
			continue
		}
		pinged++
		if err != nil {
			failures = append(failures, err)
		}
		if g.json {
			if err := output.JSON(g.stdout, pingJSON{
				Name: env.Name, From: opts.From.String(), Family: family, Target: res.Target.String(),
				Sent: res.Sent, Received: res.Received,
			}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(g.stdout, "%s %s -> %s: %d/%d replies\n", family, opts.From, res.Target, res.Received, res.Sent)
	}
	if pinged == 0 && len(failures) == 0 {
		return errs.Markf(os.ErrNotExist, "env %s has no addresses to ping", name)
	}
	return errors.Join(failures...)
}

// envJSON is the --json form of an env, printed by env setup and env list.
type envJSON struct {
	Name      string  `json:"name"`
	Queues    int     `json:"queues"`
	MTU       int     `json:"mtu"`
	Isolated  bool    `json:"isolated"`
	Temporary bool    `json:"temporary"`
	Outer     endJSON `json:"outer"`
	Inner     endJSON `json:"inner"`
	// Error says why an env listed could not be read; empty otherwise.
	// Incomplete tells a half-made env (remove it with env teardown) from
	// other errors.
	Error      string `json:"error,omitempty"`
	Incomplete bool   `json:"incomplete,omitempty"`
}

// endJSON is the --json form of one end of an env. Netns is "" for the
// current namespace; an address is "" when the env has none of its family.
type endJSON struct {
	Netns     string `json:"netns"`
	Interface string `json:"interface"`
	Ifindex   int    `json:"ifindex"`
	MAC       string `json:"mac"`
	IPv4      string `json:"ipv4"`
	IPv6      string `json:"ipv6"`
}

func envToJSON(env *netenv.Env) envJSON {
	return envJSON{
		Name:      env.Name,
		Queues:    env.Queues,
		MTU:       env.MTU,
		Isolated:  env.Isolated,
		Temporary: env.Temporary,
		Outer:     endToJSON(env.Outer),
		Inner:     endToJSON(env.Inner),
	}
}

func endToJSON(e netenv.End) endJSON {
	return endJSON{
		Netns:     e.Netns,
		Interface: e.Interface,
		Ifindex:   e.Ifindex,
		MAC:       e.MAC.String(),
		IPv4:      prefixText(e.IPv4, ""),
		IPv6:      prefixText(e.IPv6, ""),
	}
}

func prefixText(p netip.Prefix, none string) string {
	if !p.IsValid() {
		return none
	}
	return p.String()
}

// envTable is the human form of one env.
func envTable(env *netenv.Env) *output.Table {
	t := output.NewTable("NAME", "END", "NETNS", "INTERFACE", "IFINDEX", "IPV4", "IPV6", "QUEUES")
	addEnvRows(t, env)
	return t
}

func addEnvRows(t *output.Table, env *netenv.Env) {
	for _, e := range []struct {
		side string
		end  netenv.End
	}{{"outer", env.Outer}, {"inner", env.Inner}} {
		ns := e.end.Netns
		if ns == "" {
			ns = "(current)"
		}
		t.Row(env.Name, e.side, ns, e.end.Interface, e.end.Ifindex,
			prefixText(e.end.IPv4, "-"), prefixText(e.end.IPv6, "-"), env.Queues)
	}
}

// exitStatusError passes the exit status of a command xdpkit ran for the
// user (env exec) through as xdpkit's own. The command already printed
// what it had to say, so xdpkit adds nothing.
type exitStatusError struct{ code int }

func (e exitStatusError) Error() string {
	return fmt.Sprintf("command exited with status %d", e.code)
}

// commandExitCode returns the status an exitStatusError in err carries.
func commandExitCode(err error) (int, bool) {
	var e exitStatusError
	if errors.As(err, &e) {
		return e.code, true
	}
	return 0, false
}
