package netenv

// SetSetupHook makes Setup call hook after each of its steps ("netns",
// "veth", "addresses", "up", "done") with the env's name; an error it
// returns fails the step. It returns a function that removes the hook.
func SetSetupHook(hook func(name, step string) error) (restore func()) {
	setupHook.Store(&hook)
	return func() { setupHook.Store(nil) }
}
