package verifier

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Limits that keep a Report, and the text rendered from it, small whatever
// the log holds: a report is read by a person, the log stays in Report.Log.
const (
	maxMessageLines = 8
	maxFieldLen     = 300
	maxStateLen     = 1024
)

// Report is what Parse finds in a verifier log: the instruction the verifier
// rejected, its source line, the error message and what it likely means.
//
// Fields the log does not hold are left at their zero value, except Insn,
// which is -1 when the log names no instruction.
type Report struct {
	// Insn is the index of the rejected instruction, counted in 8-byte
	// instruction slots as the kernel counts them (a 64-bit immediate load,
	// LDDW, takes two), the same as asm.Instructions' raw offsets. -1 when
	// unknown.
	Insn int
	// Instruction is the kernel's disassembly of Insn, for example
	// "r1 = *(u32 *)(r1 +0)", without the index and opcode.
	Instruction string
	// Source is the C source line of Insn as recorded in the program's BTF
	// line info, trimmed of surrounding space.
	Source string
	// File is the source file's name as the kernel prints it (a base name on
	// recent kernels). Empty when the log has no line info.
	File string
	// Line is the 1-based line number of Source in File; 0 when unknown.
	Line int
	// Message is the verifier's error, one or more lines joined with "\n".
	Message string
	// Hint explains Message in plain words and says what usually fixes it;
	// empty when Message is not one this package knows.
	Hint string
	// State is the register and stack state the verifier tracked before
	// Insn, as space-separated NAME=VALUE tokens in the kernel's notation:
	// the last whole state the log printed, updated with the changes the
	// log printed behind each instruction since. The kernel does not print
	// every refinement (a bounds check widens the range of all copies of a
	// packet pointer, but it prints only the compared ones), so a register
	// may show an older value than the verifier had. Empty when the log
	// holds no state.
	State string
	// Log is the whole log that was parsed, one line per element.
	Log []string
	// Truncated reports that the kernel cut the log short because it did not
	// fit the buffer; the report may then miss what was cut. Parse cannot see
	// this in the text: Explain sets it from the load error (ENOSPC).
	Truncated bool
}

var (
	// "12: (61) r1 = *(u32 *)(r1 +0)  ; R1=pkt(r=0)"
	insnRE = regexp.MustCompile(`^(\d+): \(([0-9a-f]{2})\) (.*)$`)
	// A state line glued behind an instruction, as the kernel prints the
	// state at a jump target without a newline: "... goto pc-4 2: R1=...".
	gluedStateRE = regexp.MustCompile(` (\d+): ((?:frame\d+: )?(?:R\d+|fp-?\d+)\w*=)`)
	// "; __u32 v = *(__u32 *)data; @ bad_packet.c:11"
	markerRE = regexp.MustCompile(`^(.*) @ ([^ ]+):(\d+)$`)
	// A state token's name: R0..R10, fp-8, optionally with a liveness
	// suffix that older kernels print (R1_w, fp-8_rw).
	stateNameRE = regexp.MustCompile(`^(R\d+|fp-?\d+)(_[a-zA-Z]+)?$`)
	// Messages that name the instruction themselves.
	insnInMessageRE = regexp.MustCompile(`(?:infinite loop detected at insn|unreachable insn|back-edge from insn|jump out of range from insn|jump into the middle of ldimm64 insn) (\d+)`)
)

