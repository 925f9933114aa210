package cli

import "github.com/spf13/cobra"

func newProgCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "prog", Short: "(not yet implemented)", Hidden: true}
}
