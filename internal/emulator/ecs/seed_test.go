package ecs

import (
	"slices"
	"testing"

	sdkecs "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func TestSeedDemo(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	demo := s.SeedDemo()
	if demo.InstanceID != "i-demo0000000000001" || !instanceIDPattern.MatchString(demo.InstanceID) ||
		!eniIDPattern.MatchString(demo.PrimaryENI) || len(demo.SecondaryENIs) != 2 || !isSTS(demo.Credentials) {
		t.Fatalf("%+v", demo)
	}
	c := newClient(t, s.Addr(), demo.Credentials)
	resp, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
		r.InstanceId = demo.InstanceID
		r.Type = ENISecondary
		r.Tag = &[]sdkecs.DescribeNetworkInterfacesTag{{Key: DemoTagKey, Value: DemoTagValue}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(resp.NetworkInterfaceSets.NetworkInterfaceSet); !slices.Equal(got, demo.SecondaryENIs) {
		t.Fatalf("secondaries %v", got)
	}
	wantServerError(t, detach(c, demo.PrimaryENI, demo.InstanceID), "InvalidOperation.DetachPrimaryEniNotAllowed", 400)
	if err := detach(c, demo.SecondaryENIs[0], demo.InstanceID); err != nil {
		t.Fatal(err)
	}
	// Seeding again resets the demo objects.
	s.SeedDemo()
	if e, _ := s.GetENI(demo.SecondaryENIs[0]); e.Status != ENIInUse || e.DetachCalls != 0 {
		t.Fatalf("%+v", e)
	}
}
