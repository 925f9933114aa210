package cli

import "github.com/spf13/cobra"

func newAttachCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "attach", Short: "(not yet implemented)", Hidden: true}
}

func newDetachCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "detach", Short: "(not yet implemented)", Hidden: true}
}
