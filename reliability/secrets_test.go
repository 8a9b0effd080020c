package reliability_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/detach"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	ebemu "github.com/eni-detach/eni-detach/internal/emulator/eventbridge"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

// distinctiveCreds returns an STS triple whose secret and token look like
// real ones ('+', '/', '=' survive nowhere unencoded in a signed request),
// so that a leak is found in any spelling.
func distinctiveCreds(t *testing.T) creds.Credentials {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	r := hex.EncodeToString(b)
	return creds.Credentials{
		AccessKeyID:     "STS.NUrel" + r,
		AccessKeySecret: "Sk3t/" + r + "+SECRETvalue=",
		SecurityToken:   "CAIS+tok/" + r + "+TOKENvalue==",
	}
}

// signedFragment is a query or string-to-sign fragment that carries a
// signature or a token, in clear or percent-encoded once or twice.
var signedFragment = regexp.MustCompile(`(?i)(signature|securitytoken)(=|%3d|%253d)`)

// secretScenario is one invocation whose every output is scanned.
type secretScenario struct {
	name string
	o    opts
	// arm prepares the env (the env's credentials are registered with
	// both emulators) and returns the payload and the credentials the
	// invocation carries.
	arm func(t *testing.T, e *env, eni string) (payload string, inv creds.Credentials)
	// want must all appear in the outputs: proof that the failure happened.
	want []string
	// assumed: STS must have issued credentials (a member account's),
	// whose secret and token are then scanned for too.
	assumed bool
}

// crossAccount is the env of the cross-account scenarios.
var crossAccount = opts{crossAccount: true}

// member arms a scenario about an ENI of the member account, after arm.
func member(arm func(*testing.T, *env)) func(*testing.T, *env, string) (string, creds.Credentials) {
	return func(t *testing.T, e *env, _ string) (string, creds.Credentials) {
		eni := e.memberENI(t, "i-memcell")
		if arm != nil {
			arm(t, e)
		}
		return `{"NetworkInterfaceId":"` + eni + `","AccountId":"` + testenv.MemberAccount + `"}`, e.creds
	}
}

