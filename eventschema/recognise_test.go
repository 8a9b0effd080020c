package eventschema

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRecognise(t *testing.T) {
	rc := Recogniser{OwnSource: "acs:fc:cn-hangzhou:123:functions/eni-detach"}
	type want struct {
		batch   bool
		http    bool
		kinds   []TriggerKind
		eni     []string
		inst    []string
		ignored []bool
		invalid []bool
	}
	tests := []struct {
		name    string
		payload string
		want    want
		topErr  string // substring of the whole-payload error; "" = none
	}{
		{name: "direct request", payload: `{"NetworkInterfaceId":"eni-a1"}`,
			want: want{kinds: []TriggerKind{TriggerDirect}, eni: []string{"eni-a1"}, inst: []string{""}, ignored: []bool{false}, invalid: []bool{false}}},
		{name: "custom cloudevent", payload: `{"specversion":"1.0","id":"e1","source":"custom.ops","type":"custom:Detach","aliyunregionid":"cn-shanghai","data":{"InstanceId":"i-a1"}}`,
			want: want{kinds: []TriggerKind{TriggerEventBridge}, eni: []string{""}, inst: []string{"i-a1"}, ignored: []bool{false}, invalid: []bool{false}}},
		{name: "custom cloudevent with string data", payload: `{"specversion":"1.0","id":"e1","source":"custom.ops","type":"custom:Detach","data":"{\"NetworkInterfaceId\":\"eni-a1\"}"}`,
			want: want{kinds: []TriggerKind{TriggerEventBridge}, eni: []string{"eni-a1"}, inst: []string{""}, ignored: []bool{false}, invalid: []bool{false}}},
		{name: "own follow-up type ignored", payload: `{"specversion":"1.0","id":"e1","source":"elsewhere","type":"eni-detach:NetworkInterface:Detached","data":{"NetworkInterfaceId":"eni-a1"}}`,
			want: want{kinds: []TriggerKind{TriggerEventBridge}, eni: []string{""}, inst: []string{""}, ignored: []bool{true}, invalid: []bool{false}}},
		{name: "own source ignored", payload: `{"specversion":"1.0","id":"e1","source":"acs:fc:cn-hangzhou:123:functions/eni-detach","type":"anything","data":{"NetworkInterfaceId":"eni-a1"}}`,
			want: want{kinds: []TriggerKind{TriggerEventBridge}, eni: []string{""}, inst: []string{""}, ignored: []bool{true}, invalid: []bool{false}}},
		{name: "ecs stopping acted on", payload: `{"specversion":"1.0","id":"e1","source":"acs.ecs","type":"ecs:Instance:StateChange","data":{"resourceId":"i-a1","state":"Stopping"}}`,
			want: want{kinds: []TriggerKind{TriggerEventBridge}, eni: []string{""}, inst: []string{"i-a1"}, ignored: []bool{false}, invalid: []bool{false}}},
		{name: "ecs running ignored", payload: `{"specversion":"1.0","id":"e1","source":"acs.ecs","type":"ecs:Instance:StateChange","data":{"resourceId":"i-a1","state":"Running"}}`,
			want: want{kinds: []TriggerKind{TriggerEventBridge}, eni: []string{""}, inst: []string{""}, ignored: []bool{true}, invalid: []bool{false}}},
		{name: "http event", payload: `{"version":"v1","rawPath":"/","body":"{}","isBase64Encoded":false,"requestContext":{"http":{"method":"POST"}}}`,
			want: want{http: true}},
		// README order: a CloudEvent is recognised before the HTTP
		// envelope, whatever other members it carries.
		{name: "cloudevent carrying http members", payload: `{"specversion":"1.0","id":"e1","source":"custom.ops","type":"custom:Detach","version":"v1","rawPath":"/","requestContext":{"http":{"method":"POST"}},"data":{"InstanceId":"i-a1"}}`,
			want: want{kinds: []TriggerKind{TriggerEventBridge}, eni: []string{""}, inst: []string{"i-a1"}, ignored: []bool{false}, invalid: []bool{false}}},
		{name: "http event whose specversion is not a string", payload: `{"specversion":1,"version":"v1","rawPath":"/","body":"{}","requestContext":{"http":{"method":"POST"}}}`,
			want: want{http: true}},
		{name: "batch of object, string and bad element", payload: `[{"NetworkInterfaceId":"eni-a1"}, "{\"InstanceId\":\"i-b2\"}", {"NetworkInterfaceId":"bad"}, 7]`,
			want: want{batch: true, kinds: []TriggerKind{TriggerDirect, TriggerDirect, TriggerDirect, TriggerDirect}, eni: []string{"eni-a1", "", "", ""},
				inst: []string{"", "i-b2", "", ""}, ignored: []bool{false, false, false, false}, invalid: []bool{false, false, true, true}}},
		{name: "null", payload: `null`, topErr: "must be a JSON object"},
		{name: "empty", payload: `  `, topErr: "empty"},
		{name: "not json", payload: `{"a":`, topErr: "not JSON: it ends after 5 bytes"},
		{name: "not json at all", payload: `not json`, topErr: `the payload is not JSON: unexpected 'o' at byte offset 1, near not json`},
		{name: "offset counts leading spaces", payload: "  {\"a\" 1}", topErr: `unexpected '1' at byte offset 7, near   {"a" 1}`},
		{name: "control character", payload: "{\"a\":\"b\x01\"}", topErr: `unexpected control character 0x01 at byte offset 7, near {"a":"b\u0001"}`},
		{name: "invalid UTF-8", payload: "{\"a\":\xff}", topErr: "unexpected non-ASCII byte 0xff at byte offset 5, near {\"a\":\ufffd}"},
		{name: "after the value", payload: `{"InstanceId":"i-a1"} x`, topErr: `unexpected 'x' at byte offset 22, near …InstanceId":"i-a1"} x`},
		{name: "long payload cut", payload: `{"InstanceId":"i-a1", "Comment": "0123456789012345678901234567890123456789" oops, "x": 1}`,
			topErr: `unexpected 'o' at byte offset 76, near …234567890123456789" oops, "x": 1}`},
		{name: "empty object", payload: `{}`, topErr: "NetworkInterfaceId or InstanceId is required"},
		{name: "empty batch", payload: `[]`, topErr: "batch is empty"},
		{name: "cloudevent without id", payload: `{"specversion":"1.0","source":"x","type":"y","data":{}}`, topErr: "id"},
		{name: "custom event without request", payload: `{"specversion":"1.0","id":"1","source":"x","type":"y","data":{}}`, topErr: "data.NetworkInterfaceId"},
		{name: "ecs event without instance", payload: `{"specversion":"1.0","id":"1","source":"acs.ecs","type":"ecs:Instance:PreemptibleInstanceInterruption","data":{"action":"delete"}}`, topErr: "data.instanceId"},
		{name: "oversized", payload: `{"NetworkInterfaceId":"eni-a1","pad":"` + strings.Repeat("x", MaxPayloadBytes) + `"}`, topErr: "1 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rc.Recognise([]byte(tc.payload))
			if tc.topErr != "" {
				if err == nil || !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), tc.topErr) {
					t.Fatalf("want InvalidRequest mentioning %q, got %v", tc.topErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if got.Batch != tc.want.batch || (got.HTTP != nil) != tc.want.http {
				t.Fatalf("batch=%v http=%v, want %v %v", got.Batch, got.HTTP != nil, tc.want.batch, tc.want.http)
			}
			if len(got.Items) != len(tc.want.kinds) {
				t.Fatalf("%d items, want %d", len(got.Items), len(tc.want.kinds))
			}
			for i, it := range got.Items {
				if it.Trigger.Kind != tc.want.kinds[i] || it.Request.NetworkInterfaceID != tc.want.eni[i] ||
					it.Request.InstanceID != tc.want.inst[i] || (it.Ignored != "") != tc.want.ignored[i] || (it.Err != nil) != tc.want.invalid[i] {
					t.Errorf("item %d = %+v", i, it)
				}
				if it.Err != nil && !strings.HasPrefix(it.Err.Fields[0].Field, "[") {
					t.Errorf("batch element error not located: %+v", it.Err.Fields)
				}
			}
		})
	}
}

