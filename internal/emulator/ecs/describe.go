package ecs

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	maxIDsPerDescribe = 100
	maxTagFilters     = 20
	defaultMaxResults = 10
	maxMaxResults     = 500
	maxPageSize       = 100
)

// eniFilter is the parsed filter of a DescribeNetworkInterfaces call.
type eniFilter struct {
	account    string // the caller's: other accounts' ENIs do not exist for it
	region     string
	ids        map[string]bool // nil: no id filter
	instanceID string
	typ        string
	status     string
	vpcID      string
	tags       map[string]*string // nil value: key alone, any value
}

func (f *eniFilter) match(e *ENI) bool {
	switch {
	case e.Account != f.account,
		e.Region != f.region,
		f.ids != nil && !f.ids[e.ID],
		f.typ != "" && e.Type != f.typ,
		f.status != "" && e.Status != f.status,
		f.vpcID != "" && e.VpcID != f.vpcID:
		return false
	}
	// The top-level InstanceId is what filters: a member ENI reports its
	// instance only in Attachment, so it never matches.
	if f.instanceID != "" && (e.Type == ENIMember || e.InstanceID != f.instanceID) {
		return false
	}
	for k, want := range f.tags {
		got, ok := e.Tags[k]
		if !ok || (want != nil && got != *want) {
			return false
		}
	}
	return true
}

// fingerprint binds a NextToken to the filter it was issued for, so a token
// replayed with other filters is refused like a forged one.
func (f *eniFilter) fingerprint(salt []byte) string {
	var b strings.Builder
	b.Write(salt)
	b.WriteString("|" + f.account + "|" + f.region + "|" + f.instanceID + "|" + f.typ + "|" + f.status + "|" + f.vpcID + "|")
	ids := make([]string, 0, len(f.ids))
	for id := range f.ids {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	b.WriteString(strings.Join(ids, ","))
	keys := make([]string, 0, len(f.tags))
	for k := range f.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("|" + k + "=")
		if v := f.tags[k]; v != nil {
			b.WriteString("=" + *v)
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

// NextToken is keyset-based (the last ENI id returned), so ENIs added or
// detached between pages neither repeat nor vanish from the walk.
func encodeToken(lastID, fp string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fp + ":" + lastID))
}

func decodeToken(tok, fp string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", false
	}
	got, lastID, ok := strings.Cut(string(raw), ":")
	if !ok || got != fp || lastID == "" {
		return "", false
	}
	return lastID, true
}

func (s *Server) checkRegion(p map[string]string) *apiError {
	region := p["RegionId"]
	if region == "" {
		return errMissing("RegionId")
	}
	if !s.regions[region] {
		return newErr(http.StatusNotFound, "InvalidRegionId.NotFound", "The specified RegionId %q does not exist.", region)
	}
	return nil
}

// indexedParams returns the values of prefix.N keys (N a positive integer),
// ordered by N.
func indexedParams(p map[string]string, prefix string) map[int]string {
	out := map[int]string{}
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(rest); err == nil && n > 0 {
			out[n] = v
		}
	}
	return out
}

func parseENIFilter(account string, p map[string]string) (*eniFilter, *apiError) {
	f := &eniFilter{
		account:    account,
		region:     p["RegionId"],
		instanceID: p["InstanceId"],
		typ:        p["Type"],
		status:     p["Status"],
		vpcID:      p["VpcId"],
	}
	if f.typ != "" {
		if err := oneOf("Type", f.typ, eniTypes); err != nil {
			return nil, errInvalidParam("Type", err.Error())
		}
	}
	if f.status != "" {
		if err := oneOf("Status", f.status, eniStatuses); err != nil {
			return nil, errInvalidParam("Status", err.Error())
		}
	}
	if ids := indexedParams(p, "NetworkInterfaceId"); len(ids) > 0 {
		if len(ids) > maxIDsPerDescribe {
			return nil, errInvalidParam("NetworkInterfaceId.N", "at most 100 ids may be given")
		}
		f.ids = map[string]bool{}
		for _, id := range ids {
			f.ids[id] = true
		}
	}
	keys := map[int]string{}
	values := map[int]string{}
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, "Tag.")
		if !ok {
			continue
		}
		nStr, field, ok := strings.Cut(rest, ".")
		n, err := strconv.Atoi(nStr)
		if !ok || err != nil || n < 1 {
			return nil, errInvalidParam(k, "expected Tag.N.Key or Tag.N.Value")
		}
		switch field {
		case "Key":
			keys[n] = v
		case "Value":
			values[n] = v
		default:
			return nil, errInvalidParam(k, "expected Tag.N.Key or Tag.N.Value")
		}
	}
	if len(keys) > maxTagFilters {
		return nil, errInvalidParam("Tag.N.Key", "at most 20 tags may be given")
	}
	for n := range values {
		if keys[n] == "" {
			return nil, errInvalidParam("Tag."+strconv.Itoa(n)+".Key", "a tag value needs its key")
		}
	}
	if len(keys) > 0 {
		f.tags = map[string]*string{}
		for n, k := range keys {
			if k == "" {
				return nil, errInvalidParam("Tag."+strconv.Itoa(n)+".Key", "empty tag key")
			}
			if v, ok := values[n]; ok {
				f.tags[k] = &v
			} else {
				f.tags[k] = nil
			}
		}
	}
	return f, nil
}

