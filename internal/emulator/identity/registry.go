// Package identity is the emulated cloud's RAM: accounts, access keys and
// the principals they belong to, roles with their trust and permission
// policies, and the signature-v1 verifier every emulated RPC service
// authenticates requests with. One Registry is shared by the ECS and STS
// emulators of a test, so credentials STS issues are accepted by ECS, for
// their account and within their session policy.
package identity

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
)

// DefaultAccount owns the keys and resources that name no account.
const DefaultAccount = "1234567890123456"

// DefaultRoleName is the role of the sessions AddCredentials registers for
// STS keys: the function's own role, as FC hands it to invocations.
const DefaultRoleName = "eni-detach"

var accountPattern = regexp.MustCompile(`^[0-9]{16}$`)

// ValidAccount reports whether id has the form of an account id.
func ValidAccount(id string) bool { return accountPattern.MatchString(id) }

// Kind is what sort of RAM identity a principal is.
type Kind string

// Principal kinds.
const (
	KindRoot        Kind = "root"
	KindUser        Kind = "user"
	KindRoleSession Kind = "assumed-role"
)

// Principal is who owns an access key.
type Principal struct {
	Account string
	Kind    Kind
	// Name is the user's name, or the role's name for a role session.
	Name string
	// Session is a role session's name.
	Session string
}

// ARN names the principal as ActionTrail and AssumedRoleUser.Arn do.
func (p Principal) ARN() string {
	switch p.Kind {
	case KindUser:
		return "acs:ram::" + p.Account + ":user/" + p.Name
	case KindRoleSession:
		return "acs:ram::" + p.Account + ":assumed-role/" + p.Name + "/" + p.Session
	}
	return "acs:ram::" + p.Account + ":root"
}

// RoleARN is the ARN of a role session's role, "" for other principals.
func (p Principal) RoleARN() string {
	if p.Kind != KindRoleSession {
		return ""
	}
	return RoleARN(p.Account, p.Name)
}

// RoleARN spells a role's ARN.
func RoleARN(account, name string) string { return "acs:ram::" + account + ":role/" + name }

// Role is a RAM role that STS issues sessions of.
type Role struct {
	Account string
	Name    string
	// Trust is the role's trust policy: who may assume it.
	Trust *Policy
	// Policy is what the role's attached policies allow; nil allows
	// nothing. Sessions get it intersected with their session policy.
	Policy *Policy
	// MaxSessionDuration bounds DurationSeconds; 0 means RAM's default,
	// one hour.
	MaxSessionDuration time.Duration
	// ID is RAM's numeric role id (AssumedRoleUser.AssumedRoleId starts
	// with it); AddRole makes one up when it is empty.
	ID string
}

// ARN is the role's ARN.
func (r Role) ARN() string { return RoleARN(r.Account, r.Name) }

// DefaultMaxSessionDuration is RAM's default MaxSessionDuration.
const DefaultMaxSessionDuration = time.Hour

// TrustingRole returns a role of account that trusts exactly the principal
// trusted (an ARN such as a central function's role), requiring externalID
// when it is not empty, and whose permission policy allows actions on any
// resource: the member-account role of a cross-account set-up.
func TrustingRole(account, name, trusted, externalID string, actions []string) (Role, error) {
	st := map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"RAM": []string{trusted}}}
	if externalID != "" {
		st["Condition"] = map[string]any{"StringEquals": map[string]any{"sts:ExternalId": externalID}}
	}
	trustDoc, err := json.Marshal(map[string]any{"Version": "1", "Statement": []any{st}})
	if err != nil {
		return Role{}, err
	}
	trust, err := ParseTrustPolicy(trustDoc)
	if err != nil {
		return Role{}, err
	}
	permDoc, err := json.Marshal(map[string]any{"Version": "1", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": actions, "Resource": "*"}}})
	if err != nil {
		return Role{}, err
	}
	perm, err := ParsePolicy(permDoc)
	if err != nil {
		return Role{}, err
	}
	return Role{Account: account, Name: name, Trust: trust, Policy: perm}, nil
}

// Key is a registered access key.
type Key struct {
	Credentials creds.Credentials
	Principal   Principal
	// Policies must each allow an action for the key to call it (the
	// principal's own policies, a session policy). None: the key may call
	// everything, unless it is a session of a registered role, whose
	// Policy then applies as well.
	Policies []*Policy
	// Expiry, on the verifying server's clock; zero means never.
	Expiry time.Time

	expired bool // Expire was called
	issued  bool // issued by STS: its role's policy always applies
}

// isSTS reports whether the key is a temporary one that needs its token.
func (k *Key) isSTS() bool {
	return k.Credentials.SecurityToken != "" || strings.HasPrefix(k.Credentials.AccessKeyID, "STS.")
}

func (k *Key) isExpired(now time.Time) bool {
	return k.expired || (!k.Expiry.IsZero() && !now.Before(k.Expiry))
}

// Registry holds accounts' keys and roles. It is safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	keys    map[string]*Key   // by AccessKeyId
	tokens  map[string]string // security token → the AccessKeyId it belongs to
	roles   map[string]*Role  // by lower-cased ARN (RAM role names are case-insensitive)
	account string
}

// New returns an empty registry whose default account is DefaultAccount.
func New() *Registry {
	return &Registry{keys: map[string]*Key{}, tokens: map[string]string{}, roles: map[string]*Role{}, account: DefaultAccount}
}

