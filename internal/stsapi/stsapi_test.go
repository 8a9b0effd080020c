package stsapi_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/acssdk"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/stsapi"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

func input(role string) stsapi.AssumeRoleInput {
	return stsapi.AssumeRoleInput{Region: testenv.Region, RoleARN: role, SessionName: "eni-detach-test1",
		Duration: 900 * time.Second, ExternalID: "ext-1",
		Policy: `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ecs:DescribeNetworkInterfaces"],"Resource":["*"]}]}`}
}

func TestAssumeRole(t *testing.T) {
	e := testenv.StartECS(t)
	s := testenv.StartSTS(t, e)
	role := testenv.AddMemberRole(t, e.Srv.Identity(), testenv.MemberAccount, "ext-1")
	before := time.Now()
	a, err := s.Client.AssumeRole(context.Background(), e.Creds, input(role))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Credentials.AccessKeyID, "STS.") || a.Credentials.SecurityToken == "" || a.RequestID == "" ||
		a.AssumedRoleARN != role+"/eni-detach-test1" || a.Expiration.Before(before.Add(899*time.Second)) {
		t.Fatalf("assumed %+v", a)
	}
	calls := s.Srv.Calls()
	p := calls[0].Params
	if len(calls) != 1 || p["RoleArn"] != role || p["RoleSessionName"] != "eni-detach-test1" || p["DurationSeconds"] != "900" ||
		p["ExternalId"] != "ext-1" || p["Policy"] != input(role).Policy || calls[0].AccessKeyID != e.Creds.AccessKeyID ||
		calls[0].SecurityToken != e.Creds.SecurityToken || calls[0].Issued != a.Credentials.AccessKeyID {
		t.Fatalf("call %+v", calls)
	}
}

// TestErrorsCarrySTSCodeAndNoSecret: a refusal is an *acssdk.Error naming
// STS, with STS's code, status and RequestId, and none of the caller's
// secrets (the SignatureDoesNotMatch message quotes the string to sign,
// token included).
func TestErrorsCarrySTSCodeAndNoSecret(t *testing.T) {
	e := testenv.StartECS(t)
	s := testenv.StartSTS(t, e)
	role := testenv.AddMemberRole(t, e.Srv.Identity(), testenv.MemberAccount, "ext-1")
	wrong := e.Creds
	wrong.AccessKeySecret = "wrong+secret/value="
	for _, tc := range []struct {
		name   string
		caller creds.Credentials
		in     stsapi.AssumeRoleInput
		code   string
		status int
	}{
		{"no such role", e.Creds, input(strings.Replace(role, "eni-detach", "nobody", 1)), "EntityNotExist.Role", 404},
		{"wrong external id", e.Creds, func() stsapi.AssumeRoleInput { in := input(role); in.ExternalID = "ext-2"; return in }(), "NoPermission", 403},
		{"wrong secret", wrong, input(role), "SignatureDoesNotMatch", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Client.AssumeRole(context.Background(), tc.caller, tc.in)
			var ae *acssdk.Error
			if !errors.As(err, &ae) || ae.Service != acssdk.ServiceSTS || ae.Kind != acssdk.KindServer || ae.Code != tc.code ||
				ae.HTTPStatus != tc.status || ae.RequestID == "" {
				t.Fatalf("error %#v", err)
			}
			if !strings.HasPrefix(err.Error(), "STS "+tc.code+": ") {
				t.Fatalf("Error() %q", err)
			}
			for _, sec := range append(tc.caller.Secrets(), url.QueryEscape(tc.caller.SecurityToken)) {
				if strings.Contains(err.Error(), sec) {
					t.Fatalf("error leaks %q: %s", sec, err)
				}
			}
		})
	}
}

func TestCallEndsAtTheDeadline(t *testing.T) {
	e := testenv.StartECS(t)
	s := testenv.StartSTS(t, e)
	role := testenv.AddMemberRole(t, e.Srv.Identity(), testenv.MemberAccount, "")
	s.Srv.InjectHang("AssumeRole", -1)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	_, err := s.Client.AssumeRole(ctx, e.Creds, input(role))
	var ae *acssdk.Error
	if !errors.As(err, &ae) || ae.Code != acssdk.CodeTimeout || ae.Service != acssdk.ServiceSTS {
		t.Fatalf("error %#v", err)
	}
	if time.Now().After(dl.Add(200 * time.Millisecond)) {
		t.Fatal("the call outlived its context deadline")
	}
}

func TestNoRetryInsideTheSDK(t *testing.T) {
	e := testenv.StartECS(t)
	s := testenv.StartSTS(t, e)
	role := testenv.AddMemberRole(t, e.Srv.Identity(), testenv.MemberAccount, "")
	s.Srv.InjectError("AssumeRole", "ServiceUnavailable", 503, 1)
	_, err := s.Client.AssumeRole(context.Background(), e.Creds, input(role))
	var ae *acssdk.Error
	if !errors.As(err, &ae) || ae.Code != "ServiceUnavailable" || len(s.Srv.Calls()) != 1 {
		t.Fatalf("error %#v after %d calls", err, len(s.Srv.Calls()))
	}
}

func TestTransportErrorsHideTheSignedURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := creds.Credentials{AccessKeyID: "STS.key", AccessKeySecret: "the-secret", SecurityToken: "the-token-value"}
	cl := stsapi.New(stsapi.Options{Endpoint: &url.URL{Scheme: "http", Host: addr}})
	_, err = cl.AssumeRole(context.Background(), c, input("acs:ram::2234567890123456:role/eni-detach"))
	var ae *acssdk.Error
	if !errors.As(err, &ae) || ae.Kind != acssdk.KindTransport || ae.Service != acssdk.ServiceSTS {
		t.Fatalf("error %#v", err)
	}
	for _, s := range []string{"the-secret", "the-token-value", "SecurityToken=", "Signature=", "AccessKeyId="} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks %q: %s", s, err)
		}
	}
}

func TestNoCredentials(t *testing.T) {
	cl := stsapi.New(stsapi.Options{Endpoint: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}})
	_, err := cl.AssumeRole(context.Background(), creds.Credentials{}, input("acs:ram::2234567890123456:role/eni-detach"))
	var ae *acssdk.Error
	if !errors.As(err, &ae) || ae.Code != acssdk.CodeNoCredential {
		t.Fatalf("error %#v", err)
	}
}
