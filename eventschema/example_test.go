package eventschema_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/eventschema/schema"
)

// The follow-up event of an ENI detached after an ECS preemption notice.
func ExampleNewFollowUp() {
	started := time.Date(2026, 11, 25, 8, 15, 30, 125e6, time.UTC)
	finished := started.Add(2506 * time.Millisecond)
	r := eventschema.Result{
		AccountID: "1234567890123456", RegionID: "cn-hangzhou", NetworkInterfaceID: "eni-bp1example01", InstanceID: "i-bp1example01",
		Outcome: eventschema.OutcomeDetached, Status: eventschema.StatusAvailable, PreviousStatus: eventschema.StatusInUse,
		DetachAttempts: 1, RequestIDs: []string{"7C2B3A10-2F4E-4D1B-9E8A-5B6C7D8E9F01"},
		StartedAt: started, FinishedAt: finished, DurationMs: finished.Sub(started).Milliseconds(),
		Trigger: eventschema.Trigger{Kind: eventschema.TriggerEventBridge, EventID: "6a1b3c5e-0f2d-4b8a-9c71-3e5f7a9b1d20",
			EventType: "ecs:Instance:PreemptibleInstanceInterruption", EventSource: "acs.ecs"},
		FCRequestID: "4f3e2d1c-0b9a-4877-a665-544332211000",
	}
	source := eventschema.FunctionARN("cn-hangzhou", "1234567890123456", "eni-detach")
	ev, ok := eventschema.NewFollowUp(r, source, "ops-bus")
	if !ok {
		fmt.Println("nothing to publish")
		return
	}
	b, _ := json.MarshalIndent(ev, "", "  ")
	fmt.Println(string(b))
	fmt.Println("valid:", schema.ValidateFollowUpEvent(b) == nil)
	// Output:
	// {
	//   "specversion": "1.0",
	//   "id": "eni-bp1example01-detached-a782e16c4ab10ca4241d21e4",
	//   "source": "acs:fc:cn-hangzhou:1234567890123456:functions/eni-detach",
	//   "type": "eni-detach:NetworkInterface:Detached",
	//   "subject": "acs:ecs:cn-hangzhou:1234567890123456:eni/eni-bp1example01",
	//   "time": "2026-11-25T08:15:32.631Z",
	//   "datacontenttype": "application/json",
	//   "aliyuneventbusname": "ops-bus",
	//   "data": {
	//     "accountId": "1234567890123456",
	//     "regionId": "cn-hangzhou",
	//     "networkInterfaceId": "eni-bp1example01",
	//     "instanceId": "i-bp1example01",
	//     "outcome": "Detached",
	//     "status": "Available",
	//     "previousStatus": "InUse",
	//     "detachAttempts": 1,
	//     "requestIds": [
	//       "7C2B3A10-2F4E-4D1B-9E8A-5B6C7D8E9F01"
	//     ],
	//     "startedAt": "2026-11-25T08:15:30.125Z",
	//     "finishedAt": "2026-11-25T08:15:32.631Z",
	//     "durationMs": 2506,
	//     "dryRun": false,
	//     "trigger": {
	//       "kind": "eventbridge",
	//       "eventId": "6a1b3c5e-0f2d-4b8a-9c71-3e5f7a9b1d20",
	//       "eventType": "ecs:Instance:PreemptibleInstanceInterruption",
	//       "eventSource": "acs.ecs"
	//     },
	//     "fcRequestId": "4f3e2d1c-0b9a-4877-a665-544332211000"
	//   }
	// }
	// valid: true
}

// Field names are matched case-insensitively and spaces trimmed; Wait
// defaults to true. Every problem is reported at once, a wrong type
// beside a bad value, in the order of the README's field table.
func ExampleParseRequest() {
	r, err := eventschema.ParseRequest([]byte(`{"networkinterfaceid":" eni-bp1example01 ","wait":false}`))
	fmt.Printf("%q %v wait=%v dryRun=%v\n", r.NetworkInterfaceID, err, r.WantsWait(), r.WantsDryRun())

	_, err = eventschema.ParseRequest([]byte(`{"NetworkInterfaceId":"ENI-1","InstanceId":"vm-2","DryRun":"yes"}`))
	fmt.Println(err)

	_, err = eventschema.ParseRequest([]byte(`{"NetworkInterfaceId":"ENI-1","InstanceId":"vm-2"}`))
	fmt.Println(err)
	// Output:
	// "eni-bp1example01" <nil> wait=false dryRun=false
	// InvalidRequest: NetworkInterfaceId: must be an ENI id: "eni-" followed by lower-case letters and digits, got "ENI-1"; InstanceId: must be an instance id: "i-" followed by lower-case letters and digits, got "vm-2"; DryRun: must be a boolean (true or false)
	// InvalidRequest: NetworkInterfaceId: must be an ENI id: "eni-" followed by lower-case letters and digits, got "ENI-1"; InstanceId: must be an instance id: "i-" followed by lower-case letters and digits, got "vm-2"
}
