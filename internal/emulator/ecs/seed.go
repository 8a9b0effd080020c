package ecs

import "github.com/eni-detach/eni-detach/internal/creds"

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

	s.mu.Lock()
	defer s.mu.Unlock()
	s.regions[ids.Region] = true
	account := s.ids.DefaultAccount()
	s.instances[ids.InstanceID] = &instanceState{Instance: Instance{
		ID: ids.InstanceID, Account: account, Region: ids.Region, Status: InstanceRunning,
	}}
	base := ENI{
		Account: account, Region: ids.Region, InstanceID: ids.InstanceID, Status: ENIInUse, TrafficMode: TrafficStandard,
		VpcID: ids.VpcID, VSwitchID: ids.VSwitchID, ZoneID: ids.ZoneID,
	}
	primary := base
	primary.ID, primary.Type = ids.PrimaryENI, ENIPrimary
	s.putENILocked(primary)
	for _, id := range ids.SecondaryENIs {
		e := base
		e.ID, e.Type = id, ENISecondary
		e.Tags = map[string]string{DemoTagKey: DemoTagValue}
		s.putENILocked(e)
	}
	return ids
}