// Parse reads a verifier log, one line per element as in
// ebpf.VerifierError.Log, and reports the rejected instruction. It never
// fails: a log it does not understand gives a Report with Insn -1 and the
// log's last line as Message. Parse is pure and costs time linear in the
// log's size.
func Parse(log []string) *Report {
	r := &Report{Insn: -1, Log: log}

	// Pass 1: the last instruction line, and the source line and
	// disassembly last seen for each instruction.
	type seen struct {
		text   string
		marker marker
	}
	insns := make(map[int]seen)
	var cur marker
	last := -1
	for i, line := range log {
		if m, ok := parseMarker(line); ok {
			cur = m
			continue
		}
		in, ok := parseInsn(line)
		if !ok {
			continue
		}
		insns[in.idx] = seen{in.text, cur}
		last = i
		if in.marker != nil {
			cur = *in.marker
		}
	}

	// The message: what follows the last instruction, or with no
	// instruction at all (errors found before simulation: BTF, CFG) the
	// log's last meaningful line.
	var msg []string
	curState := ""
	if last >= 0 {
		for _, line := range log[last+1:] {
			switch {
			case isNoise(line):
			case strings.HasPrefix(line, "cur state: "):
				curState = strings.TrimPrefix(line, "cur state: ")
			case strings.HasPrefix(line, "old state: "):
			default:
				if _, ok := parseMarker(line); ok {
					continue
				}
				if _, _, ok := parseStateLine(line); ok {
					continue
				}
				msg = append(msg, line)
			}
		}
	}
	if len(msg) == 0 {
		// The message is before the last instruction or there is none
		// after it: use the last line that says something.
		for i := len(log) - 1; i >= 0; i-- {
			if !isNoise(log[i]) {
				msg = append(msg, log[i])
				if i > 0 && includePrevious(log[i]) && !isNoise(log[i-1]) {
					msg = append([]string{log[i-1]}, msg...)
				}
				break
			}
		}
	}
	r.Message = joinLimited(msg)

	// The failing instruction: the last one the verifier looked at, unless
	// the message names another one.
	insnLine := last
	if last >= 0 {
		in, _ := parseInsn(log[last])
		r.Insn = in.idx
	}
	if m := insnInMessageRE.FindStringSubmatch(r.Message); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n >= 0 {
			if n != r.Insn {
				insnLine = -1 // the state before the last line is not n's
			}
			r.Insn = n
		}
	}
	if s, ok := insns[r.Insn]; ok {
		r.Instruction = limit(strings.TrimSpace(s.text), maxFieldLen)
		r.Source = limit(s.marker.source, maxFieldLen)
		r.File = limit(s.marker.file, maxFieldLen)
		r.Line = s.marker.line
	}

	switch {
	case curState != "":
		r.State = limit(curState, maxStateLen)
	case insnLine >= 0:
		r.State = limit(replayState(log[:insnLine]), maxStateLen)
	}
	r.Hint = hintFor(r.Message)
	return r
}

// marker is a source line marker: "; SOURCE @ FILE:LINE".
type marker struct {
	source string
	file   string
	line   int
}

// parseMarker parses a line of its own that names a source line. Kernels
// before 6.2 print the source without " @ file:line".
func parseMarker(line string) (marker, bool) {
	rest, ok := strings.CutPrefix(line, ";")
	if !ok {
		return marker{}, false
	}
	return parseMarkerText(rest), true
}

func parseMarkerText(s string) marker {
	s = strings.TrimSpace(s)
	m := markerRE.FindStringSubmatch(s)
	if m == nil {
		return marker{source: s}
	}
	n, err := strconv.Atoi(m[3])
	if err != nil || n <= 0 {
		// Line 0 is code the compiler made up: no source line.
		return marker{}
	}
	return marker{source: strings.TrimSpace(m[1]), file: m[2], line: n}
}

// insnLine is an instruction line of the log.
type insnLine struct {
	idx  int
	text string // disassembly
	// What the kernel printed behind the instruction, split up.
	delta  string  // changed registers and stack slots, "R1=pkt(r=0)"
	marker *marker // a source marker glued to the line, for the next insn
	// A state line glued to the line: the state at another instruction.
	glued string
}

func parseInsn(line string) (insnLine, bool) {
	m := insnRE.FindStringSubmatch(line)
	if m == nil {
		return insnLine{}, false
	}
	idx, err := strconv.Atoi(m[1])
	if err != nil {
		return insnLine{}, false
	}
	in := insnLine{idx: idx, text: m[3]}
	if g := gluedStateRE.FindStringSubmatchIndex(in.text); g != nil {
		in.glued = in.text[g[4]:]
		in.text = in.text[:g[0]]
	}
	// No disassembled instruction contains ';': what follows is either the
	// registers the instruction changed or a source marker.
	if text, rest, ok := strings.Cut(in.text, ";"); ok {
		in.text = strings.TrimSpace(text)
		rest = strings.TrimSpace(rest)
		if looksLikeState(rest) {
			in.delta = rest
		} else {
			mk := parseMarkerText(rest)
			in.marker = &mk
		}
	}
	in.text = strings.TrimSpace(in.text)
	return in, true
}

// parseStateLine parses a line that holds the whole state at an
// instruction: "12: R1=ctx() R10=fp0", "from 5 to 9: R1=...", or at log
// level 2 a bare "R1=ctx() R10=fp0".
func parseStateLine(line string) (idx int, state string, ok bool) {
	s := line
	idx = -1
	if rest, ok := strings.CutPrefix(s, "from "); ok {
		// "from 5 to 9: state", "from 5 to 9 (speculative execution): state"
		_, to, ok := strings.Cut(rest, " to ")
		if !ok {
			return 0, "", false
		}
		num, st, ok := strings.Cut(to, ": ")
		if !ok {
			return 0, "", false
		}
		num, _, _ = strings.Cut(num, " ")
		idx, _ = strconv.Atoi(num)
		s = st
	} else if num, rest, ok := strings.Cut(s, ": "); ok && isDigits(num) {
		idx, _ = strconv.Atoi(num)
		s = rest
	}
	s = strings.TrimSpace(s)
	if !looksLikeState(s) {
		return 0, "", false
	}
	return idx, s, true
}

