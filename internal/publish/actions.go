package publish

// RAMActions lists every EventBridge action the publisher calls, in RAM
// policy spelling (see ecsapi.RAMActions).
var RAMActions = []string{
	"eventbridge:PutEvents",
}
