package ecs

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	sdkecs "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
)

func init() {
	// The SDK fills this package-global map lazily and without a lock.
	sdkecs.GetEndpointMap()
}

var requestIDPattern = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)

var (
	akCreds  = creds.Credentials{AccessKeyID: "LTAIemutest0000000001", AccessKeySecret: "ak-secret-1"}
	stsCreds = creds.Credentials{AccessKeyID: "STS.emutest0000000001", AccessKeySecret: "sts-secret-1", SecurityToken: "sts-token-1"}
	sts2     = creds.Credentials{AccessKeyID: "STS.emutest0000000002", AccessKeySecret: "sts-secret-2", SecurityToken: "sts-token-2"}
)

// startServer starts an emulator with the standard test credentials.
func startServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.AddCredentials(akCreds)
	s.AddCredentials(stsCreds)
	s.AddCredentials(sts2)
	return s
}

// newClient builds a real SDK client aimed at the emulator, with its own
// transport (the SDK mutates the transport it is given).
func newClient(t *testing.T, addr string, c creds.Credentials) *sdkecs.Client {
	t.Helper()
	var (
		client *sdkecs.Client
		err    error
	)
	if c.SecurityToken != "" {
		client, err = sdkecs.NewClientWithStsToken(DefaultRegion, c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
	} else {
		client, err = sdkecs.NewClientWithAccessKey(DefaultRegion, c.AccessKeyID, c.AccessKeySecret)
	}
	if err != nil {
		t.Fatal(err)
	}
	client.Domain = addr
	client.GetConfig().Scheme = "HTTP"
	client.SetTransport(&http.Transport{})
	client.SetNoProxy("127.0.0.1")
	client.SetReadTimeout(5 * time.Second)
	return client
}

func describeReq(mut func(*sdkecs.DescribeNetworkInterfacesRequest)) *sdkecs.DescribeNetworkInterfacesRequest {
	r := sdkecs.CreateDescribeNetworkInterfacesRequest()
	r.Scheme = "HTTP"
	r.RegionId = DefaultRegion
	if mut != nil {
		mut(r)
	}
	return r
}

func detachReq(eni, inst string) *sdkecs.DetachNetworkInterfaceRequest {
	r := sdkecs.CreateDetachNetworkInterfaceRequest()
	r.Scheme = "HTTP"
	r.RegionId = DefaultRegion
	r.NetworkInterfaceId = eni
	r.InstanceId = inst
	return r
}

func detach(c *sdkecs.Client, eni, inst string) error {
	_, err := c.DetachNetworkInterface(detachReq(eni, inst))
	return err
}

// wantServerError asserts err is the SDK's ServerError with code/status.
func wantServerError(t *testing.T, err error, code string, status int) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("want ServerError %s, got %T %v", code, err, err)
	}
	if se.ErrorCode() != code || se.HttpStatus() != status {
		t.Fatalf("want %d %s, got %d %s (%s)", status, code, se.HttpStatus(), se.ErrorCode(), se.Message())
	}
	if !requestIDPattern.MatchString(se.RequestId()) {
		t.Fatalf("RequestId %q is not an upper-case UUID", se.RequestId())
	}
	return se
}

func mustAddInstance(t *testing.T, s *Server, in Instance) {
	t.Helper()
	if err := s.AddInstance(in); err != nil {
		t.Fatal(err)
	}
}

func mustAddENI(t *testing.T, s *Server, e ENI) {
	t.Helper()
	if err := s.AddENI(e); err != nil {
		t.Fatal(err)
	}
}

func eniStatus(t *testing.T, s *Server, id string) ENI {
	t.Helper()
	e, ok := s.GetENI(id)
	if !ok {
		t.Fatalf("no ENI %s", id)
	}
	return e
}

var nonceSeq struct {
	sync.Mutex
	n int
}

// handParams returns a complete, signed parameter set for a hand-made
// request; edit may change anything before signing.
func handParams(c creds.Credentials, method, action string, now time.Time, edit func(map[string]string)) map[string]string {
	nonceSeq.Lock()
	nonceSeq.n++
	nonce := fmt.Sprintf("hand-nonce-%d-%d", time.Now().UnixNano(), nonceSeq.n)
	nonceSeq.Unlock()
	p := map[string]string{
		"AccessKeyId":      c.AccessKeyID,
		"Action":           action,
		"Format":           "JSON",
		"RegionId":         DefaultRegion,
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   nonce,
		"SignatureType":    "",
		"SignatureVersion": "1.0",
		"Timestamp":        now.UTC().Format("2006-01-02T15:04:05Z"),
		"Version":          APIVersion,
	}
	if c.SecurityToken != "" {
		p["SecurityToken"] = c.SecurityToken
	}
	if edit != nil {
		edit(p)
	}
	p["Signature"] = rpc.Sign(rpc.StringToSign(method, p), c.AccessKeySecret)
	return p
}

func encodeParams(p map[string]string) string {
	v := url.Values{}
	for k, x := range p {
		v.Set(k, x)
	}
	return v.Encode()
}
