// Command xdpkit is a toolkit for the Linux XDP fast path: test environments,
// programs and maps through the bpf() API, XDP attachment with bpf_link, and
// more. Run "xdpkit --help" for the commands.
package main

import (
	"context"
	"os"

	"github.com/xdpkit/xdpkit/internal/cli"
)

func main() {
	os.Exit(cli.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