// intParam parses an optional integer parameter within [lo, hi].
func intParam(p map[string]string, name string, def, lo, hi int) (int, *apiError) {
	raw, ok := p[name]
	if !ok || raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, errInvalidParam(name, "must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

func (s *Server) describeNetworkInterfaces(account string, p map[string]string, now time.Time) (any, *apiError) {
	if err := s.checkRegion(p); err != nil {
		return nil, err
	}
	f, aerr := parseENIFilter(account, p)
	if aerr != nil {
		return nil, aerr
	}
	var matched []*ENI
	for _, st := range s.settledENIsLocked(now) {
		if f.match(&st.ENI) {
			matched = append(matched, &st.ENI)
		}
	}
	resp := &describeENIsResponse{TotalCount: len(matched)}
	resp.NetworkInterfaceSets.NetworkInterfaceSet = []eniJSON{}

	var page []*ENI
	_, legacy := p["PageNumber"]
	if _, ok := p["PageSize"]; ok {
		legacy = true
	}
	if _, ok := p["MaxResults"]; ok {
		legacy = false
	}
	if _, ok := p["NextToken"]; ok {
		legacy = false
	}
	if legacy {
		num, err := intParam(p, "PageNumber", 1, 1, 1<<30)
		if err != nil {
			return nil, err
		}
		size, err := intParam(p, "PageSize", defaultMaxResults, 1, maxPageSize)
		if err != nil {
			return nil, err
		}
		resp.PageNumber, resp.PageSize = num, size
		if from := (num - 1) * size; from < len(matched) {
			page = matched[from:min(from+size, len(matched))]
		}
	} else {
		maxResults, err := intParam(p, "MaxResults", defaultMaxResults, 1, maxMaxResults)
		if err != nil {
			return nil, err
		}
		fp := f.fingerprint(s.tokenSalt[:])
		from := 0
		if tok := p["NextToken"]; tok != "" {
			lastID, ok := decodeToken(tok, fp)
			if !ok {
				return nil, errInvalidParam("NextToken", "the token is not valid for this request")
			}
			from = sort.Search(len(matched), func(i int) bool { return matched[i].ID > lastID })
		}
		page = matched[from:min(from+maxResults, len(matched))]
		if from+maxResults < len(matched) {
			resp.NextToken = encodeToken(page[len(page)-1].ID, fp)
		}
	}
	for _, e := range page {
		resp.NetworkInterfaceSets.NetworkInterfaceSet = append(resp.NetworkInterfaceSets.NetworkInterfaceSet, renderENI(e))
	}
	return resp, nil
}

func (s *Server) describeNetworkInterfaceAttribute(account string, p map[string]string, now time.Time) (any, *apiError) {
	if err := s.checkRegion(p); err != nil {
		return nil, err
	}
	id := p["NetworkInterfaceId"]
	if id == "" {
		return nil, errMissing("NetworkInterfaceId")
	}
	st, ok := s.enis[id]
	if !ok || st.Account != account || st.Region != p["RegionId"] {
		return nil, errENINotFound(id)
	}
	st.settle(now, s.detachDelay)
	return &describeENIAttributeResponse{eniJSON: renderENI(&st.ENI)}, nil
}
