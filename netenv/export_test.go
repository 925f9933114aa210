package netenv

// SetSetupHook makes Setup call hook after each of its steps ("netns",
// "veth", "addresses", "up", "done") with the env's name; an error it
// returns fails the step. It returns a function that removes the hook.
func SetSetupHook(hook func(name, step string) error) (restore func()) {
	setupHook.Store(&hook)
	return func() { setupHook.Store(nil) }
}

// PickAddresses fills in spec's default addresses as Setup would, seen
// from the calling thread's namespace.
func PickAddresses(spec *Spec) error { return pickAddresses(spec) }
