package cli

import "github.com/spf13/cobra"

func newMapCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "map", Short: "(not yet implemented)", Hidden: true}
}
