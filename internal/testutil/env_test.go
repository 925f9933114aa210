package testutil

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/xdpkit/xdpkit/netenv"
)

func TestNewEnvTearsDown(t *testing.T) {
	RequireNetenv(t)
	var env *netenv.Env
	t.Run("user", func(t *testing.T) {
		env = NewEnv(t, netenv.Spec{Queues: 2})
		if !strings.HasPrefix(env.Name, "t") || len(env.Name) != netenv.MaxNameLen || !env.Temporary || env.Queues != 2 {
			t.Errorf("env %+v", env)
		}
		if _, err := netenv.Open(env.Name); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := netenv.Open(env.Name); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("env %s still there after its test ended: %v", env.Name, err)
	}
}
