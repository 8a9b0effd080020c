package detach_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/acssdk"
	"github.com/eni-detach/eni-detach/internal/crossaccount"
	"github.com/eni-detach/eni-detach/internal/detach"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

// stsStatus gives each injected STS code the status STS answers it with.
func stsStatus(code string) int {
	switch {
	case code == "InternalError" || code == "UnknownError":
		return 500
	case code == "ServiceUnavailable":
		return 503
	case code == "NoPermission" || strings.HasPrefix(code, "InvalidSecurityToken."):
		return 403
	case code == "EntityNotExist.Role" || code == "InvalidAccessKeyId.NotFound":
		return 404
	}
	return 400
}

// TestSTSCodes injects each code of STSCodeTable into the STS emulator and
// classifies what the cross-account client returns: retryable codes are
// retried, the others are PermissionDenied with STS's code and RequestId,
// and ECS is never called.
func TestSTSCodes(t *testing.T) {
	codes := []string{"Throttling.Unknown", "InvalidParameter.Unknown", "Other.Refusal"}
	for code := range detach.STSCodeTable {
		if !strings.HasPrefix(code, "Transport.") && !strings.HasPrefix(code, "Client.") {
			codes = append(codes, code)
		}
	}
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			e := testenv.StartECS(t)
			s := testenv.StartSTS(t, e)
			role := testenv.AddMemberRole(t, e.Srv.Identity(), testenv.MemberAccount, "")
			s.Srv.InjectError("AssumeRole", code, stsStatus(code), 1)
			api := crossaccount.NewCache(s.Client).Client(e.Factory, crossaccount.Request{
				Key: crossaccount.Key{RoleARN: role}, Caller: e.Creds, Region: testenv.Region})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := api.DescribeNetworkInterfaces(ctx, ecsapi.DescribeInput{RegionID: testenv.Region, IDs: []string{"eni-x"}})
			var ae *ecsapi.Error
			if !errors.As(err, &ae) || ae.Service != acssdk.ServiceSTS || ae.Code != code || ae.RequestID == "" {
				t.Fatalf("error %#v", err)
			}
			rule := detach.Classify(err)
			retry := strings.HasPrefix(code, "Throttling") || stsStatus(code) >= 500 || code == "SignatureNonceUsed"
			switch {
			case retry && (rule.Class != detach.ClassRetryable || !rule.Retryable || rule.Throttled):
				t.Fatalf("rule %+v, want retryable (not on ECS's minute windows)", rule)
			case !retry && (rule.Outcome != eventschema.OutcomePermissionDenied || rule.Retryable):
				t.Fatalf("rule %+v, want PermissionDenied", rule)
			}
			if len(e.Srv.Calls()) != 0 {
				t.Fatal("ECS was called although STS refused")
			}
			// The same code from ECS keeps ECS's meaning.
			if code == "InvalidParameter.RoleArn" {
				if r := detach.Classify(&ecsapi.Error{Kind: ecsapi.KindServer, Code: "InvalidParameter", HTTPStatus: 400}); r.Outcome != eventschema.OutcomeInvalidRequest {
					t.Fatalf("ECS InvalidParameter: %+v", r)
				}
			}
		})
	}
}

func TestSTSTransportErrorsAreRetryable(t *testing.T) {
	for _, code := range []string{ecsapi.CodeTimeout, ecsapi.CodeNetwork, ecsapi.CodeBadResponse} {
		r := detach.Classify(&ecsapi.Error{Service: acssdk.ServiceSTS, Kind: ecsapi.KindTransport, Code: code})
		if r.Class != detach.ClassRetryable {
			t.Errorf("%s: %+v", code, r)
		}
	}
}
