package ecs

import (
	"errors"
	"net/http"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/eni-detach/eni-detach/internal/testenv/fakeclock"
)

func faultFixture(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := startServer(t, opts...)
	mustAddInstance(t, s, Instance{ID: "i-f"})
	mustAddENI(t, s, ENI{ID: "eni-f", InstanceID: "i-f"})
	return s
}

const (
	actDescribe = "DescribeNetworkInterfaces"
	actDetach   = "DetachNetworkInterface"
)

func TestInjectedErrorsInOrder(t *testing.T) {
	s := faultFixture(t)
	c := newClient(t, s.Addr(), stsCreds)
	s.InjectError(actDetach, "InternalError", 500, 1)
	s.Throttle(actDetach, 1)
	s.InjectError(actDetach, "ServiceUnavailable", 503, 1)
	s.InjectError(actDescribe, "Forbidden.RAM", 403, 0) // times 0: no fault

	se := wantServerError(t, detach(c, "eni-f", "i-f"), "InternalError", 500)
	if se.Message() == "" {
		t.Fatal("empty message")
	}
	se = wantServerError(t, detach(c, "eni-f", "i-f"), "Throttling.User", 400)
	if se.Message() != "Request was denied due to user flow control." {
		t.Fatalf("throttling message %q", se.Message())
	}
	wantServerError(t, detach(c, "eni-f", "i-f"), "ServiceUnavailable", 503)
	if _, err := c.DescribeNetworkInterfaces(describeReq(nil)); err != nil {
		t.Fatal("a fault for another action fired:", err)
	}
	if e := eniStatus(t, s, "eni-f"); e.Status != ENIInUse || e.DetachCalls != 0 {
		t.Fatalf("injected errors must not run the action: %+v", e)
	}
	if err := detach(c, "eni-f", "i-f"); err != nil {
		t.Fatal("faults should be used up:", err)
	}
	var faults []string
	for _, call := range s.CallsFor(actDetach) {
		faults = append(faults, call.Fault+"/"+call.Code)
	}
	want := []string{"error/InternalError", "throttle/Throttling.User", "error/ServiceUnavailable", "/"}
	if len(faults) != len(want) {
		t.Fatalf("log %v", faults)
	}
	for i := range want {
		if faults[i] != want[i] {
			t.Fatalf("log %v, want %v", faults, want)
		}
	}
}

func TestInjectedErrorForever(t *testing.T) {
	s := faultFixture(t)
	c := newClient(t, s.Addr(), stsCreds)
	s.InjectError(AnyAction, "Forbidden.RAM", 403, -1)
	for range 3 {
		_, err := c.DescribeNetworkInterfaces(describeReq(nil))
		wantServerError(t, err, "Forbidden.RAM", 403)
		wantServerError(t, detach(c, "eni-f", "i-f"), "Forbidden.RAM", 403)
	}
	s.ClearFaults()
	if _, err := c.DescribeNetworkInterfaces(describeReq(nil)); err != nil {
		t.Fatal(err)
	}
}

// Faults apply after authentication: a badly signed call neither consumes
// one nor gets one.
func TestFaultsNeedAuthenticatedCalls(t *testing.T) {
	s := faultFixture(t)
	s.Throttle(actDescribe, 1)
	good := newClient(t, s.Addr(), akCreds)
	wrong := akCreds
	wrong.AccessKeySecret = "wrong"
	_, err := newClient(t, s.Addr(), wrong).DescribeNetworkInterfaces(describeReq(nil))
	wantServerError(t, err, "SignatureDoesNotMatch", 400)
	_, err = good.DescribeNetworkInterfaces(describeReq(nil))
	wantServerError(t, err, "Throttling.User", 400)
}

func TestLatency(t *testing.T) {
	s := faultFixture(t)
	c := newClient(t, s.Addr(), stsCreds)

	t.Run("short delay still answers", func(t *testing.T) {
		s.InjectLatency(actDescribe, 10*time.Millisecond, 1)
		if _, err := c.DescribeNetworkInterfaces(describeReq(nil)); err != nil {
			t.Fatal(err)
		}
		calls := s.CallsFor(actDescribe)
		if last := calls[len(calls)-1]; last.Fault != FaultLatency || last.HTTPStatus != 200 {
			t.Fatalf("%+v", last)
		}
	})
	t.Run("client gives up but the detach happened", func(t *testing.T) {
		s.InjectLatency(actDetach, time.Minute, 1)
		impatient := newClient(t, s.Addr(), stsCreds)
		impatient.SetReadTimeout(100 * time.Millisecond)
		err := detach(impatient, "eni-f", "i-f")
		var se *sdkerrors.ServerError
		if err == nil || errors.As(err, &se) {
			t.Fatalf("want a transport timeout, got %v", err)
		}
		if e := eniStatus(t, s, "eni-f"); e.Status != ENIDetaching || e.DetachCalls != 1 {
			t.Fatalf("%+v", e)
		}
	})
}

