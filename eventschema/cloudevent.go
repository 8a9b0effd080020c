package eventschema

import "encoding/json"

// CloudEvent is a CloudEvents 1.0 envelope as EventBridge delivers it to a
// function: the core attributes plus the aliyun* extensions flattened to the
// top level. Time fields stay strings because EventBridge is not consistent
// about their form (aliyunpublishtime arrives as "…Z" and as "…PRC").
type CloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time,omitempty"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	DataSchema      string          `json:"dataschema,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`

	AliyunAccountID         string `json:"aliyunaccountid,omitempty"`
	AliyunOriginalAccountID string `json:"aliyunoriginalaccountid,omitempty"`
	AliyunRegionID          string `json:"aliyunregionid,omitempty"`
	AliyunEventBusName      string `json:"aliyuneventbusname,omitempty"`
	AliyunPublishTime       string `json:"aliyunpublishtime,omitempty"`
	AliyunPublishAddr       string `json:"aliyunpublishaddr,omitempty"`
}

// FollowUpTypePrefix starts the type of every event this product emits.
// Events with it are never acted on, whatever rule delivered them.
const FollowUpTypePrefix = "eni-detach:NetworkInterface:"

// Follow-up event types, by outcome (README "Types").
const (
	TypeDetached      = FollowUpTypePrefix + "Detached"
	TypeDetachPending = FollowUpTypePrefix + "DetachPending"
	TypeDetachFailed  = FollowUpTypePrefix + "DetachFailed"
)

// SourceECS is the source of ECS system events.
const SourceECS = "acs.ecs"

// OwnerAccountID is the account an event is about: aliyunoriginalaccountid
// when EventBridge routed it from another account, else aliyunaccountid.
// Which account aliyunaccountid names after a crossing is not documented,
// so the original one is read first.
func (ev CloudEvent) OwnerAccountID() string {
	if ev.AliyunOriginalAccountID != "" {
		return ev.AliyunOriginalAccountID
	}
	return ev.AliyunAccountID
}
