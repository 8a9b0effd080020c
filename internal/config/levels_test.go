package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// LogLevels is the one list of LOG_LEVEL values: Load accepts exactly
// these (every zerolog level), and its problem for another value names
// them all.
func TestLogLevels(t *testing.T) {
	var names []string
	for l := zerolog.TraceLevel; l <= zerolog.PanicLevel; l++ {
		names = append(names, l.String())
	}
	names = append(names, zerolog.Disabled.String())
	if !slices.Equal(names, LogLevels) {
		t.Fatalf("zerolog's levels are %v, LogLevels %v", names, LogLevels)
	}
	for _, name := range LogLevels {
		for _, v := range []string{name, strings.ToUpper(name)} {
			c, err := Load(func(k string) string {
				if k == EnvLogLevel {
					return v
				}
				return ""
			})
			if err != nil || c.LogLevel.String() != name {
				t.Errorf("LOG_LEVEL=%s: level %v, error %v", v, c.LogLevel, err)
			}
		}
	}
	_, err := Load(func(k string) string {
		if k == EnvLogLevel {
			return "verbose"
		}
		return ""
	})
	if err == nil {
		t.Fatal("LOG_LEVEL=verbose accepted")
	}
	if want := strings.Join(LogLevels, ", "); !strings.Contains(err.Error(), want) {
		t.Fatalf("the problem %q does not list the levels as %q", err, want)
	}
}
