package handler

import (
	"context"
	"sync"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/acssdk"
	"github.com/eni-detach/eni-detach/internal/crossaccount"
	"github.com/eni-detach/eni-detach/internal/detach"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// owner is the account an item is about (README, "One function for an
// organisation") and, when the function may not act there, the Refused
// error of its result. A CloudEvent is about its envelope's account
// (aliyunoriginalaccountid, else aliyunaccountid), and a custom request in
// it may name only that account; an HTTP or direct request is about its
// AccountId. Either defaults to the function's own account.
func (h *Handler) owner(inv invocation, it eventschema.Item) (string, *eventschema.ErrorInfo) {
	asked := it.Request.AccountID
	account := firstNonEmpty(asked, inv.accountID)
	if it.Trigger.Kind == eventschema.TriggerEventBridge {
		account = firstNonEmpty(it.AccountID, inv.accountID)
		if asked != "" && asked != account {
			return account, &eventschema.ErrorInfo{Code: detach.CodeGuardAccountMismatch,
				Message: "the request names account " + asked + " but the event is from account " + account +
					": an account can only ask about its own resources"}
		}
	}
	if account == inv.accountID {
		return account, nil
	}
	return account, h.notAllowed(account)
}

// notAllowed is why the function may not act in account, another account
// than its own; nil when it may. It is the one place that decides: the
// account guard refuses such targets before the engine, and accountClients
// never hands out credentials for them.
func (h *Handler) notAllowed(account string) *eventschema.ErrorInfo {
	cfg := h.d.Config
	switch {
	case cfg.TargetRoleARN == "":
		return &eventschema.ErrorInfo{Code: detach.CodeGuardAccountNotAllowed,
			Message: "account " + account + " is not the function's own and TARGET_ROLE_ARN is unset: the function acts in its own account only"}
	case !cfg.TargetAccounts.Allows(account):
		return &eventschema.ErrorInfo{Code: detach.CodeGuardAccountNotAllowed,
			Message: "account " + account + " is not in TARGET_ACCOUNTS"}
	}
	return nil
}

// accountClients gives the engine, per target, the ECS client of the
// account that owns its resources: the invocation's own credentials for
// the function's account, that account's assumed role for a member
// account (one client per account, so the engine batches its describes).
// It never hands out the function's own credentials for another account.
type accountClients struct {
	own   ecsapi.API
	inv   invocation
	h     *Handler
	mu    sync.Mutex
	other map[string]ecsapi.API // made on the first other account
}

var _ detach.Clients = (*accountClients)(nil)

func (h *Handler) clients(inv invocation) *accountClients {
	return &accountClients{own: h.d.ECS.Client(inv.creds), inv: inv, h: h}
}

func (c *accountClients) Client(_ context.Context, t detach.Target) ecsapi.API {
	if t.AccountID == c.inv.accountID {
		return c.own
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if api, ok := c.other[t.AccountID]; ok {
		return api
	}
	cfg := c.h.d.Config
	var api ecsapi.API
	if c.h.d.CrossAccount == nil || c.h.notAllowed(t.AccountID) != nil {
		// The account guard refused such targets before the engine; this
		// only keeps a mistake from ever reaching ECS.
		api = noCredentials{account: t.AccountID}
	} else {
		api = c.h.d.CrossAccount.Client(c.h.d.ECS, crossaccount.Request{
			Key:       crossaccount.Key{RoleARN: cfg.RoleARN(t.AccountID), ExternalID: cfg.TargetRoleExternalID},
			Caller:    c.inv.creds,
			Region:    firstNonEmpty(c.inv.region, t.RegionID),
			RequestID: c.inv.requestID,
		})
	}
	if c.other == nil {
		c.other = map[string]ecsapi.API{}
	}
	c.other[t.AccountID] = api
	return api
}

// noCredentials is the ECS of an account the function has no credentials
// for: every call fails, and none is made.
type noCredentials struct{ account string }

func (n noCredentials) err() error {
	return &ecsapi.Error{Service: acssdk.ServiceECS, Kind: ecsapi.KindClient, Code: ecsapi.CodeNoCredential,
		Message: "no credentials for account " + n.account}
}

func (n noCredentials) DescribeNetworkInterfaces(context.Context, ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	return ecsapi.DescribePage{}, n.err()
}

func (n noCredentials) DetachNetworkInterface(context.Context, ecsapi.DetachInput) (string, error) {
	return "", n.err()
}
