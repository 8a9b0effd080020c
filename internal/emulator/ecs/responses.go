package ecs

import "sort"

// The JSON shapes below mirror the SDK's services/ecs response structs
// (field names are the JSON keys the SDK decodes).

type requestIDSetter interface{ setRequestID(string) }

func setRequestID(body any, id string) {
	if r, ok := body.(requestIDSetter); ok {
		r.setRequestID(id)
	}
}

type baseResponse struct {
	RequestId string
}

func (b *baseResponse) setRequestID(id string) { b.RequestId = id }

type tagJSON struct {
	TagKey   string
	TagValue string
}

type tagsJSON struct {
	Tag []tagJSON
}

type attachmentJSON struct {
	InstanceId              string
	TrunkNetworkInterfaceId string
}

// eniJSON is one NetworkInterfaceSet, and the body of
// DescribeNetworkInterfaceAttribute.
type eniJSON struct {
	NetworkInterfaceId          string
	Status                      string
	Type                        string
	InstanceId                  string
	ServiceManaged              bool
	NetworkInterfaceTrafficMode string
	VpcId                       string
	VSwitchId                   string
	ZoneId                      string
	Tags                        tagsJSON
	Attachment                  *attachmentJSON `json:",omitempty"`
}

func renderENI(e *ENI) eniJSON {
	out := eniJSON{
		NetworkInterfaceId:          e.ID,
		Status:                      e.Status,
		Type:                        e.Type,
		InstanceId:                  e.InstanceID,
		ServiceManaged:              e.ServiceManaged,
		NetworkInterfaceTrafficMode: e.TrafficMode,
		VpcId:                       e.VpcID,
		VSwitchId:                   e.VSwitchID,
		ZoneId:                      e.ZoneID,
		Tags:                        tagsJSON{Tag: []tagJSON{}},
	}
	if e.Type == ENIMember {
		// ECS reports a member ENI's instance only inside Attachment.
		out.InstanceId = ""
		if e.InstanceID != "" || e.TrunkID != "" {
			out.Attachment = &attachmentJSON{InstanceId: e.InstanceID, TrunkNetworkInterfaceId: e.TrunkID}
		}
	}
	for k, v := range e.Tags {
		out.Tags.Tag = append(out.Tags.Tag, tagJSON{TagKey: k, TagValue: v})
	}
	sort.Slice(out.Tags.Tag, func(i, j int) bool { return out.Tags.Tag[i].TagKey < out.Tags.Tag[j].TagKey })
	return out
}

type describeENIsResponse struct {
	baseResponse
	NextToken            string `json:",omitempty"`
	PageSize             int    `json:",omitempty"`
	PageNumber           int    `json:",omitempty"`
	TotalCount           int
	NetworkInterfaceSets struct {
		NetworkInterfaceSet []eniJSON
	}
}

type describeENIAttributeResponse struct {
	baseResponse
	eniJSON
}

type detachResponse struct {
	baseResponse
}
