package ecsapi_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

func TestDescribeAndDetach(t *testing.T) {
	env := testenv.StartECS(t)
	if err := env.Srv.AddInstance(ecsemu.Instance{ID: "i-a1"}); err != nil {
		t.Fatal(err)
	}
	if err := env.Srv.AddENI(ecsemu.ENI{ID: "eni-a1", InstanceID: "i-a1", TrafficMode: ecsemu.TrafficStandard,
		Tags: map[string]string{"team": "sre"}, VpcID: "vpc-1", VSwitchID: "vsw-1", ZoneID: "cn-hangzhou-h"}); err != nil {
		t.Fatal(err)
	}
	api := env.API()
	ctx := context.Background()
	page, err := api.DescribeNetworkInterfaces(ctx, ecsapi.DescribeInput{RegionID: testenv.Region, IDs: []string{"eni-a1", "eni-nope"}, MaxResults: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := ecsapi.ENI{ID: "eni-a1", Status: "InUse", Type: "Secondary", InstanceID: "i-a1", Tags: map[string]string{"team": "sre"}}
	if len(page.ENIs) != 1 || page.RequestID == "" || !reflect.DeepEqual(page.ENIs[0], want) {
		t.Fatalf("page %+v", page)
	}
	id, err := api.DetachNetworkInterface(ctx, ecsapi.DetachInput{RegionID: testenv.Region, ENIID: "eni-a1", InstanceID: "i-a1"})
	if err != nil || id == "" {
		t.Fatalf("detach: %q %v", id, err)
	}
	calls := env.Srv.Calls()
	if len(calls) != 2 || calls[1].Params["NetworkInterfaceId"] != "eni-a1" || calls[1].Params["InstanceId"] != "i-a1" ||
		calls[0].Params["NetworkInterfaceId.2"] != "eni-nope" || calls[1].SecurityToken != env.Creds.SecurityToken {
		t.Fatalf("calls %+v", calls)
	}
	if _, ok := calls[1].Params["TrunkNetworkInstanceId"]; ok {
		t.Fatal("TrunkNetworkInstanceId must only be sent when given")
	}
}

func TestMemberENIReportsAttachment(t *testing.T) {
	env := testenv.StartECS(t)
	_ = env.Srv.AddInstance(ecsemu.Instance{ID: "i-a1"})
	_ = env.Srv.AddENI(ecsemu.ENI{ID: "eni-trunk1", Type: ecsemu.ENITrunk, InstanceID: "i-a1"})
	_ = env.Srv.AddENI(ecsemu.ENI{ID: "eni-member1", Type: ecsemu.ENIMember, InstanceID: "i-a1", TrunkID: "eni-trunk1"})
	page, err := env.API().DescribeNetworkInterfaces(context.Background(), ecsapi.DescribeInput{RegionID: testenv.Region, IDs: []string{"eni-member1"}})
	if err != nil {
		t.Fatal(err)
	}
	if e := page.ENIs[0]; e.InstanceID != "i-a1" || e.TrunkID != "eni-trunk1" || e.Type != "Member" {
		t.Fatalf("member %+v", e)
	}
}

func TestErrorsAreTypedAndCarryNoSecret(t *testing.T) {
	env := testenv.StartECS(t)
	bad := creds.Credentials{AccessKeyID: env.Creds.AccessKeyID, AccessKeySecret: "wrong-secret-value", SecurityToken: env.Creds.SecurityToken}
	_, err := env.Factory.Client(bad).DescribeNetworkInterfaces(context.Background(), ecsapi.DescribeInput{RegionID: testenv.Region, IDs: []string{"eni-a1"}})
	var e *ecsapi.Error
	if !errors.As(err, &e) || e.Kind != ecsapi.KindServer || e.Code != "SignatureDoesNotMatch" || e.HTTPStatus != 400 || e.RequestID == "" {
		t.Fatalf("error %#v", err)
	}
	for _, s := range append(bad.Secrets(), env.Creds.SecurityToken) {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks %q: %s", s, err)
		}
	}
}

func TestTransportErrorsHideTheSignedURL(t *testing.T) {
	// A port nobody listens on: the SDK's error quotes the signed URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := creds.Credentials{AccessKeyID: "STS.key", AccessKeySecret: "the-secret", SecurityToken: "the-token-value"}
	f := ecsapi.NewFactory(ecsapi.Options{Endpoint: &url.URL{Scheme: "http", Host: addr}})
	_, err = f.Client(c).DetachNetworkInterface(context.Background(), ecsapi.DetachInput{RegionID: testenv.Region, ENIID: "eni-a1", InstanceID: "i-a1"})
	var e *ecsapi.Error
	if !errors.As(err, &e) || e.Kind != ecsapi.KindTransport {
		t.Fatalf("error %#v", err)
	}
	for _, s := range []string{"the-secret", "the-token-value", "SecurityToken=", "Signature=", "AccessKeyId="} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks %q: %s", s, err)
		}
	}
}