// DefaultAccount is the account of keys and resources that name none.
func (r *Registry) DefaultAccount() string { return r.account }

// AddKey registers a key; re-adding an AccessKeyId replaces it. An empty
// Principal.Account means the default account, an empty Kind a user.
func (r *Registry) AddKey(k Key) error {
	if k.Principal.Account == "" {
		k.Principal.Account = r.account
	}
	if k.Principal.Kind == "" {
		k.Principal.Kind = KindUser
	}
	if !ValidAccount(k.Principal.Account) {
		return fmt.Errorf("identity: account %q is not 16 digits", k.Principal.Account)
	}
	if !k.Credentials.Valid() {
		return fmt.Errorf("identity: key without id or secret")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.keys[k.Credentials.AccessKeyID]; ok && old.Credentials.SecurityToken != "" {
		delete(r.tokens, old.Credentials.SecurityToken)
	}
	k.expired = false
	r.keys[k.Credentials.AccessKeyID] = &k
	if k.Credentials.SecurityToken != "" {
		r.tokens[k.Credentials.SecurityToken] = k.Credentials.AccessKeyID
	}
	return nil
}

// DefaultPrincipal is who AddCredentials makes c belong to: for an STS
// triple, a session of the function's role (DefaultRoleName) in the
// default account; for a long-term key, a user of it.
func (r *Registry) DefaultPrincipal(c creds.Credentials) Principal {
	k := Key{Credentials: c}
	if k.isSTS() {
		return Principal{Account: r.account, Kind: KindRoleSession, Name: DefaultRoleName, Session: "fc-invocation"}
	}
	return Principal{Account: r.account, Kind: KindUser, Name: "test"}
}

// AddCredentials registers c for DefaultPrincipal(c), without policies,
// expiring at expiry (zero: never).
func (r *Registry) AddCredentials(c creds.Credentials, expiry time.Time) {
	// The default principal is always valid: only a key without a
	// secret can fail, and that is the caller's bug to see at its first
	// call, which answers InvalidAccessKeyId.NotFound.
	_ = r.AddKey(Key{Credentials: c, Principal: r.DefaultPrincipal(c), Expiry: expiry})
}

// Expire makes a registered key expire now (an STS token that runs out in
// the middle of an invocation). It reports whether the key was known.
func (r *Registry) Expire(accessKeyID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.keys[accessKeyID]
	if ok {
		k.expired = true
	}
	return ok
}

// AddRole registers (or replaces) a role.
func (r *Registry) AddRole(role Role) error {
	if !ValidAccount(role.Account) {
		return fmt.Errorf("identity: role account %q is not 16 digits", role.Account)
	}
	if role.Name == "" || role.Trust == nil {
		return fmt.Errorf("identity: role %q needs a name and a trust policy", role.Name)
	}
	if role.MaxSessionDuration == 0 {
		role.MaxSessionDuration = DefaultMaxSessionDuration
	}
	if role.ID == "" {
		role.ID = "3" + randomString(17, "0123456789")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.roles[strings.ToLower(role.ARN())] = &role
	return nil
}

// RemoveRole deletes a role; sessions issued for it can do nothing more.
func (r *Registry) RemoveRole(arn string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.roles[strings.ToLower(arn)]
	delete(r.roles, strings.ToLower(arn))
	return ok
}

// Role returns the role named by arn.
func (r *Registry) Role(arn string) (Role, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	role, ok := r.roles[strings.ToLower(arn)]
	if !ok {
		return Role{}, false
	}
	return *role, true
}

// Issue creates and registers the credentials of a new session of role,
// restricted by sessionPolicy (nil: the role's permissions only), valid
// until expiry. STS calls it after every check passed.
func (r *Registry) Issue(role Role, session string, sessionPolicy *Policy, expiry time.Time) (creds.Credentials, Principal) {
	c := creds.Credentials{
		AccessKeyID:     "STS.NU" + randomString(12, hexAlphabet),
		AccessKeySecret: randomString(30, base64Alphabet),
		// Real tokens are long base64 blobs starting "CAIS"; '+', '/'
		// and '=' in them test that every encoded spelling is redacted.
		SecurityToken: "CAIS" + randomString(180, base64Alphabet) + "==",
	}
	p := Principal{Account: role.Account, Kind: KindRoleSession, Name: role.Name, Session: session}
	k := Key{Credentials: c, Principal: p, Expiry: expiry, issued: true}
	if sessionPolicy != nil {
		k.Policies = []*Policy{sessionPolicy}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[c.AccessKeyID] = &k
	r.tokens[c.SecurityToken] = c.AccessKeyID
	return c, p
}

// policiesLocked is every policy that must allow a call of k: its own,
// and its role's for a session of a registered role (or of a role that
// issued it and is gone: then nothing is allowed).
func (r *Registry) policiesLocked(k *Key) []*Policy {
	out := append([]*Policy(nil), k.Policies...)
	if k.Principal.Kind != KindRoleSession {
		return out
	}
	role, ok := r.roles[strings.ToLower(k.Principal.RoleARN())]
	switch {
	case ok && role.Policy != nil:
		out = append(out, role.Policy)
	case ok || k.issued:
		out = append(out, &Policy{})
	}
	return out
}

const (
	hexAlphabet    = "0123456789abcdef"
	base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
