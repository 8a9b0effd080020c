package ecs

import (
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	sdkecs "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/eni-detach/eni-detach/internal/testenv/fakeclock"
)

func TestCallLog(t *testing.T) {
	clock := fakeclock.New()
	s := startServer(t, WithClock(clock.Now))
	mustAddInstance(t, s, Instance{ID: "i-log"})
	mustAddENI(t, s, ENI{ID: "eni-log", InstanceID: "i-log"})
	c := newClient(t, s.Addr(), stsCreds)

	resp, err := c.DetachNetworkInterface(detachReq("eni-log", "i-log"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	wrong := stsCreds
	wrong.SecurityToken = sts2.SecurityToken
	_, err = newClient(t, s.Addr(), wrong).DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
		r.MaxResults = requests.NewInteger(50)
	}))
	se := wantServerError(t, err, "InvalidSecurityToken.MismatchWithAccessKey", 403)

	calls := s.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	d, f := calls[0], calls[1]
	if d.Action != actDetach || d.Code != "" || d.HTTPStatus != 200 || d.RequestID != resp.RequestId ||
		d.AccessKeyID != stsCreds.AccessKeyID || d.SecurityToken != stsCreds.SecurityToken || d.Fault != "" {
		t.Fatalf("detach call %+v", d)
	}
	for k, want := range map[string]string{
		"NetworkInterfaceId": "eni-log", "InstanceId": "i-log", "RegionId": DefaultRegion,
		"Version": APIVersion, "Format": "JSON", "SignatureType": "",
	} {
		if got, ok := d.Params[k]; !ok || got != want {
			t.Fatalf("param %s = %q (present %v)", k, got, ok)
		}
	}
	if d.Params["Signature"] == "" || d.Params["SignatureNonce"] == "" {
		t.Fatal("signature params not logged")
	}
	if f.Action != actDescribe || f.Code != se.ErrorCode() || f.HTTPStatus != 403 || f.RequestID != se.RequestId() ||
		f.SecurityToken != sts2.SecurityToken || f.Params["MaxResults"] != "50" {
		t.Fatalf("failed call %+v", f)
	}
	if !f.Time.Equal(d.Time.Add(time.Second)) {
		t.Fatalf("times %v %v", d.Time, f.Time)
	}
	if d.RequestID == f.RequestID {
		t.Fatal("RequestIds repeat")
	}

	calls[0].Params["InstanceId"] = "mutated"
	if s.Calls()[0].Params["InstanceId"] != "i-log" {
		t.Fatal("Calls shares its maps")
	}
	if got := s.CallsFor(actDescribe); len(got) != 1 || got[0].RequestID != f.RequestID {
		t.Fatalf("CallsFor %+v", got)
	}
	s.ResetCalls()
	if len(s.Calls()) != 0 {
		t.Fatal("ResetCalls")
	}
}

// Many clients detaching and describing at once: the race detector checks
// the emulator, and every accepted detach is counted once.
func TestConcurrentClients(t *testing.T) {
	s := startServer(t, WithDetachDelay(time.Hour))
	mustAddInstance(t, s, Instance{ID: "i-conc"})
	const n = 8
	for i := range n {
		mustAddENI(t, s, ENI{ID: "eni-conc" + string(rune('a'+i)), InstanceID: "i-conc"})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		id := "eni-conc" + string(rune('a'+i))
		c := newClient(t, s.Addr(), stsCreds)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if err := detach(c, id, "i-conc"); err != nil {
					errs <- err
				}
				if _, err := c.DescribeNetworkInterfaces(describeReq(nil)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, e := range s.ENIs() {
		if e.Status != ENIDetaching || e.DetachCalls != 3 {
			t.Fatalf("%+v", e)
		}
	}
	if got := len(s.CallsFor(actDetach)); got != 3*n {
		t.Fatalf("%d detach calls logged", got)
	}
}