func TestCallsEndAtTheContextDeadline(t *testing.T) {
	env := testenv.StartECS(t)
	env.Srv.InjectHang("DescribeNetworkInterfaces", -1)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	_, err := env.API().DescribeNetworkInterfaces(ctx, ecsapi.DescribeInput{RegionID: testenv.Region, IDs: []string{"eni-a1"}})
	var e *ecsapi.Error
	if !errors.As(err, &e) || e.Code != ecsapi.CodeTimeout {
		t.Fatalf("error %#v", err)
	}
	if time.Now().After(dl.Add(200 * time.Millisecond)) {
		t.Fatal("the call outlived its context deadline")
	}
}

func TestNoCredentials(t *testing.T) {
	env := testenv.StartECS(t)
	_, err := env.Factory.Client(creds.Credentials{}).DescribeNetworkInterfaces(context.Background(), ecsapi.DescribeInput{RegionID: testenv.Region})
	var e *ecsapi.Error
	if !errors.As(err, &e) || e.Code != ecsapi.CodeNoCredential || len(env.Srv.Calls()) != 0 {
		t.Fatalf("error %#v", err)
	}
}

// TestConnectionsAreReusedAcrossInvocations: clients for different
// credentials share one pool, so sequential calls reuse one connection.
func TestConnectionsAreReusedAcrossInvocations(t *testing.T) {
	env := testenv.StartECS(t)
	var dials atomic.Int32
	tr := ecsapi.NewTransport()
	base := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return base(ctx, network, addr)
	}
	f := ecsapi.NewFactory(ecsapi.Options{Endpoint: env.URL, Transport: tr})
	for i := 0; i < 10; i++ {
		c := testenv.NewCreds(env.Srv)
		if _, err := f.Client(c).DescribeNetworkInterfaces(context.Background(), ecsapi.DescribeInput{RegionID: testenv.Region, IDs: []string{"eni-a1"}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Fatalf("%d connections for 10 sequential calls", n)
	}
	var _ http.RoundTripper = tr
}

func TestEveryActionIsGranted(t *testing.T) {
	env := testenv.StartECS(t)
	_ = env.Srv.AddInstance(ecsemu.Instance{ID: "i-a1"})
	_ = env.Srv.AddENI(ecsemu.ENI{ID: "eni-a1", InstanceID: "i-a1"})
	api := env.API()
	_, _ = api.DescribeNetworkInterfaces(context.Background(), ecsapi.DescribeInput{RegionID: testenv.Region, IDs: []string{"eni-a1"}})
	_, _ = api.DetachNetworkInterface(context.Background(), ecsapi.DetachInput{RegionID: testenv.Region, ENIID: "eni-a1", InstanceID: "i-a1"})
	for _, c := range env.Srv.Calls() {
		found := false
		for _, a := range ecsapi.RAMActions {
			found = found || a == "ecs:"+c.Action
		}
		if !found {
			t.Fatalf("action %s is not in RAMActions", c.Action)
		}
	}
}
