package cli

import "github.com/spf13/cobra"

func newStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "status", Short: "(not yet implemented)", Hidden: true}
}
