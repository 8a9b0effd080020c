package eventpattern

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMatch feeds arbitrary patterns and events: Match must never panic, a
// pattern Compile rejects must make Match fail, and a compiled pattern must
// give the same answer on the same event every time.
func FuzzMatch(f *testing.F) {
	f.Add(`{"source":["acs.ecs"],"data":{"state":["Stopping","Stopped"]}}`, ecsEvent)
	f.Add(`{"type":[{"prefix":"ecs:Instance:SystemMaintenance."},{"prefix":"ecs:Instance:SystemFailure."}]}`, ecsEvent)
	f.Add(`{"type":[{"anything-but":{"prefix":"eni-detach:"}}],"count":[{"numeric":[">",0,"<=",5]}]}`, ecsEvent)
	f.Add(`{"sourceip":[{"cidr":"10.0.0.0/8"}],"missing":[{"exists":false}],"nothing":[null]}`, ecsEvent)
	f.Add(`{"tags":[{"anything-but":["blue",1]}]}`, `{"tags":["blue",[1],{"a":2}]}`)
	f.Fuzz(func(t *testing.T, pattern, event string) {
		got, err := Match([]byte(pattern), []byte(event))
		p, cerr := Compile([]byte(pattern))
		if cerr != nil {
			if err == nil {
				t.Fatalf("Compile rejected %q (%v) but Match accepted it", pattern, cerr)
			}
			return
		}
		again, err2 := p.Match([]byte(event))
		if (err == nil) != (err2 == nil) || got != again {
			t.Fatalf("Match not deterministic: (%v, %v) then (%v, %v)", got, err, again, err2)
		}
		_ = p.Paths()
	})
}

// FuzzStringOperators checks the string operators against the standard
// library on arbitrary strings, and that each anything-but is the exact
// complement of its positive form on a present string field.
func FuzzStringOperators(f *testing.F) {
	f.Add("ecs:Instance:", "ecs:Instance:StateChange")
	f.Add("", "")
	f.Add("eni-detach:NetworkInterface:", "eni-detach:NetworkInterface:Detached")
	f.Add("a\"b\\", "\x00\u00e9")
	f.Fuzz(func(t *testing.T, arg, value string) {
		if !utf8.ValidString(arg) || !utf8.ValidString(value) {
			t.Skip("JSON text is UTF-8: encoding/json would rewrite these bytes")
		}
		ev := mustJSON(t, map[string]any{"k": value})
		check := func(op string, opArg any, want bool) {
			t.Helper()
			pat := mustJSON(t, map[string]any{"k": []any{map[string]any{op: opArg}}})
			got, err := Match(pat, ev)
			if err != nil {
				t.Fatalf("%s: %v", pat, err)
			}
			if got != want {
				t.Fatalf("%s on %q = %v, want %v", pat, value, got, want)
			}
		}
		hasPrefix := strings.HasPrefix(value, arg)
		check("prefix", arg, hasPrefix)
		check("anything-but", map[string]any{"prefix": arg}, !hasPrefix)
		check("suffix", arg, strings.HasSuffix(value, arg))
		check("contains", arg, strings.Contains(value, arg))
		check("anything-but", arg, value != arg)

		exact := mustJSON(t, map[string]any{"k": []any{arg}})
		got, err := Match(exact, ev)
		if err != nil || got != (value == arg) {
			t.Fatalf("exact %q on %q = %v, %v", arg, value, got, err)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
