package cli

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/xdpkit/xdpkit/bpfobj"
	"github.com/xdpkit/xdpkit/internal/caps"
	"github.com/xdpkit/xdpkit/internal/errs"
	"github.com/xdpkit/xdpkit/internal/output"
	"github.com/xdpkit/xdpkit/packet"
	"github.com/xdpkit/xdpkit/progrun"
)

// source is one --packet or --pcap flag, kept in command-line order.
type source struct {
	pcap  bool
	value string
}

// sourceFlag is a pflag.Value that appends to a shared list, so that
// --packet and --pcap keep their relative order.
type sourceFlag struct {
	list *[]source
	pcap bool
}

func (f sourceFlag) String() string { return "" }
func (f sourceFlag) Type() string {
	if f.pcap {
		return "FILE"
	}
	return "HEX|SPEC"
}
func (f sourceFlag) Set(v string) error {
	*f.list = append(*f.list, source{pcap: f.pcap, value: v})
	return nil
}

type runFlags struct {
	prog     string
	sources  []source
	out      string
	outOnly  []string
	set      []string
	ctx      []string
	repeat   uint32
	dumpMaps bool
	quiet    bool
}

func newRunCmd(g *globals) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run OBJ",
		Short: "Run a BPF program on packets with BPF_PROG_RUN and show its verdicts",
		Long: `Load the BPF object OBJ and run one of its programs in the kernel on each
packet given, with BPF_PROG_RUN: nothing is attached and nothing is sent.

Packets come from --packet (hex bytes, or a SPEC such as
eth/ipv4(src=10.0.0.1,dst=10.0.0.2)/udp(dport=53)/payload(64)) and --pcap
files, in the order given. Program types that take no packet (SK_LOOKUP,
RAW_TRACEPOINT, SYSCALL, STRUCT_OPS) run once on their context.

For each packet xdpkit prints the verdict (XDP_TX, TC_ACT_SHOT, ...), the
length before and after, and the kernel's run time (averaged over --repeat
runs), then a summary by verdict. --out writes the output packets to a
pcap (with --out-verdict XDP_TX, only those the program sent back). --ctx
sets context fields (a wrong field lists the right ones for the program's
type). --dump-maps prints the object's maps after the runs.

Context fields by program type:
  XDP                      ingress_ifindex (index or name), rx_queue_index, meta (hex)
  SCHED_CLS, SCHED_ACT, CGROUP_SKB, SOCKET_FILTER, LWT_*
                           mark, priority, ingress_ifindex, ifindex, cb0..cb4,
                           tstamp, wire_len, gso_segs, gso_size, hwtstamp
  FLOW_DISSECTOR           flags
  SK_LOOKUP                family, protocol, remote_ip, remote_port, local_ip, local_port
  RAW_TRACEPOINT           arg0..arg11, cpu
  SYSCALL                  data (hex)
  STRUCT_OPS               arg0..arg11 (bpf_dummy_ops only)

A pcap record that cannot be read is reported by number and skipped; a
packet the kernel refuses is reported and the rest still run. Either makes
the exit code 1 once every packet has been tried.`,
		Example: `  xdpkit run xdp_prog.o --packet 'eth/ipv4/udp(dport=53)/payload(32)'
  xdpkit run xdp_prog.o --prog xdp_fw --pcap in.pcap --out out.pcap --dump-maps
  xdpkit run tc_prog.o --packet 0200000000020200000000010800... --ctx mark=7 --repeat 1000 --json
  xdpkit run sk_lookup.o --ctx protocol=tcp --ctx local_ip=10.0.0.1 --ctx local_port=80`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProgram(cmd, g, args[0], &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.prog, "prog", "", "run the program `NAME` (needed when the object has several)")
	fl.Var(sourceFlag{list: &f.sources}, "packet", "a packet as hex bytes or a packet SPEC (repeatable)")
	fl.Var(sourceFlag{list: &f.sources, pcap: true}, "pcap", "run on every packet of a pcap or pcapng file (repeatable)")
	fl.StringVar(&f.out, "out", "", "write the output packets to the pcap `FILE`")
	fl.StringSliceVar(&f.outOnly, "out-verdict", nil, "with --out, write only the packets with these `VERDICTS` (XDP_TX, tx, TC_ACT_OK, 3, ...)")
	fl.StringArrayVar(&f.ctx, "ctx", nil, "set a context field, `FIELD=VALUE` (repeatable)")
	fl.StringArrayVar(&f.set, "set", nil, "before the runs, set a map entry: `MAP[KEY]=VALUE`, VALUE a program's name for a "+
		"program array (tail calls), else as xdpkit map update takes it (repeatable)")
	fl.Uint32Var(&f.repeat, "repeat", 1, "run each packet `N` times in the kernel and report the average time "+
		"(the runs share one buffer: the verdict and output are the last run's; on XDP each call then costs "+
		"~30-50 ms more, so time one packet, do not replay with it)")
	fl.BoolVar(&f.dumpMaps, "dump-maps", false, "print every map of the object after the runs")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the summary, not a line per packet")
	return cmd
}

