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
		!eniIDPattern.MatchString(demo.PrimaryENI) || len(demo.SecondaryENIs) != 2 || demo.Credentials.SecurityToken == "" {
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

// SeedFixtures holds the ids of the repository's sample payloads; the
// demo credentials see them.
func TestSeedFixtures(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	demo := s.SeedDemo()
	s.SeedFixtures()
	c := newClient(t, s.Addr(), demo.Credentials)
	resp, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
		r.InstanceId = FixtureInstanceID
		r.Type = ENISecondary
		r.Tag = &[]sdkecs.DescribeNetworkInterfacesTag{{Key: FixtureTagKey, Value: FixtureTagValue}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(resp.NetworkInterfaceSets.NetworkInterfaceSet); !slices.Equal(got, []string{FixtureSecondaryENI, FixtureSecondary2}) {
		t.Fatalf("secondaries %v", got)
	}
	wantServerError(t, detach(c, FixturePrimaryENI, FixtureInstanceID), "InvalidOperation.DetachPrimaryEniNotAllowed", 400)
	if err := detach(c, FixtureSecondaryENI, FixtureInstanceID); err != nil {
		t.Fatal(err)
	}
	// Seeding again resets the fixture objects and leaves the demo ones.
	s.SeedFixtures()
	if e, _ := s.GetENI(FixtureSecondaryENI); e.Status != ENIInUse || e.DetachCalls != 0 {
		t.Fatalf("%+v", e)
	}
	if n := len(s.ENIs()); n != 6 {
		t.Fatalf("%d ENIs after seeding both twice, want 6", n)
	}
}
