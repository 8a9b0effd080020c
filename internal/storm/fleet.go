package storm

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
)

// Event types the storm sends (both acted on by the function).
const (
	typePreemptible = "ecs:Instance:PreemptibleInstanceInterruption"
	typeStateChange = "ecs:Instance:StateChange"
)

// instance is one ECS instance of the storm and its event.
type instance struct {
	id       string
	enis     []string // eligible secondary ENIs
	stopping bool     // StateChange Stopping rather than a preemption notice
	offset   time.Duration
	payload  []byte
}

// plan draws the fleet: ids, which instances stop, and when each event
// arrives (offsets from the start, the first at 0), sorted by arrival.
func plan(c Config) []*instance {
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed^0x5eed))
	insts := make([]*instance, c.Instances)
	nStopping := int(c.StoppingShare*float64(c.Instances) + 0.5)
	for i := range insts {
		in := &instance{id: fmt.Sprintf("i-storm%06d", i), stopping: i < nStopping}
		for j := range c.ENIsPerInstance {
			in.enis = append(in.enis, fmt.Sprintf("eni-storm%06dx%d", i, j))
		}
		if i > 0 && c.Spread > 0 {
			in.offset = time.Duration(rng.Int64N(int64(c.Spread)))
		}
		insts[i] = in
	}
	// Stopping instances are spread among the others, not first in line.
	rng.Shuffle(len(insts)-1, func(i, j int) {
		insts[i+1].stopping, insts[j+1].stopping = insts[j+1].stopping, insts[i+1].stopping
	})
	slices.SortStableFunc(insts, func(a, b *instance) int { return int(a.offset - b.offset) })
	return insts
}

// seed adds the fleet to the ECS emulator: each instance Running (or
// Stopping, Stopped StopTime after its event), one primary ENI and its
// eligible secondaries, tagged as ENI_TAG_SELECTOR wants.
func seed(srv *ecsemu.Server, c Config, insts []*instance, tags map[string]string) error {
	region := c.Function.Region
	for i, in := range insts {
		if err := srv.AddInstance(ecsemu.Instance{ID: in.id, Region: region}); err != nil {
			return err
		}
		primary := ecsemu.ENI{ID: fmt.Sprintf("eni-storm%06dp", i), Region: region, Type: ecsemu.ENIPrimary, InstanceID: in.id}
		if err := srv.AddENI(primary); err != nil {
			return err
		}
		for _, id := range in.enis {
			if err := srv.AddENI(ecsemu.ENI{ID: id, Region: region, InstanceID: in.id, Tags: tags}); err != nil {
				return err
			}
		}
	}
	return nil
}

// tagsFor returns tags that satisfy an ENI_TAG_SELECTOR value
// ("key=value[,key=value]", a key alone: any value).
func tagsFor(selector string) map[string]string {
	tags := map[string]string{}
	for part := range strings.SplitSeq(selector, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if k = strings.TrimSpace(k); k != "" {
			if v = strings.TrimSpace(v); v == "" {
				v = "any"
			}
			tags[k] = v
		}
	}
	return tags
}

// event returns the CloudEvent EventBridge delivers for the instance, as
// an ECS system event on the default bus.
func (in *instance) event(region, account string, at time.Time) []byte {
	typ, data := typePreemptible, map[string]any{"instanceId": in.id, "action": "delete"}
	if in.stopping {
		typ, data = typeStateChange, map[string]any{"resourceId": in.id, "resourceType": "ALIYUN::ECS::Instance", "state": "Stopping"}
	}
	ts := at.UTC().Format("2006-01-02T15:04:05.000Z")
	ev := map[string]any{
		"specversion":             "1.0",
		"id":                      "storm-" + in.id,
		"source":                  "acs.ecs",
		"type":                    typ,
		"subject":                 "acs:ecs:" + region + ":" + account + ":instance/" + in.id,
		"time":                    ts,
		"datacontenttype":         "application/json; charset=utf-8",
		"aliyunaccountid":         account,
		"aliyunoriginalaccountid": account,
		"aliyunregionid":          region,
		"aliyuneventbusname":      "default",
		"aliyunpublishtime":       ts,
		"aliyunpublishaddr":       "10.0.0.1",
		"data":                    data,
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return b
}
