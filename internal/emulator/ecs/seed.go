package ecs

import (
	"maps"

	"github.com/eni-detach/eni-detach/internal/creds"
)

// Demo ids created by SeedDemo (lower-case alphanumerics, as ECS ids are).
const (
	DemoRegion       = DefaultRegion
	DemoInstanceID   = "i-demo0000000000001"
	DemoPrimaryENI   = "eni-demo0000000000000"
	DemoSecondaryENI = "eni-demo0000000000001"
	DemoSecondary2   = "eni-demo0000000000002"
	DemoVpcID        = "vpc-demo0000000000001"
	DemoVSwitchID    = "vsw-demo0000000000001"
	DemoZoneID       = "cn-hangzhou-h"
	DemoTagKey       = "team"
	DemoTagValue     = "sre"
	// Demo STS triple. Not secret: the emulator only listens on 127.0.0.1.
	DemoAccessKeyID     = "STS.demoAccessKey0000000001"
	DemoAccessKeySecret = "demoAccessKeySecret0000000000001"
	DemoSecurityToken   = "demoSecurityToken-eni-detach-local-mode"
)

// DemoIDs names what SeedDemo created.
type DemoIDs struct {
	Region        string
	InstanceID    string
	PrimaryENI    string
	SecondaryENIs []string // both InUse on InstanceID, tagged team=sre
	VpcID         string
	VSwitchID     string
	ZoneID        string
	Credentials   creds.Credentials // an STS triple the server accepts
}

// SeedDemo creates, for the product's local mode: region cn-hangzhou; a
// Running instance i-demo0000000000001; its Primary ENI
// eni-demo0000000000000 (InUse); two Secondary ENIs eni-demo0000000000001
// and eni-demo0000000000002 (InUse, tagged team=sre); and registers the demo
// STS credentials. Calling it again resets those objects.
func (s *Server) SeedDemo() DemoIDs {
	ids := DemoIDs{
		Region:        DemoRegion,
		InstanceID:    DemoInstanceID,
		PrimaryENI:    DemoPrimaryENI,
		SecondaryENIs: []string{DemoSecondaryENI, DemoSecondary2},
		VpcID:         DemoVpcID,
		VSwitchID:     DemoVSwitchID,
		ZoneID:        DemoZoneID,
		Credentials: creds.Credentials{
			AccessKeyID:     DemoAccessKeyID,
			AccessKeySecret: DemoAccessKeySecret,
			SecurityToken:   DemoSecurityToken,
		},
	}
	s.AddCredentials(ids.Credentials)
	s.seedInstance(s.ids.DefaultAccount(), ids.InstanceID, ids.PrimaryENI, ids.SecondaryENIs, map[string]string{DemoTagKey: DemoTagValue})
	return ids
}

// The member account of local mode's cross-account demo, and what
// SeedMember creates in it.
const (
	MemberAccount       = "2234567890123456"
	MemberInstanceID    = "i-member0000000001"
	MemberPrimaryENI    = "eni-member0000000000"
	MemberSecondaryENI  = "eni-member0000000001"
	MemberSecondary2ENI = "eni-member0000000002"
)

// SeedMember creates, in the demo region and MemberAccount, the Running
// instance i-member0000000001 with its Primary ENI eni-member0000000000
// and two Secondary ENIs eni-member0000000001 and eni-member0000000002
// (InUse, tagged team=sre). Only that account's credentials see them.
// Calling it again resets them.
func (s *Server) SeedMember() {
	s.seedInstance(MemberAccount, MemberInstanceID, MemberPrimaryENI, []string{MemberSecondaryENI, MemberSecondary2ENI},
		map[string]string{DemoTagKey: DemoTagValue})
}

// Ids of the repository's sample payloads (eventschema/testdata and
// handler/testdata/http), created by SeedFixtures so that every sample
// does under `local` what its README row says.
const (
	FixtureInstanceID   = "i-bp1fixture0000000001"
	FixturePrimaryENI   = "eni-bp1fixture0000000000"
	FixtureSecondaryENI = "eni-bp1fixture0000000001"
	FixtureSecondary2   = "eni-bp1fixture0000000002"
	// FixtureTagKey=FixtureTagValue is the tag s.yaml's ENI_TAG_SELECTOR
	// asks for, so the samples also work with the deployed selector.
	FixtureTagKey   = "eni-detach"
	FixtureTagValue = "enabled"
)

// SeedFixtures creates, in the demo region, the Running instance of the
// sample payloads (i-bp1fixture0000000001), its Primary ENI
// eni-bp1fixture0000000000 and two Secondary ENIs eni-bp1fixture0000000001
// and eni-bp1fixture0000000002 (InUse, tagged eni-detach=enabled). It
// registers no credentials: SeedDemo does. Calling it again resets them.
func (s *Server) SeedFixtures() {
	s.seedInstance(s.ids.DefaultAccount(), FixtureInstanceID, FixturePrimaryENI, []string{FixtureSecondaryENI, FixtureSecondary2},
		map[string]string{FixtureTagKey: FixtureTagValue})
}

// seedInstance (re)creates a Running instance of account in the demo
// region with an untagged Primary ENI and InUse Secondary ENIs carrying
// tags.
func (s *Server) seedInstance(account, instanceID, primaryENI string, secondaries []string, tags map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regions[DemoRegion] = true
	s.instances[instanceID] = &instanceState{Instance: Instance{
		ID: instanceID, Account: account, Region: DemoRegion, Status: InstanceRunning,
	}}
	base := ENI{
		Account: account, Region: DemoRegion, InstanceID: instanceID, Status: ENIInUse, TrafficMode: TrafficStandard,
		VpcID: DemoVpcID, VSwitchID: DemoVSwitchID, ZoneID: DemoZoneID,
	}
	primary := base
	primary.ID, primary.Type = primaryENI, ENIPrimary
	s.putENILocked(primary)
	for _, id := range secondaries {
		e := base
		e.ID, e.Type = id, ENISecondary
		e.Tags = maps.Clone(tags)
		s.putENILocked(e)
	}
}