// runResultJSON is one packet's line of xdpkit run --json.
type runResultJSON struct {
	Kind       string            `json:"kind"` // "result"
	Index      int               `json:"index"`
	Source     string            `json:"source"`
	Verdict    string            `json:"verdict"`
	Return     uint32            `json:"return"`
	LenIn      int               `json:"len_in"`
	LenOut     *int              `json:"len_out,omitempty"` // absent for types that return no packet
	DurationNS int64             `json:"duration_ns"`
	Repeat     uint32            `json:"repeat"`
	DataOut    string            `json:"data_out,omitempty"`
	Context    progrun.Context   `json:"context_out,omitempty"`
	FlowKeys   *progrun.FlowKeys `json:"flow_keys,omitempty"`
}

// runErrorJSON is a run the kernel refused, or (kind "skipped") a pcap
// record that could not be read, in xdpkit run --json.
type runErrorJSON struct {
	Kind   string `json:"kind"` // "error" or "skipped"
	Index  int    `json:"index,omitempty"`
	Source string `json:"source"`
	LenIn  int    `json:"len_in,omitempty"`
	Error  string `json:"error"`
}

// runSummaryJSON is the last line of xdpkit run --json.
type runSummaryJSON struct {
	Kind     string         `json:"kind"` // "summary"
	Program  string         `json:"program"`
	Type     string         `json:"type"`
	Runs     int            `json:"runs"`
	Errors   int            `json:"errors"`
	Skipped  int            `json:"skipped_records"`
	Verdicts map[string]int `json:"verdicts"`
	TotalNS  int64          `json:"kernel_ns"`
}

// runMapJSON introduces a map's entries in xdpkit run --dump-maps --json.
type runMapJSON struct {
	Kind string `json:"kind"` // "map"
	Name string `json:"name"`
	Type string `json:"type"`
}

// runState carries one invocation of xdpkit run.
type runState struct {
	g       *globals
	f       *runFlags
	runner  *progrun.Runner
	ctx     progrun.Context
	table   *output.Table
	writer  *packet.Writer
	outOnly map[uint32]bool // verdict codes --out keeps; nil keeps all
	index   int
	errors  int
	skipped int
	counts  map[string]int
	order   []string
	total   time.Duration
	hidden  int // runs past maxTableRows, not in the table

	header    string // the line above the table
	live      bool   // stderr is a terminal: show progress on long replays
	lastShown time.Time
	lastIndex int
}