func secretScenarios() []secretScenario {
	plain := func(_ *testing.T, e *env, eni string) (string, creds.Credentials) {
		return eniRequest(eni, cellInstance), e.creds
	}
	viaHTTP := func(method, body string) func(*testing.T, *env, string) (string, creds.Credentials) {
		return func(_ *testing.T, e *env, eni string) (string, creds.Credentials) {
			if body == "" {
				body = eniRequest(eni, cellInstance)
			}
			return httpEvent(method, "http-req-1", body, false), e.creds
		}
	}
	armed := func(f func(e *env, eni string)) func(*testing.T, *env, string) (string, creds.Credentials) {
		return func(t *testing.T, e *env, eni string) (string, creds.Credentials) {
			f(e, eni)
			return plain(t, e, eni)
		}
	}
	return []secretScenario{
		{name: "success", arm: plain, want: []string{`"outcome":"Detached"`}},
		{name: "http/success", arm: viaHTTP("POST", ""), want: []string{`\"outcome\":\"Detached\"`}},
		{name: "http/405", arm: viaHTTP("GET", ""), want: []string{"MethodNotAllowed"}},
		{name: "http/400", arm: viaHTTP("POST", `{"NetworkInterfaceId":"bad"}`), want: []string{"InvalidRequest"}},
		{name: "http/503", arm: func(t *testing.T, e *env, eni string) (string, creds.Credentials) {
			e.ecs.Srv.InjectError("DetachNetworkInterface", "ServiceUnavailable", http.StatusServiceUnavailable, -1)
			return viaHTTP("POST", "")(t, e, eni)
		}, want: []string{`"statusCode":503`}},
		{name: "ecs/5xx", arm: armed(func(e *env, _ string) {
			e.ecs.Srv.InjectError("DetachNetworkInterface", "InternalError", http.StatusInternalServerError, -1)
		}), want: []string{"InternalError"}},
		{name: "ecs/reset", arm: armed(func(e *env, _ string) {
			// The SDK's transport errors quote the whole signed URL.
			e.ecs.Srv.InjectReset("DetachNetworkInterface", -1)
		}), want: []string{"Transport.Network"}},
		{name: "ecs/timeout", o: opts{maxCall: 200 * time.Millisecond}, arm: armed(func(e *env, _ string) {
			e.ecs.Srv.InjectHang("DescribeNetworkInterfaces", -1)
		}), want: []string{"Transport.Timeout"}},
		{name: "ecs/conflict", arm: func(t *testing.T, e *env, _ string) (string, creds.Credentials) {
			return eniRequest("eni-pcell", cellInstance), e.creds
		}, want: []string{"Guard.PrimaryNetworkInterface"}},
		{name: "ecs/needs-instance-stop", arm: armed(func(e *env, eni string) {
			_ = e.ecs.Srv.UpdateENI(eni, func(x *ecsemu.ENI) { x.TrafficMode = ecsemu.TrafficHighPerformance })
		}), want: []string{"EniHotPlugNotSupported"}},
		{name: "auth/wrong-secret", arm: func(t *testing.T, e *env, eni string) (string, creds.Credentials) {
			// ECS echoes its string to sign, which holds the token.
			wrong := e.creds
			wrong.AccessKeySecret = distinctiveCreds(t).AccessKeySecret
			return eniRequest(eni, cellInstance), wrong
		}, want: []string{"SignatureDoesNotMatch"}},
		{name: "auth/wrong-secret-for-ecs-only", arm: func(t *testing.T, e *env, eni string) (string, creds.Credentials) {
			// ECS knows the key with another secret, EventBridge with this
			// one: the PermissionDenied event, ECS's message in its data,
			// is published.
			other := e.creds
			other.AccessKeySecret = distinctiveCreds(t).AccessKeySecret
			e.ecs.Srv.AddCredentials(other)
			return eniRequest(eni, cellInstance), e.creds
		}, want: []string{`"published":1`, "SignatureDoesNotMatch"}},
		{name: "auth/expired-token", arm: armed(func(e *env, _ string) {
			e.ecs.Srv.ExpireCredentials(e.creds.AccessKeyID)
			e.eb.Srv.ExpireCredentials(e.creds.AccessKeyID)
		}), want: []string{"InvalidSecurityToken.Expired"}},
		{name: "auth/token-of-another-key", arm: func(t *testing.T, e *env, eni string) (string, creds.Credentials) {
			other := distinctiveCreds(t)
			e.ecs.Srv.AddCredentials(other)
			mixed := e.creds
			mixed.SecurityToken = other.SecurityToken
			return eniRequest(eni, cellInstance), mixed
		}, want: []string{"InvalidSecurityToken.MismatchWithAccessKey"}},
		{name: "auth/unknown-key", arm: func(t *testing.T, _ *env, eni string) (string, creds.Credentials) {
			return eniRequest(eni, cellInstance), distinctiveCreds(t)
		}, want: []string{"InvalidAccessKeyId.NotFound"}},
		{name: "publish/outage", arm: armed(func(e *env, _ string) {
			e.eb.Srv.InjectError(http.StatusInternalServerError, ebemu.CodeInternalError, 1000)
		}), want: []string{"follow-up events not published"}},
		{name: "publish/reset", arm: armed(func(e *env, _ string) { e.eb.Srv.InjectReset(1000) }), want: []string{"NetworkError"}},
		{name: "publish/partial", arm: armed(func(e *env, _ string) { e.eb.Srv.FailEntries(1, ebemu.CodeInvalidArgument) }),
			want: []string{"event(s) rejected"}},
		{name: "publish/expired-token", arm: armed(func(e *env, _ string) { e.eb.Srv.ExpireCredentials(e.creds.AccessKeyID) }),
			want: []string{ebemu.CodeStsAccessIDExpired}},
		{name: "publish/wrong-secret", arm: func(t *testing.T, e *env, eni string) (string, creds.Credentials) {
			// EventBridge knows the key with another secret; ECS with this one.
			other := e.creds
			other.AccessKeySecret = distinctiveCreds(t).AccessKeySecret
			e.eb.Srv.AddCredentials(other)
			return eniRequest(eni, cellInstance), e.creds
		}, want: []string{ebemu.CodeSignatureDoesNotMatch}},
		{name: "cross-account/detached", o: crossAccount, arm: member(nil), assumed: true,
			want: []string{`"accountId":"` + testenv.MemberAccount + `"`, `"outcome":"Detached"`}},
		{name: "cross-account/ecs-echoes-the-assumed-token", o: crossAccount, assumed: true, arm: member(func(t *testing.T, e *env) {
			// STS answers late; meanwhile ECS is made to know the issued
			// key with another secret, so the ECS call signed with the
			// assumed credentials is refused with ECS's echo of its string
			// to sign, which holds the assumed token.
			e.sts.Srv.InjectLatency("AssumeRole", 500*time.Millisecond, 1)
			go func() {
				for range 200 {
					for _, c := range e.sts.Srv.Calls() {
						if c.Issued == "" {
							continue
						}
						wrong := c.IssuedCredentials
						wrong.AccessKeySecret = distinctiveCreds(t).AccessKeySecret
						_ = e.ecs.Srv.Identity().AddKey(identity.Key{Credentials: wrong, Principal: identity.Principal{
							Account: testenv.MemberAccount, Kind: identity.KindRoleSession, Name: testenv.MemberRoleName,
							Session: c.Params["RoleSessionName"]}})
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}), want: []string{"SignatureDoesNotMatch", `"accountId":"` + testenv.MemberAccount + `"`}},
		{name: "cross-account/sts-echoes-the-invocation-token", o: crossAccount, arm: member(func(t *testing.T, e *env) {
			// STS (and ECS, which shares its accounts) know the invocation's
			// key with another secret; EventBridge with this one.
			other := e.creds
			other.AccessKeySecret = distinctiveCreds(t).AccessKeySecret
			e.ecs.Srv.AddCredentials(other)
		}), want: []string{"SignatureDoesNotMatch", `"published":1`}},
		{name: "cross-account/sts-timeout", o: crossAccount, arm: member(func(_ *testing.T, e *env) {
			e.sts.Srv.InjectHang("AssumeRole", -1)
		}), want: []string{"Transport.Timeout"}},
		{name: "sts/expires-mid-invocation",
			o: opts{policy: func(p *detach.Policy) { p.Poll.First = 150 * time.Millisecond }},
			arm: func(t *testing.T, e *env, eni string) (string, creds.Credentials) {
				editENI(t, e, eni, func(x *ecsemu.ENI) { x.DetachDelay = 1500 * time.Millisecond })
				stop := make(chan struct{})
				t.Cleanup(func() { close(stop) })
				go expireOnceDetached(true)(e, nil, stop)
				return eniRequest(eni, cellInstance), e.creds
			}, want: []string{"InvalidSecurityToken.Expired"}},
	}
}

// TestSecretsNeverLeave runs one invocation per scenario with distinctive
// credentials and scans every log line, the value returned to FC, the
// returned error and every event EventBridge stored for the secret and
// the token in any spelling, and for signed-request fragments.
func TestSecretsNeverLeave(t *testing.T) {
	for _, sc := range secretScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sc.o)
			e.useCreds(distinctiveCreds(t))
			eni := e.ecs.Instance(t, cellInstance, 1)[0]
			payload, inv := sc.arm(t, e, eni)
			o := e.invokeWith(t, "req-secret", inv, payload, 5*time.Second)

			var corpus []text
			corpus = append(corpus, logTexts(t, e.logs.String())...)
			corpus = append(corpus, text{"returned value", marshalPlain(t, o.out)})
			if o.err != nil {
				corpus = append(corpus, text{"returned error", o.err.Error()})
			}
			for i, r := range e.eb.Srv.Events() {
				corpus = append(corpus, text{"event " + strconv.Itoa(i), string(r.Event)})
			}
			all := strings.Join(textsOf(corpus), "\n")
			for _, w := range sc.want {
				if !strings.Contains(all, w) {
					t.Fatalf("the scenario did not happen: %q is in no output\n%s", w, marshalPlain(t, o.out))
				}
			}
			assumed := e.assumedCreds()
			if sc.assumed && len(assumed) == 0 {
				t.Fatal("the scenario did not happen: STS issued no credentials")
			}
			var secrets []string
			for _, c := range append([]creds.Credentials{e.creds, inv}, assumed...) {
				for _, s := range c.Secrets() {
					for _, f := range secretForms(s) {
						if !slices.Contains(secrets, f) {
							secrets = append(secrets, f)
						}
					}
				}
			}
			for _, tx := range corpus {
				for _, s := range secrets {
					if strings.Contains(tx.s, s) {
						t.Errorf("%s leaks %q: %.400s", tx.where, s, tx.s)
					}
				}
				if m := signedFragment.FindString(tx.s); m != "" {
					t.Errorf("%s holds a signed-request fragment %q: %.400s", tx.where, m, tx.s)
				}
			}
		})
	}
}

type text struct{ where, s string }

func textsOf(ts []text) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.s
	}
	return out
}

// logTexts returns each log line, and each string in it decoded, so that
// a JSON escape cannot hide a secret from the scan.
func logTexts(t *testing.T, logs string) []text {
	t.Helper()
	var out []text
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("nothing was logged")
	}
	for i, line := range lines {
		where := "log line " + strconv.Itoa(i)
		out = append(out, text{where, line})
		var v any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		for _, s := range stringsIn(v) {
			out = append(out, text{where + " (decoded)", s})
		}
	}
	return out
}

func stringsIn(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, stringsIn(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, e := range x {
			out = append(out, stringsIn(e)...)
		}
		return out
	}
	return nil
}

// marshalPlain is JSON without HTML escaping ('&' stays '&').
func marshalPlain(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	mustOK(t, enc.Encode(v))
	return b.String()
}
