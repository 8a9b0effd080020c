package eventschema

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// TimeLayout is the follow-up event's time: RFC 3339 in UTC with
// milliseconds, as EventBridge itself stamps events.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FollowUpEvent is the CloudEvent the function emits per ENI acted on
// (README "Follow-up events"). Its data is the Result.
type FollowUpEvent struct {
	SpecVersion        string `json:"specversion"`
	ID                 string `json:"id"`
	Source             string `json:"source"`
	Type               string `json:"type"`
	Subject            string `json:"subject"`
	Time               string `json:"time"`
	DataContentType    string `json:"datacontenttype"`
	AliyunEventBusName string `json:"aliyuneventbusname"`
	Data               Result `json:"data"`
}

// FunctionARN is the default EVENT_SOURCE.
func FunctionARN(region, accountID, functionName string) string {
	return "acs:fc:" + region + ":" + accountID + ":functions/" + functionName
}

// SubjectOf returns the ENI's ARN, or the instance's when the result names
// no ENI (an instance whose ENIs could not be listed), in the account that
// owns it.
func SubjectOf(r Result) string {
	if r.NetworkInterfaceID == "" {
		return "acs:ecs:" + r.RegionID + ":" + r.AccountID + ":instance/" + r.InstanceID
	}
	return "acs:ecs:" + r.RegionID + ":" + r.AccountID + ":eni/" + r.NetworkInterfaceID
}

// NewFollowUp builds the event for a result; ok is false when the result
// publishes nothing (dry runs).
func NewFollowUp(r Result, source, bus string) (FollowUpEvent, bool) {
	typ := r.Outcome.EventType()
	if typ == "" || r.DryRun {
		return FollowUpEvent{}, false
	}
	trigger := r.Trigger.EventID
	if trigger == "" {
		trigger = r.FCRequestID
	}
	target := r.NetworkInterfaceID
	if target == "" {
		target = r.InstanceID
	}
	return FollowUpEvent{
		SpecVersion:        "1.0",
		ID:                 EventID(trigger, target, r.Outcome),
		Source:             source,
		Type:               typ,
		Subject:            SubjectOf(r),
		Time:               r.FinishedAt.UTC().Format(TimeLayout),
		DataContentType:    "application/json",
		AliyunEventBusName: bus,
		Data:               r,
	}, true
}

// EventID is deterministic from the trigger, the ENI and the outcome, so a
// redelivered trigger that ends the same way yields the same id and
// consumers can deduplicate. It satisfies EventBridge's rule: letters,
// digits and hyphens, at most 128, starting with a letter or digit.
func EventID(triggerID, target string, o Outcome) string {
	sum := sha256.Sum256([]byte(triggerID + "\x00" + target + "\x00" + string(o)))
	prefix := sanitizeID(target)
	if len(prefix) > 64 {
		prefix = prefix[:64]
	}
	if prefix == "" {
		prefix = "eni-detach"
	}
	// The outcome is only a readable label (the hash already covers it);
	// sanitised and capped so that no Outcome value can break the rule:
	// 64 + 1 + 32 + 1 + 24 ≤ 128.
	label := strings.ToLower(sanitizeID(string(o)))
	if len(label) > 32 {
		label = label[:32]
	}
	return prefix + "-" + label + "-" + hex.EncodeToString(sum[:12])
}

func sanitizeID(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '-' && b.Len() > 0:
			b.WriteRune(c)
		}
	}
	return b.String()
}
