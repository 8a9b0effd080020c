// Package eventbridge emulates the part of Alibaba Cloud EventBridge that
// the product talks to: POST /openapi/putEvents as eventbridge-sdk v1.2.6
// sends it. It verifies the acs signature and the STS token like the real
// gateway, keeps the accepted CloudEvents for tests and the `local` mode, and
// injects the faults the publisher has to survive (entry failures, error
// answers, latency, malformed bodies, connection resets).
//
// The wire format was taken from the SDK source (eventbridge-sdk client.go,
// eventbridge-util GetStringToSign, tea DoRequest), not from the SDK's
// exported helpers: the verifier is an independent reimplementation, so a
// mistake in either side shows up as a signature mismatch in tests.
package eventbridge
