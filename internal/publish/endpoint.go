package publish

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
)

// endpoint is what the SDK needs apart: it wants a bare host (it refuses
// one starting with "http") and the scheme as Config.Protocol.
type endpoint struct {
	protocol string // "http" or "https"
	host     string // host[:port]
}

func parseEndpoint(v string) (endpoint, error) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return endpoint{}, fmt.Errorf("publish: endpoint %q is not of the form http(s)://host[:port]", v)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return endpoint{}, fmt.Errorf("publish: endpoint %q: the scheme must be http or https", v)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return endpoint{}, fmt.Errorf("publish: endpoint %q: only scheme, host and port are allowed", v)
	}
	return endpoint{protocol: u.Scheme, host: u.Host}, nil
}

var (
	regionPattern  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	accountPattern = regexp.MustCompile(`^[0-9]+$`)
)

// resolve returns the override, or the regional public endpoint over HTTPS
// (the SDK's own default protocol is plain HTTP). region and accountID end
// up in a host name, so they are checked first.
func (p *Publisher) resolve(region, accountID string) (endpoint, error) {
	if p.override != nil {
		return *p.override, nil
	}
	if !regionPattern.MatchString(region) {
		return endpoint{}, fmt.Errorf("publish: region %q is not a region id", region)
	}
	if !accountPattern.MatchString(accountID) {
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
