// Package reliability holds the hardening tests of issue 8 at the handler
// level: the fault matrix (ECS and EventBridge faults, STS expiry, stuck
// detaches, the FC deadline), duplicate deliveries, the never-detach guards,
// the secret scan and the payload limits. There is no code here besides the
// tests; RELIABILITY.md at the repository root indexes them.
package reliability
