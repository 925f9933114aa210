package verifier

import (
	"regexp"
	"strconv"
	"strings"
)

// hint turns a verifier message that matches re into advice. The first rule
// whose re matches wins, so specific rules come before general ones.
type hint struct {
	re     *regexp.Regexp
	advice func(m []string) string
}

func fixed(s string) func([]string) string { return func([]string) string { return s } }

var hints = []hint{
	{
		regexp.MustCompile(`invalid access to packet, off=(-?\d+) size=(\d+)`),
		func(m []string) string {
			off, err1 := strconv.Atoi(m[1])
			size, err2 := strconv.Atoi(m[2])
			end := "data + N"
			if err1 == nil && err2 == nil && off >= 0 {
				end = "data + " + strconv.Itoa(off+size)
			}
			return "the program touches packet memory without first proving it is there: check " +
				end + " <= data_end (and return early otherwise) before this access"
		},
	},
	{
		regexp.MustCompile(`invalid access to packet`),
		fixed("the program touches packet memory without first proving it is there: compare the pointer plus the access size against data_end before this access"),
	},
	{
		regexp.MustCompile(`R\d+ invalid mem access '\w*(?:or_null|_null)\w*'`),
		fixed("the pointer may be NULL: check the result of bpf_map_lookup_elem (or of the helper that returned it) for NULL before using it"),
	},
	{
		regexp.MustCompile(`R\d+ invalid mem access '(?:scalar|inv)'`),
		fixed("the register holds a plain number, not a pointer the verifier knows: use the pointer a map lookup returned (after its NULL check), the context or the stack, and do not turn it into an integer on the way"),
	},
	{
		regexp.MustCompile(`R0 !read_ok`),
		fixed("the program exits without setting a return value: every path must return a value (for XDP an XDP_* action)"),
	},
	{
		regexp.MustCompile(`R(\d+) !read_ok`),
		func(m []string) string {
			return "R" + m[1] + " is read before anything was written to it; helper calls clobber R1-R5, so values needed after a call must be kept in R6-R9 or on the stack"
		},
	},
	{
		regexp.MustCompile(`infinite loop detected`),
		fixed("the verifier found the loop back in the same state: the loop can run forever; give it a bound the verifier can see (a counter compared with a constant) or use bpf_loop()"),
	},
	{
		regexp.MustCompile(`back-edge from insn`),
		fixed("the program jumps backwards (a loop), which this kernel or loader does not allow: unroll the loop (#pragma unroll) or use bpf_loop()"),
	},
	{
		regexp.MustCompile(`unreachable insn (\d+)`),
		func(m []string) string {
			return "instruction " + m[1] + " can never run: dead code the kernel refuses; remove it (often hand-written assembly, or a jump over code that is never the target)"
		},
	},
	{
		regexp.MustCompile(`BPF program is too large|The sequence of \d+ jumps is too complex|complexity limit|too many states`),
		fixed("the verifier gave up: the paths through the program are too many or too long for its 1 million instruction budget; bound loops tighter, remove branches, use bpf_loop() or split the program with tail calls"),
	},
	{
		regexp.MustCompile(`invalid (?:indirect )?read from stack|uninitialized|uninit(?:ialised)? stack`),
		fixed("a stack buffer is read (often by a helper) before all its bytes were written: initialise it first, e.g. = {} or __builtin_memset (struct padding counts too)"),
	},
	{
		regexp.MustCompile(`(?:unknown func|invalid func unknown#)\s*(\S*)`),
		func(m []string) string {
			return "helper " + strings.TrimSuffix(m[1], ":") + " does not exist in this kernel or is not allowed for this program type: use a helper this program type may call"
		},
	},
	{
		regexp.MustCompile(`program of this type cannot use helper (\S+)|helper call is not allowed in probe`),
		func(m []string) string {
			h := "this helper"
			if m[1] != "" {
				h = m[1]
			}
			return h + " is not allowed for this program type; XDP programs cannot call skb helpers: use the XDP variant (bpf_xdp_load_bytes, ...) or direct packet access"
		},
	},
	{
		regexp.MustCompile(`cannot call GPL-restricted function|GPL-incompatible|non-GPL compatible`),
		fixed(`the helper is GPL-only but the program's license is not GPL-compatible: declare char _license[] SEC("license") = "GPL" (or "Dual BSD/GPL")`),
	},
	{
		regexp.MustCompile(`cannot pass map_type (\d+) into func (\S+)`),
		func(m []string) string {
			return m[2] + " does not accept this kind of map (map type " + m[1] + "): use a map of a type the helper works on"
		},
	},
	{
		regexp.MustCompile(`misaligned`),
		fixed("the access is not aligned to its size: align the offset, or copy the bytes with __builtin_memcpy into a local variable first"),
	},
	{
		regexp.MustCompile(`invalid (?:stack off|write to stack|read from stack off)|stack size|combined stack size`),
		fixed("the access falls outside the stack frame, which is at most 512 bytes: shrink local buffers or move them into a per-CPU array map"),
	},
	{
		regexp.MustCompile(`math between pkt pointer and register with unbounded min value`),
		fixed("an offset added to a packet pointer may be negative: use an unsigned type and clamp it (if (off > MAX) return ...) before adding it"),
	},
	{
		regexp.MustCompile(`math between \w+ pointer and register with unbounded min value|unbounded memory access|min value is negative|min value is outside of the allowed memory range`),
		fixed("an index or size used with a pointer has no lower bound the verifier can prove: use an unsigned type and check it against the buffer size before the access"),
	},
	{
		regexp.MustCompile(`invalid access to map value|max value is outside of the allowed memory range|value is outside of the allowed memory range`),
		fixed("the access may go past the end of the map value: check the index or offset against the value's size before the access"),
	},
	{
		regexp.MustCompile(`Unreleased reference`),
		fixed("a reference acquired on this path (bpf_sk_lookup_*, bpf_ringbuf_reserve, a kfunc) is never released: release it (bpf_sk_release, bpf_ringbuf_submit/discard, ...) on every path before returning"),
	},
	{
		regexp.MustCompile(`invalid bpf_context access`),
		fixed("the program reads or writes a context field this program type does not allow, or with the wrong size: for XDP, read struct xdp_md's fields with 32-bit loads and do not write them"),
	},
	{
		regexp.MustCompile(`dereference of modified ctx ptr|modified ctx ptr`),
		fixed("the context pointer was moved before the access: read fields through the original ctx pointer with a constant offset"),
	},
	{
		regexp.MustCompile(`R\d+ type=(\S+) expected=`),
		fixed("a helper argument has the wrong kind of pointer or value: pass what the helper's signature asks for (for example a pointer to the stack, not to the packet)"),
	},
	{
		regexp.MustCompile(`pointer arithmetic on \S+ prohibited|pointer comparison prohibited|pointer .* prohibited`),
		fixed("this kind of pointer may not be changed or compared this way: do arithmetic on packet, map value or stack pointers only"),
	},
	{
		regexp.MustCompile(`At program exit the register R0 has`),
		fixed("the return value is out of range for this program type: return one of its allowed values (for XDP an XDP_* action)"),
	},
}

// hintFor returns the advice for the first rule that matches msg, or "".
func hintFor(msg string) string {
	for _, h := range hints {
		if m := h.re.FindStringSubmatch(msg); m != nil {
			return h.advice(m)
		}
	}
	return ""
}