func TestRecogniseBatchLimit(t *testing.T) {
	rc := Recogniser{MaxBatch: 2}
	_, err := rc.Recognise([]byte(`[{"InstanceId":"i-a"},{"InstanceId":"i-b"},{"InstanceId":"i-c"}]`))
	if err == nil || !strings.Contains(err.Error(), "limit is 2") {
		t.Fatalf("want batch limit error, got %v", err)
	}
}

func FuzzRecognise(f *testing.F) {
	for _, s := range []string{`{"NetworkInterfaceId":"eni-a1"}`, `[{"InstanceId":"i-a"},"{}"]`, `null`,
		`{"specversion":"1.0","id":"1","source":"acs.ecs","type":"ecs:Instance:StateChange","data":{"resourceId":"i-a","state":"Stopped"}}`,
		`{"version":"v1","rawPath":"/","requestContext":{}}`} {
		f.Add([]byte(s))
	}
	rc := Recogniser{OwnSource: "me"}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := rc.Recognise(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("error is not InvalidRequest: %v", err)
			}
			return
		}
		if got.HTTP == nil && len(got.Items) == 0 {
			t.Fatal("no error and nothing recognised")
		}
		for _, it := range got.Items {
			if it.Actionable() && it.Request.Validate() != nil {
				t.Fatalf("actionable item with invalid request %+v", it.Request)
			}
		}
	})
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{`{"NetworkInterfaceId":"eni-a1"}`, `{"instanceid":"i-1","wait":false}`, `{}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err == nil && r.Validate() != nil {
			t.Fatal("ParseRequest accepted an invalid request")
		}
		if err == nil && r.NetworkInterfaceID == "" && r.InstanceID == "" {
			t.Fatal("accepted a request without a target")
		}
		// Every problem at once, but one per field: a field of the wrong
		// type is not also reported missing or malformed.
		var v *ValidationError
		if errors.As(err, &v) {
			seen := map[string]bool{}
			for _, fe := range v.Fields {
				if seen[fe.Field] || fe.Problem == "" {
					t.Fatalf("field %q reported twice or without a problem: %v", fe.Field, err)
				}
				seen[fe.Field] = true
			}
		}
	})
}

// TestOwnerAccount: the account a CloudEvent is about is the sending
// account after a cross-account routing (aliyunoriginalaccountid), else
// aliyunaccountid; a custom request's AccountId is carried to the handler,
// which holds it to the event's account.
func TestOwnerAccount(t *testing.T) {
	const ecsEvent = `{"specversion":"1.0","id":"e1","source":"acs.ecs","type":"ecs:Instance:PreemptibleInstanceInterruption",` +
		`"aliyunregionid":"cn-hangzhou"%s,"data":{"instanceId":"i-a1","action":"delete"}}`
	for _, tc := range []struct {
		name, extensions, want string
	}{
		{"routed from a member", `,"aliyunaccountid":"1234567890123456","aliyunoriginalaccountid":"2234567890123456"`, "2234567890123456"},
		{"own bus", `,"aliyunaccountid":"1234567890123456"`, "1234567890123456"},
		{"original only", `,"aliyunoriginalaccountid":"2234567890123456"`, "2234567890123456"},
		{"none", ``, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := Recogniser{}.Recognise([]byte(fmt.Sprintf(ecsEvent, tc.extensions)))
			if err != nil || len(rec.Items) != 1 || !rec.Items[0].Actionable() {
				t.Fatalf("%+v %v", rec, err)
			}
			if got := rec.Items[0].AccountID; got != tc.want {
				t.Fatalf("account %q, want %q", got, tc.want)
			}
		})
	}
	custom := `{"specversion":"1.0","id":"c1","source":"custom.eni-detach","type":"custom.detach","aliyunaccountid":"1234567890123456",` +
		`"aliyunoriginalaccountid":"2234567890123456","data":{"InstanceId":"i-a1","AccountId":"3234567890123456"}}`
	rec, err := Recogniser{}.Recognise([]byte(custom))
	if err != nil || len(rec.Items) != 1 {
		t.Fatalf("%+v %v", rec, err)
	}
	if it := rec.Items[0]; it.AccountID != "2234567890123456" || it.Request.AccountID != "3234567890123456" {
		t.Fatalf("item %+v", it)
	}
}
