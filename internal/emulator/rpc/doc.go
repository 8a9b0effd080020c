// Package rpc is what the emulated Alibaba Cloud RPC-style services (ECS,
// STS) have in common on the wire: signature v1, reading the parameters of
// a request, the protocol checks the API gateway makes before a service
// sees a request, error answers in the shape the SDK decodes, injected
// faults (errors, throttling, latency, hangs, dropped connections), and the
// call log. A service's ServeHTTP runs the steps in order: Begin,
// authentication, Take (then Drop for a fault that Drops), its action,
// Call.Answer, logging, Send.
//
// Who signed a request, and what that principal may do, is package
// identity's job; each service keeps its own actions.
package rpc