func runProgram(cmd *cobra.Command, g *globals, path string, f *runFlags) (err error) {
	if err := caps.Require(caps.BPF, caps.NetAdmin); err != nil {
		return err
	}
	obj, err := bpfobj.Load(path, &bpfobj.LoadOptions{TestRun: true})
	if err != nil {
		return err
	}
	defer obj.Close()
	p, err := pickProgram(obj, path, f.prog)
	if err != nil {
		return err
	}
	ctx, err := progrun.ParseContext(p.Type, f.ctx)
	if err != nil {
		return fmt.Errorf("--ctx: %w", err)
	}
	st := &runState{g: g, f: f, runner: progrun.New(p.Program), ctx: ctx, counts: map[string]int{},
		live: output.IsTerminal(g.stderr)}
	typeName := bpfobj.ProgramTypeName(p.Type)
	takesPacket := progrun.TakesPacket(p.Type)
	switch {
	case takesPacket && len(f.sources) == 0:
		return usagef("%s programs run on packets: give --packet HEX|SPEC or --pcap FILE", typeName)
	case !takesPacket && len(f.sources) > 0:
		return usagef("%s programs take no packet, only a context: drop --packet/--pcap and set fields with --ctx (%s)",
			typeName, strings.Join(progrun.ContextFields(p.Type), ", "))
	}
	// Packets on the command line are checked before anything runs: a
	// typo there is a usage error, not a failed run.
	packets := make([][]byte, len(f.sources))
	for i, s := range f.sources {
		if s.pcap {
			continue
		}
		data, err := packet.FromArg(s.value)
		if err != nil {
			return usageError{fmt.Errorf("--packet %q: %w", s.value, err)}
		}
		if len(data) < packet.EthernetHeaderLen {
			return usagef("--packet %q is %d bytes, shorter than an Ethernet header (%d bytes): give the whole frame",
				s.value, len(data), packet.EthernetHeaderLen)
		}
		packets[i] = data
	}
	if len(f.outOnly) > 0 {
		if f.out == "" {
			return usagef("--out-verdict needs --out FILE")
		}
		st.outOnly = map[uint32]bool{}
		for _, v := range f.outOnly {
			verdict, err := progrun.ParseVerdict(p.Type, v)
			if err != nil {
				return usageError{fmt.Errorf("--out-verdict: %w", err)}
			}
			st.outOnly[verdict.Code] = true
		}
	}
	if f.out != "" {
		if !takesPacket {
			return usagef("--out: %s programs return no packet", typeName)
		}
		closeOut, err := st.openOut(f.out)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := closeOut(); cerr != nil && err == nil {
				err = cerr
			}
		}()
	}
	if !g.json && !f.quiet {
		st.header = fmt.Sprintf("program %s (%s) of %s", p.Name, typeName, path)
		st.table = output.NewTable("#", "VERDICT", "RET", "LEN", "TIME", "CHANGES", "PACKET")
	}
	if err := setEntries(obj, f.set); err != nil {
		return err
	}

	if !takesPacket {
		if err := st.run(cmd, origin{index: -1}, time.Time{}, nil); err != nil {
			return err
		}
	}
	for i, s := range f.sources {
		if cmd.Context().Err() != nil {
			break
		}
		if s.pcap {
			err = st.replay(cmd, s.value)
		} else {
			err = st.run(cmd, origin{index: i + 1}, time.Now(), packets[i])
		}
		if err != nil && !errors.Is(err, progrun.ErrInterrupted) {
			return err
		}
	}
	if st.table != nil && st.index > 0 {
		fmt.Fprintln(g.stdout, st.header)
		if err := st.table.Write(g.stdout); err != nil {
			return err
		}
		if st.hidden > 0 {
			fmt.Fprintf(g.stdout, "... and %d more runs, not shown (-q prints the summary only, --json every run)\n", st.hidden)
		}
	}
	if err := st.summary(p); err != nil {
		return err
	}
	if f.dumpMaps {
		if err := dumpObjectMaps(g, obj); err != nil {
			return err
		}
	}
	if cmd.Context().Err() != nil {
		fmt.Fprintf(g.stderr, "xdpkit: interrupted after %d runs\n", st.index)
		return exitStatusError{code: ExitInterrupted}
	}
	var problems []string
	if st.errors > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d runs failed", st.errors, st.index))
	}
	if st.skipped > 0 {
		problems = append(problems, fmt.Sprintf("%d pcap records were skipped", st.skipped))
	}
	if st.index == 0 && takesPacket {
		problems = append(problems, "no packet ran: the pcap files hold none")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s (see above)", strings.Join(problems, ", "))
	}
	return nil
}

// openOut creates the --out pcap, buffered; the function it returns
// flushes and closes it.
func (st *runState) openOut(path string) (func() error, error) {
	file, err := os.Create(path)
	if err != nil {
		if errors.Is(err, syscall.EISDIR) {
			return nil, usagef("--out %s is a directory: give a file name", path)
		}
		return nil, fmt.Errorf("--out: %w", err)
	}
	buf := bufio.NewWriterSize(file, 1<<20)
	if st.writer, err = packet.NewWriter(buf); err != nil {
		file.Close()
		return nil, fmt.Errorf("--out %s: %w", path, err)
	}
	return func() error {
		if err := buf.Flush(); err != nil {
			file.Close()
			return fmt.Errorf("--out %s: %w", path, err)
		}
		if err := file.Close(); err != nil {
			return fmt.Errorf("--out %s: %w", path, err)
		}
		return nil
	}, nil
}

