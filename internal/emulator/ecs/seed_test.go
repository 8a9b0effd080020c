package ecs

import (
	"slices"
	"testing"

	sdkecs "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func TestSeedDemo(t *testing.T) {
	s := startServer(t)
	demo := s.SeedDemo()
	if demo.InstanceID != "i-demo0000000000001" || !instanceIDPattern.MatchString(demo.InstanceID) ||
		!eniIDPattern.MatchString(demo.PrimaryENI) || len(demo.SecondaryENIs) != 2 || demo.Credentials.SecurityToken == "" {
		t.Fatalf("%+v", demo)
	}
	c := newClient(t, s.Addr(), demo.Credentials)
	wantSeededInstance(t, c, demo.InstanceID, demo.PrimaryENI, demo.SecondaryENIs, DemoTagKey, DemoTagValue)
	// Seeding again resets the demo objects.
	s.SeedDemo()
	if e, _ := s.GetENI(demo.SecondaryENIs[0]); e.Status != ENIInUse || e.DetachCalls != 0 {
		t.Fatalf("%+v", e)
	}
}

// SeedFixtures holds the ids of the repository's sample payloads; the
// demo credentials see them.
func TestSeedFixtures(t *testing.T) {
	s := startServer(t)
	demo := s.SeedDemo()
	s.SeedFixtures()
	c := newClient(t, s.Addr(), demo.Credentials)
	wantSeededInstance(t, c, FixtureInstanceID, FixturePrimaryENI, []string{FixtureSecondaryENI, FixtureSecondary2}, FixtureTagKey, FixtureTagValue)
	// Seeding again resets the fixture objects and leaves the demo ones.
	s.SeedFixtures()
	if e, _ := s.GetENI(FixtureSecondaryENI); e.Status != ENIInUse || e.DetachCalls != 0 {
		t.Fatalf("%+v", e)
	}
	if n := len(s.ENIs()); n != 6 {
		t.Fatalf("%d ENIs after seeding both twice, want 6", n)
	}
}

// wantSeededInstance checks a seeded instance through the SDK: its tagged
// Secondary ENIs are secondaries (in order), its Primary ENI refuses a
// detach, and the first secondary detaches.
func wantSeededInstance(t *testing.T, c *sdkecs.Client, instanceID, primary string, secondaries []string, tagKey, tagValue string) {
	t.Helper()
	resp, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
		r.InstanceId = instanceID
		r.Type = ENISecondary
		r.Tag = &[]sdkecs.DescribeNetworkInterfacesTag{{Key: tagKey, Value: tagValue}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(resp.NetworkInterfaceSets.NetworkInterfaceSet); !slices.Equal(got, secondaries) {
		t.Fatalf("secondaries %v", got)
	}
	wantServerError(t, detach(c, primary, instanceID), "InvalidOperation.DetachPrimaryEniNotAllowed", 400)
	if err := detach(c, secondaries[0], instanceID); err != nil {
		t.Fatal(err)
	}
}
