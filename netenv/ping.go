package netenv

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/xdpkit/xdpkit/internal/errs"
)

// ErrPacketLoss is matched (errors.Is) by Ping's error when fewer replies
// than requests came back.
var ErrPacketLoss = errors.New("packet loss")

// PingOptions tunes Env.Ping. The zero value pings 3 times over IPv4 from
// the inner end to the outer one.
type PingOptions struct {
	From  Side // the end that sends the echo requests; the other answers
	IPv6  bool // ping the IPv6 address instead of the IPv4 one
	Count int  // echo requests to send; 0 means 3
	// Interval between requests; 0 means 200ms.
	Interval time.Duration
	// Timeout bounds the whole run; 0 means Count*Interval plus 2s.
	Timeout time.Duration
}

// PingResult is what Env.Ping saw.
type PingResult struct {
	From     Side
	Target   netip.Addr // the other end's address
	Sent     int        // echo requests sent
	Received int        // echo replies received
}

// Ping runs the system ping (iputils) in the From end's namespace against
// the other end's address and returns how many requests got a reply. It
// fails with an error matching ErrPacketLoss when some did not, and with
// one matching os.ErrNotExist when the env has no address of that family.
func (e *Env) Ping(ctx context.Context, opts PingOptions) (PingResult, error) {
	if opts.Count == 0 {
		opts.Count = 3
	}
	if opts.Interval == 0 {
		opts.Interval = 200 * time.Millisecond
	}
	if opts.Count < 0 || opts.Interval < 0 || opts.Timeout < 0 {
		return PingResult{}, invalidf("ping count, interval and timeout must not be negative")
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Duration(opts.Count)*opts.Interval + 2*time.Second
	}
	from, to := e.Inner, e.Outer
	if opts.From == Outer {
		from, to = e.Outer, e.Inner
	}
	target, family, flag := to.IPv4, "IPv4", "-4"
	if opts.IPv6 {
		target, family, flag = to.IPv6, "IPv6", "-6"
	}
	res := PingResult{From: opts.From, Target: target.Addr()}
	if !target.IsValid() {
		return res, errs.Markf(os.ErrNotExist, "ping in env %q: the %s end has no %s address", e.Name, opts.From.Other(), family)
	}

	ctx, cancel := context.WithTimeout(ctx, opts.Timeout+time.Second)
	defer cancel()
	deadline := int((opts.Timeout + time.Second - 1) / time.Second)
	out, err := from.Exec(ctx, "ping", flag, "-n", "-q",
		"-c", strconv.Itoa(opts.Count),
		"-i", strconv.FormatFloat(opts.Interval.Seconds(), 'f', 3, 64),
		"-w", strconv.Itoa(deadline),
		target.Addr().String())
	sent, received, ok := ParsePingStats(out)
	if !ok {
		if err == nil {
			err = errors.New("no statistics in its output")
		}
		return res, fmt.Errorf("ping %s from the %s end of env %q: %w", res.Target, opts.From, e.Name, err)
	}
	res.Sent, res.Received = sent, received
	if received < sent || sent == 0 {
		return res, fmt.Errorf("ping %s from the %s end of env %q: %d of %d replies: %w",
			res.Target, opts.From, e.Name, received, sent, ErrPacketLoss)
	}
	return res, nil
}

// Other returns the opposite side.
func (s Side) Other() Side {
	if s == Outer {
		return Inner
	}
	return Outer
}

var pingStatsRE = regexp.MustCompile(`(?m)^(\d+) packets transmitted, (\d+) (?:packets )?received`)

// ParsePingStats finds the summary line of ping's output ("3 packets
// transmitted, 3 received, ...", from iputils or busybox) and returns the
// counts; ok is false when there is none or a count does not fit an int.
func ParsePingStats(out []byte) (sent, received int, ok bool) {
	m := pingStatsRE.FindSubmatch(out)
	if m == nil {
		return 0, 0, false
	}
	sent, err1 := strconv.Atoi(string(m[1]))
	received, err2 := strconv.Atoi(string(m[2]))
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return sent, received, true
}