// pickProgram returns the program named name, or the only program.
func pickProgram(obj *bpfobj.Object, path, name string) (*bpfobj.Program, error) {
	if len(obj.Programs) == 0 {
		return nil, errs.Markf(os.ErrInvalid, "%s has no programs, only maps: nothing to run", path)
	}
	var names []string
	for _, p := range obj.Programs {
		if p.Name == name || (name == "" && len(obj.Programs) == 1) {
			return p, nil
		}
		names = append(names, fmt.Sprintf("%s (%s)", p.Name, bpfobj.ProgramTypeName(p.Type)))
	}
	if name == "" {
		return nil, usagef("the object has %d programs: pick one with --prog NAME: %s", len(names), strings.Join(names, ", "))
	}
	return nil, errs.Markf(os.ErrNotExist, "no program %q in the object; it has %s", name, strings.Join(names, ", "))
}

// replay runs every packet of a pcap file.
func (st *runState) replay(cmd *cobra.Command, path string) error {
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--pcap: %w", err)
	}
	defer file.Close()
	rd, err := packet.NewReader(file)
	if err != nil {
		return fmt.Errorf("--pcap %s: %w", path, err)
	}
	defer func() {
		if !st.lastShown.IsZero() {
			st.progress(path, true)
		}
	}()
	for cmd.Context().Err() == nil {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var re *packet.RecordError
		if errors.As(err, &re) {
			st.skipped++
			fmt.Fprintf(st.g.stderr, "xdpkit: %s: %v (skipped)\n", path, err)
			if st.g.json {
				if err := output.JSON(st.g.stdout, runErrorJSON{Kind: "skipped",
					Source: origin{path, re.Index}.String(), Error: err.Error()}); err != nil {
					return err
				}
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("--pcap %s: %w", path, err)
		}
		if err := st.run(cmd, origin{path, rec.Index}, rec.Timestamp, rec.Data); err != nil {
			return err
		}
		st.progress(path, false)
	}
	return nil
}

// maxTableRows bounds the human table, which is printed at the end: a long
// replay shows its first runs and the summary, in bounded memory.
const maxTableRows = 1000

// origin is where a run's input came from: a pcap file and record number,
// or (file "") a --packet flag or the context alone. It becomes text only
// when printed, so that a replay builds no string per packet.
type origin struct {
	file  string
	index int
}

func (o origin) String() string {
	switch {
	case o.index < 0:
		return "context"
	case o.file == "":
		return fmt.Sprintf("--packet %d", o.index)
	}
	return fmt.Sprintf("%s#%d", o.file, o.index)
}

// progress keeps a live line on a terminal's stderr during a long replay:
// runs so far and their rate, every half second.
func (st *runState) progress(path string, done bool) {
	if !st.live {
		return
	}
	now := time.Now()
	if !done && now.Sub(st.lastShown) < 500*time.Millisecond {
		return
	}
	if st.lastShown.IsZero() {
		st.lastShown, st.lastIndex = now, st.index
		return
	}
	rate := float64(st.index-st.lastIndex) / now.Sub(st.lastShown).Seconds()
	fmt.Fprintf(st.g.stderr, "\r\033[Kreplaying %s: %d runs, %.0f runs/s", path, st.index, rate)
	if done {
		fmt.Fprintln(st.g.stderr)
	}
	st.lastShown, st.lastIndex = now, st.index
}

// run runs one packet (or the context alone) and records the result.
// Errors that every further run would repeat end the command; the others
// are reported on the packet's line.
func (st *runState) run(cmd *cobra.Command, from origin, ts time.Time, data []byte) error {
	st.index++
	res, err := st.runner.RunContext(cmd.Context(), progrun.Input{Data: data, Context: st.ctx, Repeat: st.f.repeat})
	if err != nil {
		if errors.Is(err, progrun.ErrInterrupted) {
			st.index-- // did not finish: neither a result nor a failure
			return err
		}
		if fatalRunError(err) {
			return err
		}
		st.errors++
		return st.printError(from, data, err)
	}
	name := res.Verdict.String()
	if st.counts[name] == 0 {
		st.order = append(st.order, name)
	}
	st.counts[name]++
	st.total += res.Duration * time.Duration(res.Repeat)
	if st.writer != nil && (st.outOnly == nil || st.outOnly[res.Return]) {
		if ts.IsZero() {
			ts = time.Now()
		}
		if err := st.writer.Write(ts, res.Data); err != nil {
			return fmt.Errorf("--out %s: %w", st.f.out, err)
		}
	}
	return st.printResult(from, data, &res)
}