func TestHang(t *testing.T) {
	s := faultFixture(t)
	s.InjectHang(actDetach, 1)
	impatient := newClient(t, s.Addr(), stsCreds)
	impatient.SetReadTimeout(100 * time.Millisecond)
	err := detach(impatient, "eni-f", "i-f")
	var se *sdkerrors.ServerError
	if err == nil || errors.As(err, &se) {
		t.Fatalf("want a transport timeout, got %v", err)
	}
	if e := eniStatus(t, s, "eni-f"); e.Status != ENIInUse || e.DetachCalls != 0 {
		t.Fatalf("a hung call must not run: %+v", e)
	}
	calls := s.CallsFor(actDetach)
	if len(calls) != 1 || calls[0].Fault != FaultHang || calls[0].HTTPStatus != 0 || calls[0].Code != "" {
		t.Fatalf("%+v", calls)
	}
	if err := detach(newClient(t, s.Addr(), stsCreds), "eni-f", "i-f"); err != nil {
		t.Fatal("hang should be used up:", err)
	}
}

func TestCloseReleasesHungRequests(t *testing.T) {
	s := faultFixture(t)
	s.InjectHang(AnyAction, -1)
	done := make(chan error, 1)
	c := newClient(t, s.Addr(), stsCreds)
	go func() {
		_, err := c.DescribeNetworkInterfaces(describeReq(nil))
		done <- err
	}()
	for len(s.Calls()) == 0 { // wait until the request is being held
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("a hung request answered")
	}
}

func TestReset(t *testing.T) {
	s := faultFixture(t)
	s.InjectReset(actDetach, 1)
	c := newClient(t, s.Addr(), stsCreds)
	err := detach(c, "eni-f", "i-f")
	var se *sdkerrors.ServerError
	if err == nil || errors.As(err, &se) {
		t.Fatalf("want a transport error, got %v", err)
	}
	if e := eniStatus(t, s, "eni-f"); e.DetachCalls != 0 {
		t.Fatalf("a reset call must not run: %+v", e)
	}
	if calls := s.CallsFor(actDetach); len(calls) != 1 || calls[0].Fault != FaultReset || calls[0].HTTPStatus != 0 {
		t.Fatalf("%+v", calls)
	}
	if err := detach(c, "eni-f", "i-f"); err != nil {
		t.Fatal(err)
	}
}

func TestQuotaWindows(t *testing.T) {
	clock := fakeclock.New()
	// 50 s into a minute: a sliding window would still refuse at +15 s.
	clock.Set(time.Now().Truncate(time.Minute).Add(50 * time.Second))
	s := faultFixture(t, WithClock(clock.Now))
	s.SetQuota(actDescribe, 2, time.Minute)
	c := newClient(t, s.Addr(), stsCreds)
	describe := func() error {
		_, err := c.DescribeNetworkInterfaces(describeReq(nil))
		return err
	}
	for i := range 2 {
		if err := describe(); err != nil {
			t.Fatal(i, err)
		}
	}
	wantServerError(t, describe(), "Throttling.User", http.StatusBadRequest)
	if err := detach(c, "eni-f", "i-f"); err != nil {
		t.Fatal("quota of another action applied:", err)
	}
	clock.Advance(9 * time.Second) // 59 s: same window
	wantServerError(t, describe(), "Throttling.User", http.StatusBadRequest)
	clock.Advance(6 * time.Second) // next window
	for i := range 2 {
		if err := describe(); err != nil {
			t.Fatal("new window", i, err)
		}
	}
	wantServerError(t, describe(), "Throttling.User", http.StatusBadRequest)
	if calls := s.CallsFor(actDescribe); calls[len(calls)-1].Fault != FaultQuota {
		t.Fatalf("%+v", calls[len(calls)-1])
	}
	s.SetQuota(actDescribe, 0, 0)
	if err := describe(); err != nil {
		t.Fatal("quota removed:", err)
	}
}
