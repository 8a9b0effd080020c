package eventschema

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func ptr(b bool) *bool { return &b }

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   Request
		fields []string // the fields named by the error, in order; nil = valid
	}{
		{"eni only", `{"NetworkInterfaceId":"eni-bp1abc"}`, Request{NetworkInterfaceID: "eni-bp1abc"}, nil},
		{"case-insensitive names", `{"networkinterfaceid":"eni-bp1abc","INSTANCEID":"i-bp1x","regionId":"cn-hangzhou","dryrun":true,"WAIT":false}`,
			Request{NetworkInterfaceID: "eni-bp1abc", InstanceID: "i-bp1x", RegionID: "cn-hangzhou", DryRun: ptr(true), Wait: ptr(false)}, nil},
		{"instance only", `{"InstanceId":"i-bp1x"}`, Request{InstanceID: "i-bp1x"}, nil},
		{"trunk passed through", `{"NetworkInterfaceId":"eni-a1","TrunkNetworkInstanceId":"eni-t1"}`, Request{NetworkInterfaceID: "eni-a1", TrunkNetworkInstanceID: "eni-t1"}, nil},
		{"unknown fields ignored", `{"NetworkInterfaceId":"eni-a1","Comment":"failover drill"}`, Request{NetworkInterfaceID: "eni-a1"}, nil},
		{"null means absent", `{"NetworkInterfaceId":"eni-a1","InstanceId":null,"Wait":null}`, Request{NetworkInterfaceID: "eni-a1"}, nil},
		{"spaces trimmed", `{"NetworkInterfaceId":"  eni-a1 "}`, Request{NetworkInterfaceID: "eni-a1"}, nil},
		{"empty object", `{}`, Request{}, []string{"NetworkInterfaceId"}},
		{"empty strings", `{"NetworkInterfaceId":"","InstanceId":""}`, Request{}, []string{"NetworkInterfaceId"}},
		{"malformed eni", `{"NetworkInterfaceId":"eni-BP1"}`, Request{}, []string{"NetworkInterfaceId"}},
		{"malformed instance and eni", `{"NetworkInterfaceId":"vpc-1","InstanceId":"inst-1"}`, Request{}, []string{"NetworkInterfaceId", "InstanceId"}},
		{"bad region", `{"InstanceId":"i-a1","RegionId":"Hangzhou"}`, Request{}, []string{"RegionId"}},
		{"bad trunk", `{"NetworkInterfaceId":"eni-a1","TrunkNetworkInstanceId":"trunk"}`, Request{}, []string{"TrunkNetworkInstanceId"}},
		{"wrong types collected at once", `{"NetworkInterfaceId":5,"DryRun":"yes","Wait":1}`, Request{}, []string{"NetworkInterfaceId", "DryRun", "Wait"}},
		{"wrong type with a bad value", `{"NetworkInterfaceId":5,"InstanceId":"I-X"}`, Request{}, []string{"NetworkInterfaceId", "InstanceId"}},
		{"wrong type with bad values", `{"DryRun":"yes","InstanceId":"I-X","RegionId":"moon base"}`, Request{}, []string{"InstanceId", "RegionId", "DryRun"}},
		{"target of the wrong type is not also missing", `{"InstanceId":5}`, Request{}, []string{"InstanceId"}},
		{"wrong type, good target", `{"InstanceId":"i-a1","Wait":"no"}`, Request{}, []string{"Wait"}},
		{"twice, not checked again", `{"InstanceId":"I-A1","instanceid":"I-B2"}`, Request{}, []string{"InstanceId"}},
		{"duplicate spellings", `{"InstanceId":"i-a1","instanceid":"i-b2"}`, Request{}, []string{"InstanceId"}},
		{"account", `{"InstanceId":"i-a1","accountid":" 2234567890123456 "}`, Request{InstanceID: "i-a1", AccountID: "2234567890123456"}, nil},
		{"account of 15 digits", `{"InstanceId":"i-a1","AccountId":"223456789012345"}`, Request{}, []string{"AccountId"}},
		{"account with a letter", `{"InstanceId":"i-a1","AccountId":"223456789012345x"}`, Request{}, []string{"AccountId"}},
		{"account as a number", `{"InstanceId":"i-a1","AccountId":2234567890123456}`, Request{}, []string{"AccountId"}},
		{"not an object", `["eni-a1"]`, Request{}, []string{""}},
		{"not json", `{"NetworkInterfaceId":`, Request{}, []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRequest([]byte(tc.in))
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
				return
			}
			var v *ValidationError
			if !errors.As(err, &v) || !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("want a *ValidationError matching ErrInvalidRequest, got %v", err)
			}
			var names []string
			for _, f := range v.Fields {
				names = append(names, f.Field)
				if f.Problem == "" {
					t.Errorf("field %q has no problem text", f.Field)
				}
			}
			if !reflect.DeepEqual(names, tc.fields) {
				t.Fatalf("fields %q, want %q (err %v)", names, tc.fields, err)
			}
			for _, n := range names {
				if n != "" && !strings.Contains(err.Error(), n) {
					t.Errorf("message %q does not name %s", err.Error(), n)
				}
			}
		})
	}
}

func TestRequestFlags(t *testing.T) {
	if !(Request{}).WantsWait() {
		t.Error("Wait must default to true")
	}
	if (Request{}).WantsDryRun() {
		t.Error("DryRun must default to false")
	}
	if (Request{Wait: ptr(false)}).WantsWait() {
		t.Error("Wait false ignored")
	}
}