func fatalRunError(err error) bool {
	for _, kind := range []error{progrun.ErrNotRunnable, progrun.ErrContext, progrun.ErrRepeat,
		progrun.ErrLiveFrames, progrun.ErrNoDevice, progrun.ErrNoPacket, os.ErrPermission} {
		if errors.Is(err, kind) {
			return true
		}
	}
	return false
}

func (st *runState) printError(from origin, data []byte, err error) error {
	if st.g.json {
		return output.JSON(st.g.stdout, runErrorJSON{Kind: "error", Index: st.index, Source: from.String(),
			LenIn: len(data), Error: err.Error()})
	}
	fmt.Fprintf(st.g.stderr, "xdpkit: %s (%s): %v\n", runLabel(st.index), from, err)
	if st.table != nil && st.table.Len() >= maxTableRows {
		st.hidden++
	} else if st.table != nil {
		length, desc := "-", "-"
		if data != nil {
			length, desc = fmt.Sprint(len(data)), packet.Describe(data)
		}
		st.table.Row(st.index, "error", "-", length, "-", "-", desc)
	}
	return nil
}

func runLabel(i int) string { return fmt.Sprintf("run %d", i) }

func (st *runState) printResult(from origin, data []byte, res *progrun.Result) error {
	if st.g.json {
		out := runResultJSON{Kind: "result", Index: st.index, Source: from.String(), Verdict: res.Verdict.String(),
			Return: res.Return, LenIn: len(data), DurationNS: res.Duration.Nanoseconds(),
			Repeat: res.Repeat, Context: res.Context, FlowKeys: res.FlowKeys}
		if res.Data != nil {
			n := len(res.Data)
			out.LenOut, out.DataOut = &n, hex.EncodeToString(res.Data)
		}
		return output.JSON(st.g.stdout, out)
	}
	if st.table == nil {
		return nil
	}
	if st.table.Len() >= maxTableRows {
		st.hidden++
		return nil
	}
	length, desc := "-", "-"
	if data != nil {
		length = fmt.Sprint(len(data))
		if res.Data != nil && len(res.Data) != len(data) {
			length = fmt.Sprintf("%d→%d", len(data), len(res.Data))
		}
		desc = packet.Describe(data)
	}
	dur := "-"
	if res.Duration > 0 {
		dur = res.Duration.String()
	}
	ret := fmt.Sprint(res.Return)
	if res.Verdict.Name() == "" {
		ret = fmt.Sprintf("%#x", res.Return) // VERDICT already shows the number
	}
	st.table.Row(st.index, res.Verdict.String(), ret, length, dur, changes(data, st.ctx, res), desc)
	return nil
}

