package ecsapi

// RAMActions lists every ECS action this adapter can call, in RAM policy
// spelling. The deploy policy is tested against it, so adding a call here
// without granting it (or granting more than is called) fails a test.
var RAMActions = []string{
	"ecs:DescribeNetworkInterfaces",
	"ecs:DetachNetworkInterface",
}