func looksLikeState(s string) bool {
	toks := splitState(s)
	if len(toks) == 0 {
		return false
	}
	name, _, ok := strings.Cut(toks[0], "=")
	if !ok {
		// "frame1: R1=..." starts with the frame.
		if len(toks) > 1 && strings.HasSuffix(toks[0], ":") {
			name, _, ok = strings.Cut(toks[1], "=")
		}
		if !ok {
			return false
		}
	}
	return stateNameRE.MatchString(name)
}

// splitState splits "R1=scalar(var_off=(0x0; 0xff)) R10=fp0" at the spaces
// that are outside parentheses.
func splitState(s string) []string {
	var toks []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		case ' ':
			if depth == 0 {
				if i > start {
					toks = append(toks, s[start:i])
				}
				start = i + 1
			}
		}
	}
	if start < len(s) {
		toks = append(toks, s[start:])
	}
	return toks
}

// state is the register and stack state rebuilt from a log: whole states
// ("12: R1=... R10=fp0") replace it, the changes printed behind each
// instruction update it.
type state map[string]string

func (st state) apply(s string) {
	frame := ""
	for _, tok := range splitState(s) {
		if strings.HasPrefix(tok, "frame") && strings.HasSuffix(tok, ":") {
			frame = tok + " "
			continue
		}
		name, _, ok := strings.Cut(tok, "=")
		if !ok {
			continue
		}
		m := stateNameRE.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		st[frame+m[1]] = tok
	}
}

func (st state) String() string {
	keys := make([]string, 0, len(st))
	for k := range st {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		fa, na := splitKey(a)
		fb, nb := splitKey(b)
		if c := cmp.Compare(fa, fb); c != 0 {
			return c
		}
		// Registers (R0..R10) before stack slots (fp-8, fp-16, ...).
		ra, rb := strings.HasPrefix(na, "R"), strings.HasPrefix(nb, "R")
		if ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		ia, _ := strconv.Atoi(strings.TrimLeft(na, "Rfp-"))
		ib, _ := strconv.Atoi(strings.TrimLeft(nb, "Rfp-"))
		if c := cmp.Compare(ia, ib); c != 0 {
			return c
		}
		return strings.Compare(na, nb)
	})
	var b strings.Builder
	frame := ""
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		// Name each frame once: "R1=ctx() frame1: R1=pkt(r=0) R10=fp0".
		if f, _ := splitKey(k); f != frame {
			frame = f
			b.WriteString(f + " ")
		}
		b.WriteString(st[k])
	}
	return b.String()
}

func splitKey(k string) (frame, name string) {
	if f, n, ok := strings.Cut(k, " "); ok {
		return f, n
	}
	return "", k
}

// replayState rebuilds the state before the instruction that follows log.
func replayState(log []string) string {
	st := state{}
	for _, line := range log {
		if in, ok := parseInsn(line); ok {
			if strings.HasPrefix(in.text, "call ") && !strings.HasPrefix(in.text, "call pc") {
				// A helper call clobbers R1-R5; the kernel lists only
				// the registers it sets.
				for _, r := range []string{"R1", "R2", "R3", "R4", "R5"} {
					delete(st, r)
				}
			}
			st.apply(in.delta)
			if in.glued != "" {
				st = state{}
				st.apply(in.glued)
			}
			continue
		}
		if _, s, ok := parseStateLine(line); ok {
			st = state{}
			st.apply(s)
		}
	}
	return st.String()
}

// isNoise reports whether a log line is a statistic or blank: never the
// error.
func isNoise(line string) bool {
	s := strings.TrimSpace(line)
	if s == "" {
		return true
	}
	for _, p := range []string{
		"processed ", "verification time", "stack depth ", "Verification time",
		"mark_read ", "peak_states ", "max_states_per_insn ",
	} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// includePrevious reports whether a message line reads better with the line
// before it, as with BTF errors whose last line is a detail.
func includePrevious(line string) bool {
	return strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "invalid bpf_context access")
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func joinLimited(lines []string) string {
	if len(lines) > maxMessageLines {
		n := len(lines) - maxMessageLines + 1
		lines = append(lines[:maxMessageLines-1:maxMessageLines-1], "("+strconv.Itoa(n)+" more lines)")
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = limit(strings.TrimSpace(l), maxFieldLen)
	}
	return strings.Join(out, "\n")
}

// limit cuts s to at most n bytes, at a rune boundary, marking the cut.
func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("...")
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
