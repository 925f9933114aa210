package cli

import "github.com/spf13/cobra"

func newEnvCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "env", Short: "(not yet implemented)", Hidden: true}
}
