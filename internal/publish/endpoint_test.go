package publish

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/config"
)

func TestResolveEndpoint(t *testing.T) {
	tests := []struct {
		name, override, region, account string
		want                            endpoint
		wantErr                         bool
	}{
		{name: "regional default is https", region: "cn-hangzhou", account: "1234567890",
			want: endpoint{protocol: "https", host: "1234567890.eventbridge.cn-hangzhou.aliyuncs.com"}},
		{name: "override with http and port", override: "http://127.0.0.1:8082", region: "cn-hangzhou", account: "1",
			want: endpoint{protocol: "http", host: "127.0.0.1:8082"}},
		{name: "override with trailing slash", override: "https://eb.example.com/", region: "x", account: "1",
			want: endpoint{protocol: "https", host: "eb.example.com"}},
		{name: "region cannot inject a host", region: "cn-hangzhou.evil.com/", account: "1", wantErr: true},
		{name: "account must be numeric", region: "cn-hangzhou", account: "12a", wantErr: true},
		{name: "no scheme", override: "127.0.0.1:8082", wantErr: true},
		{name: "ftp scheme", override: "ftp://h", wantErr: true},
		{name: "path", override: "http://h/openapi", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// An override reaches the publisher through the one endpoint
			// parser (EVENTBRIDGE_ENDPOINT), which refuses malformed ones.
			var cfg Config
			if tc.override != "" {
				u, err := config.ParseEndpoint(tc.override)
				if (err != nil) != tc.wantErr {
					t.Fatalf("ParseEndpoint(%q) error = %v", tc.override, err)
				}
				if err != nil {
					return
				}
				cfg.Endpoint = u
			}
			p := New(cfg)
			if p.cfgErr != nil || cfg.Validate() != nil {
				t.Fatalf("config error = %v", p.cfgErr)
			}
			got, err := p.resolve(tc.region, tc.account)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("resolve = %+v, %v; want %+v (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestValidateRefusesAnUnusableEndpoint(t *testing.T) {
	for _, u := range []*url.URL{{Scheme: "ftp", Host: "h"}, {Scheme: "http"}} {
		if err := (Config{Endpoint: u}).Validate(); err == nil {
			t.Errorf("Validate accepted %v", u)
		}
		if p := New(Config{Endpoint: u}); p.cfgErr == nil {
			t.Errorf("New accepted %v", u)
		}
	}
}

func TestCallTimeout(t *testing.T) {
	tests := []struct {
		name   string
		left   time.Duration // 0: no deadline
		max    time.Duration
		want   time.Duration
		wantOK bool
	}{
		{name: "no deadline uses the cap", max: 10 * time.Second, want: 10 * time.Second, wantOK: true},
		{name: "far deadline uses the cap", left: time.Minute, max: 10 * time.Second, want: 10 * time.Second, wantOK: true},
		{name: "rounded down to a bucket", left: 2500 * time.Millisecond, max: 10 * time.Second, want: 2 * time.Second, wantOK: true},
		{name: "sub-second", left: 700 * time.Millisecond, max: 10 * time.Second, want: 500 * time.Millisecond, wantOK: true},
		{name: "too little left", left: 50 * time.Millisecond, max: 10 * time.Second, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.left > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.left)
				defer cancel()
			}
			got, ok := callTimeout(ctx, tc.max)
			if ok != tc.wantOK || (ok && got != tc.want) {
				t.Fatalf("callTimeout = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestRetryableCode(t *testing.T) {
	tests := map[string]bool{
		"InternalError": true, "ServiceUnavailable": true, "TooManyRequests": true, "Throttling.User": true,
		"SomethingNew": true, "EventBusNotExist": false, "InvalidArgument": false, "SignatureDoesNotMatch": false,
		"SecurityTokenInvalid": false, "StsAccessIdExpired": false, "AccessDenied": false, "EventsBatchSizeExceed": false,
	}
	for code, want := range tests {
		t.Run(code, func(t *testing.T) {
			if got := retryableCode(code); got != want {
				t.Fatalf("retryableCode(%q) = %v, want %v", code, got, want)
			}
		})
	}
}
