package eventpattern

import (
	"reflect"
	"strings"
	"testing"
)

// ecsEvent is a trimmed ECS StateChange CloudEvent, enough for the operators.
const ecsEvent = `{
  "specversion": "1.0",
  "id": "2f6c8f51-5b4e-4d0b-9d35-7a4c3c1f0e21",
  "source": "acs.ecs",
  "type": "ecs:Instance:StateChange",
  "subject": "acs:ecs:cn-hangzhou:1234567890123456:instance/i-bp1fixture0000000001",
  "aliyunregionid": "cn-hangzhou",
  "sourceip": "10.0.3.17",
  "count": 3,
  "flag": true,
  "nothing": null,
  "empty": "",
  "tags": ["blue", "green"],
  "data": {
    "resourceId": "i-bp1fixture0000000001",
    "resourceType": "ALIYUN::ECS::Instance",
    "state": "Stopping"
  }
}`

func TestMatch(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    bool
	}{
		{"empty pattern matches all", `{}`, true},
		{"exact value", `{"source":["acs.ecs"]}`, true},
		{"exact value differs", `{"source":["acs.oss"]}`, false},
		{"exact is case-sensitive", `{"source":["ACS.ECS"]}`, false},
		{"or within a key", `{"source":["acs.oss","acs.ecs"]}`, true},
		{"and across keys, both hold", `{"source":["acs.ecs"],"type":["ecs:Instance:StateChange"]}`, true},
		{"and across keys, one fails", `{"source":["acs.ecs"],"type":["ecs:Disk:DiskOperationCompleted"]}`, false},
		{"nested key", `{"data":{"state":["Stopping","Stopped"]}}`, true},
		{"nested key differs", `{"data":{"state":["Running"]}}`, false},
		{"nested key missing", `{"data":{"eventStatus":["Scheduled"]}}`, false},
		{"nested under a non-object", `{"source":{"x":["acs.ecs"]}}`, false},
		{"dotted key is a literal key, not a path", `{"data.state":["Stopping"]}`, false},
		{"prefix", `{"type":[{"prefix":"ecs:Instance:"}]}`, true},
		{"prefix differs", `{"type":[{"prefix":"ecs:Disk:"}]}`, false},
		{"prefix or exact", `{"type":[{"prefix":"ecs:Disk:"},"ecs:Instance:StateChange"]}`, true},
		{"suffix", `{"subject":[{"suffix":"/i-bp1fixture0000000001"}]}`, true},
		{"suffix differs", `{"subject":[{"suffix":"/eni-x"}]}`, false},
		{"contains", `{"type":[{"contains":"State"}]}`, true},
		{"contains differs", `{"type":[{"contains":"Failure"}]}`, false},
		{"anything-but value", `{"source":[{"anything-but":"acs.oss"}]}`, true},
		{"anything-but value equal", `{"source":[{"anything-but":"acs.ecs"}]}`, false},
		{"anything-but list", `{"data":{"state":[{"anything-but":["Running","Starting"]}]}}`, true},
		{"anything-but list contains it", `{"data":{"state":[{"anything-but":["Running","Stopping"]}]}}`, false},
		{"anything-but number", `{"count":[{"anything-but":4}]}`, true},
		{"anything-but number equal", `{"count":[{"anything-but":3}]}`, false},
		{"anything-but prefix", `{"type":[{"anything-but":{"prefix":"eni-detach:"}}]}`, true},
		{"anything-but prefix excluded", `{"type":[{"anything-but":{"prefix":"ecs:"}}]}`, false},
		{"anything-but does not match an absent field", `{"missing":[{"anything-but":"x"}]}`, false},
		{"anything-but does not match an object", `{"data":[{"anything-but":"x"}]}`, false},
		{"exists true", `{"aliyunregionid":[{"exists":true}]}`, true},
		{"exists true, absent", `{"missing":[{"exists":true}]}`, false},
		{"exists true on an object is false (leaves only)", `{"data":[{"exists":true}]}`, false},
		{"exists false, absent", `{"missing":[{"exists":false}]}`, true},
		{"exists false, present", `{"source":[{"exists":false}]}`, false},
		{"exists false under a missing object", `{"nope":{"x":[{"exists":false}]}}`, true},
		{"exists true on null", `{"nothing":[{"exists":true}]}`, true},
		{"null", `{"nothing":[null]}`, true},
		{"null does not match a string", `{"source":[null]}`, false},
		{"null does not match an absent field", `{"missing":[null]}`, false},
		{"empty string", `{"empty":[""]}`, true},
		{"empty string does not match null", `{"nothing":[""]}`, false},
		{"boolean", `{"flag":[true]}`, true},
		{"boolean differs", `{"flag":[false]}`, false},
		{"number exact", `{"count":[3]}`, true},
		{"number exact, other spelling", `{"count":[3.0]}`, true},
		{"number does not match its string", `{"count":["3"]}`, false},
		{"string does not match a number", `{"empty":[0]}`, false},
		{"numeric range", `{"count":[{"numeric":[">",0,"<=",5]}]}`, true},
		{"numeric range out", `{"count":[{"numeric":[">",3,"<=",5]}]}`, false},
		{"numeric equal", `{"count":[{"numeric":["=",3]}]}`, true},
		{"numeric >=", `{"count":[{"numeric":[">=",3]}]}`, true},
		{"numeric <", `{"count":[{"numeric":["<",3]}]}`, false},
		{"numeric on a string", `{"source":[{"numeric":[">",0]}]}`, false},
		{"cidr", `{"sourceip":[{"cidr":"10.0.0.0/16"}]}`, true},
		{"cidr out", `{"sourceip":[{"cidr":"10.1.0.0/16"}]}`, false},
		{"cidr on a non-address", `{"source":[{"cidr":"10.0.0.0/8"}]}`, false},
		{"array field, any element", `{"tags":["green"]}`, true},
		{"array field, no element", `{"tags":["red"]}`, false},
		{"array field, prefix", `{"tags":[{"prefix":"bl"}]}`, true},
		{"array field, anything-but one element", `{"tags":[{"anything-but":"blue"}]}`, true},
		{"array field, anything-but all elements", `{"tags":[{"anything-but":["blue","green"]}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Match([]byte(tt.pattern), []byte(ecsEvent))
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tt.want {
				t.Errorf("Match(%s) = %v, want %v", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestCompileRejects(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		wantErr string
	}{
		{"not JSON", `{"source":`, "pattern:"},
		{"trailing data", `{} {}`, "trailing data"},
		{"not an object", `["acs.ecs"]`, "must be a JSON object"},
		{"scalar value", `{"source":"acs.ecs"}`, "source: must be an array"},
		{"empty array", `{"source":[]}`, "source: an empty array"},
		{"nested array", `{"source":[["acs.ecs"]]}`, "source[0]: nested arrays"},
		{"$or", `{"$or":[{"source":["acs.ecs"]}]}`, `"$or" is not supported`},
		{"unknown operator", `{"source":[{"wildcard":"acs.*"}]}`, `source[0]: unsupported operator "wildcard"`},
		{"equals-ignore-case", `{"source":[{"equals-ignore-case":"ACS.ECS"}]}`, `unsupported operator "equals-ignore-case"`},
		{"two keys in one operator", `{"source":[{"prefix":"a","suffix":"b"}]}`, "exactly one key"},
		{"prefix not a string", `{"source":[{"prefix":1}]}`, "source[0].prefix: must be a string"},
		{"anything-but suffix", `{"source":[{"anything-but":{"suffix":"x"}}]}`, `only {"prefix": …}`},
		{"anything-but empty list", `{"source":[{"anything-but":[]}]}`, "empty list"},
		{"anything-but list of objects", `{"source":[{"anything-but":[{}]}]}`, "must be a string or a number"},
		{"anything-but boolean", `{"source":[{"anything-but":true}]}`, "must be a string, a number"},
		{"exists not boolean", `{"source":[{"exists":"yes"}]}`, "must be true or false"},
		{"numeric odd length", `{"n":[{"numeric":[">"]}]}`, "must be [op, number]"},
		{"numeric bad op", `{"n":[{"numeric":["!=",1]}]}`, "operator must be one of"},
		{"numeric value not a number", `{"n":[{"numeric":[">","1"]}]}`, "must be a number"},
		{"numeric too long", `{"n":[{"numeric":[">",1,"<",5,"=",3]}]}`, "must be [op, number]"},
		{"cidr ipv6", `{"ip":[{"cidr":"fd00::/8"}]}`, "IPv4 CIDR"},
		{"cidr garbage", `{"ip":[{"cidr":"10.0.0.0"}]}`, "IPv4 CIDR"},
		{"deep error names its path", `{"data":{"state":[{"wildcard":"S*"}]}}`, "data.state[0]: unsupported operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile([]byte(tt.pattern))
			if err == nil {
				t.Fatalf("Compile(%s) succeeded, want an error containing %q", tt.pattern, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Compile(%s) error = %q, want it to contain %q", tt.pattern, err, tt.wantErr)
			}
		})
	}
}

func TestMatchRejectsBadEvents(t *testing.T) {
	for _, ev := range []string{``, `[]`, `"x"`, `{"a":1} x`, `{"a":`} {
		t.Run(ev, func(t *testing.T) {
			if _, err := Match([]byte(`{}`), []byte(ev)); err == nil {
				t.Errorf("Match on event %q succeeded, want an error", ev)
			}
		})
	}
}

func TestPaths(t *testing.T) {
	p, err := Compile([]byte(`{"type":["a"],"source":["b"],"data":{"state":["c"],"x":{"y":[{"exists":true}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"data.state", "data.x.y", "source", "type"}
	if got := p.Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("Paths() = %v, want %v", got, want)
	}
}

func TestOperators(t *testing.T) {
	want := []string{"anything-but", "cidr", "contains", "exists", "numeric", "prefix", "suffix"}
	if got := Operators(); !reflect.DeepEqual(got, want) {
		t.Errorf("Operators() = %v, want %v", got, want)
	}
}

// A compiled Pattern is shared by concurrent tests; it must not be mutated.
func TestPatternConcurrentUse(t *testing.T) {
	p, err := Compile([]byte(`{"data":{"state":["Stopping"]},"type":[{"prefix":"ecs:"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	for range 8 {
		go func() {
			ok, err := p.Match([]byte(ecsEvent))
			done <- ok && err == nil
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("concurrent Match did not match")
		}
	}
}
