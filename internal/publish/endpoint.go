package publish

import (
	"fmt"
	"net"

	"github.com/eni-detach/eni-detach/eventschema"
)

// endpoint is what the SDK needs apart: it wants a bare host (it refuses
// one starting with "http") and the scheme as Config.Protocol.
type endpoint struct {
	protocol string // "http" or "https"
	host     string // host[:port]
}

// validAccountID reports a numeric account id (it ends up in a host name).
func validAccountID(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// resolve returns the override, or the regional public endpoint over HTTPS
// (the SDK's own default protocol is plain HTTP). region and accountID end
// up in a host name, so they are checked first.
func (p *Publisher) resolve(region, accountID string) (endpoint, error) {
	if p.override != nil {
		return *p.override, nil
	}
	if !eventschema.ValidRegionID(region) {
		return endpoint{}, fmt.Errorf("publish: region %q is not a region id", region)
	}
	if !validAccountID(accountID) {
		return endpoint{}, fmt.Errorf("publish: account id %q is not numeric", accountID)
	}
	return endpoint{protocol: "https", host: accountID + ".eventbridge." + region + ".aliyuncs.com"}, nil
}

// isLoopback reports a host that must never go through an HTTP proxy (the
// SDK honours HTTP_PROXY even for 127.0.0.1).
func (e endpoint) isLoopback() bool {
	h := e.host
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