// changes names what the program changed: packet bytes, metadata and
// context fields, and the flow keys of a dissector.
func changes(in []byte, ctxIn progrun.Context, res *progrun.Result) string {
	var parts []string
	if in != nil && res.Data != nil && !slices.Equal(in, res.Data) {
		parts = append(parts, "packet")
	}
	switch c := res.Context.(type) {
	case *progrun.XDPContext:
		var before []byte
		if b, ok := ctxIn.(*progrun.XDPContext); ok {
			before = b.Meta
		}
		if !slices.Equal(before, c.Meta) {
			parts = append(parts, fmt.Sprintf("meta=%x", []byte(c.Meta)))
		}
	case *progrun.SKBContext:
		var before progrun.SKBContext
		if b, ok := ctxIn.(*progrun.SKBContext); ok {
			before = *b
		}
		if c.Mark != before.Mark {
			parts = append(parts, fmt.Sprintf("mark=%d", c.Mark))
		}
		if c.Priority != before.Priority {
			parts = append(parts, fmt.Sprintf("priority=%d", c.Priority))
		}
		for i := range c.CB {
			if c.CB[i] != before.CB[i] {
				parts = append(parts, fmt.Sprintf("cb%d=%d", i, c.CB[i]))
			}
		}
		if c.Tstamp != before.Tstamp {
			parts = append(parts, fmt.Sprintf("tstamp=%d", c.Tstamp))
		}
	case *progrun.SKLookupContext:
		if c.Cookie != 0 {
			parts = append(parts, fmt.Sprintf("socket cookie=%d", c.Cookie))
		}
	case *progrun.SyscallContext:
		var before []byte
		if b, ok := ctxIn.(*progrun.SyscallContext); ok {
			before = b.Data
		}
		if !slices.Equal(before, c.Data) {
			parts = append(parts, fmt.Sprintf("ctx=%x", []byte(c.Data)))
		}
	case *progrun.StructOpsContext:
		if c.State != nil {
			parts = append(parts, fmt.Sprintf("state=%x", []byte(c.State)))
		}
	}
	if k := res.FlowKeys; k != nil {
		parts = append(parts, flowText(k))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// flowText shows a flow dissector's keys: addresses and ports when it
// found them, always the offsets.
func flowText(k *progrun.FlowKeys) string {
	s := fmt.Sprintf("flow n_proto=%#04x", k.NProto)
	if k.IPProto != 0 {
		s += fmt.Sprintf(" proto=%d", k.IPProto)
	}
	if k.Src.IsValid() {
		s += fmt.Sprintf(" %v > %v", netip.AddrPortFrom(k.Src, k.Sport), netip.AddrPortFrom(k.Dst, k.Dport))
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{k.IsFrag, "frag"}, {k.IsFirstFrag, "first-frag"}, {k.IsEncap, "encap"}} {
		if f.on {
			s += " " + f.name
		}
	}
	if k.FlowLabel != 0 {
		s += fmt.Sprintf(" label=%#x", k.FlowLabel)
	}
	return s + fmt.Sprintf(" nhoff=%d thoff=%d", k.Nhoff, k.Thoff)
}

func (st *runState) summary(p *bpfobj.Program) error {
	runs := st.index
	if st.g.json {
		return output.JSON(st.g.stdout, runSummaryJSON{Kind: "summary", Program: p.Name,
			Type: bpfobj.ProgramTypeName(p.Type), Runs: runs, Errors: st.errors, Skipped: st.skipped,
			Verdicts: st.counts, TotalNS: st.total.Nanoseconds()})
	}
	order := slices.Clone(st.order)
	sort.SliceStable(order, func(i, j int) bool { return st.counts[order[i]] > st.counts[order[j]] })
	var parts []string
	for _, v := range order {
		parts = append(parts, fmt.Sprintf("%s %d (%.0f%%)", v, st.counts[v], 100*float64(st.counts[v])/float64(max(runs, 1))))
	}
	if st.errors > 0 {
		parts = append(parts, fmt.Sprintf("errors %d", st.errors))
	}
	line := fmt.Sprintf("%d runs", runs)
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if st.skipped > 0 {
		line += fmt.Sprintf("; %d pcap records skipped", st.skipped)
	}
	if st.total > 0 {
		line += fmt.Sprintf("; kernel time %v in all", st.total)
	}
	if st.table != nil {
		fmt.Fprintln(st.g.stdout)
	}
	_, err := fmt.Fprintln(st.g.stdout, "summary: "+line)
	return err
}

// dumpObjectMaps prints every map of obj, BTF-formatted.
func dumpObjectMaps(g *globals, obj *bpfobj.Object) error {
	for _, m := range obj.Maps {
		if g.json {
			if err := output.JSON(g.stdout, runMapJSON{Kind: "map", Name: m.Name,
				Type: bpfobj.MapTypeName(m.Info.Type)}); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(g.stdout, "\nmap %s (%s):\n", m.Name, bpfobj.MapTypeName(m.Info.Type))
		}
		entries, err := m.Dump()
		for _, e := range entries {
			if perr := printEntry(g, m, e); perr != nil {
				return perr
			}
		}
		if err != nil {
			return fmt.Errorf("dump map %s: %w", m.Name, err)
		}
		if !g.json && len(entries) == 0 {
			fmt.Fprintln(g.stdout, "  (empty)")
		}
	}
	return nil
}

// setEntries applies --set MAP[KEY]=VALUE flags to the loaded object.
func setEntries(obj *bpfobj.Object, sets []string) error {
	for _, s := range sets {
		name, rest, ok := strings.Cut(s, "[")
		key, value, ok2 := strings.Cut(rest, "]=")
		if !ok || !ok2 || name == "" {
			return usagef("--set %q: want MAP[KEY]=VALUE, such as jmp_table[0]=flow_ipv4 or 'counts[1]=42'", s)
		}
		if err := obj.SetEntry(name, key, value); err != nil {
			return fmt.Errorf("--set %s: %w", s, err)
		}
	}
	return nil
}
