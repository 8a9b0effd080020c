package ecs

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	sdkecs "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// describeFixture: two instances in cn-hangzhou, one ENI in another region.
func describeFixture(t *testing.T, s *Server) {
	t.Helper()
	mustAddInstance(t, s, Instance{ID: "i-one"})
	mustAddInstance(t, s, Instance{ID: "i-two"})
	for _, e := range []ENI{
		{ID: "eni-p1", Type: ENIPrimary, InstanceID: "i-one", VpcID: "vpc-a", VSwitchID: "vsw-a", ZoneID: "cn-hangzhou-h"},
		{ID: "eni-s1", InstanceID: "i-one", VpcID: "vpc-a", Tags: map[string]string{"team": "sre", "env": "prod"}},
		{ID: "eni-s2", InstanceID: "i-one", VpcID: "vpc-a", Tags: map[string]string{"team": "dev"}},
		{ID: "eni-s3", InstanceID: "i-two", VpcID: "vpc-b", Tags: map[string]string{"team": "sre"}},
		{ID: "eni-free", VpcID: "vpc-b"},
		{ID: "eni-trunk", Type: ENITrunk, InstanceID: "i-two", VpcID: "vpc-b"},
		{ID: "eni-member", Type: ENIMember, InstanceID: "i-two", TrunkID: "eni-trunk", VpcID: "vpc-b"},
		{ID: "eni-managed", InstanceID: "i-two", ServiceManaged: true, TrafficMode: TrafficHighPerformance},
		{ID: "eni-far", Region: "cn-beijing", InstanceID: "i-far"},
	} {
		mustAddENI(t, s, e)
	}
}

func ids(sets []sdkecs.NetworkInterfaceSet) []string {
	var out []string
	for _, e := range sets {
		out = append(out, e.NetworkInterfaceId)
	}
	return out
}

func TestDescribeFilters(t *testing.T) {
	s := startServer(t)
	describeFixture(t, s)
	c := newClient(t, s.Addr(), stsCreds)
	tags := func(kv ...string) *[]sdkecs.DescribeNetworkInterfacesTag {
		var out []sdkecs.DescribeNetworkInterfacesTag
		for i := 0; i < len(kv); i += 2 {
			out = append(out, sdkecs.DescribeNetworkInterfacesTag{Key: kv[i], Value: kv[i+1]})
		}
		return &out
	}
	cases := []struct {
		name string
		mut  func(*sdkecs.DescribeNetworkInterfacesRequest)
		want []string
	}{
		{"region only, sorted by id", nil,
			[]string{"eni-free", "eni-managed", "eni-member", "eni-p1", "eni-s1", "eni-s2", "eni-s3", "eni-trunk"}},
		{"other region", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.RegionId = "cn-beijing" }, []string{"eni-far"}},
		{"ids", func(r *sdkecs.DescribeNetworkInterfacesRequest) {
			r.NetworkInterfaceId = &[]string{"eni-s2", "eni-p1", "eni-nope", "eni-far"}
		}, []string{"eni-p1", "eni-s2"}},
		{"instance and type", func(r *sdkecs.DescribeNetworkInterfacesRequest) {
			r.InstanceId, r.Type = "i-one", ENISecondary
		}, []string{"eni-s1", "eni-s2"}},
		{"instance excludes members", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.InstanceId = "i-two" },
			[]string{"eni-managed", "eni-s3", "eni-trunk"}},
		{"status", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.Status = ENIAvailable }, []string{"eni-free"}},
		{"vpc", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.VpcId = "vpc-a" }, []string{"eni-p1", "eni-s1", "eni-s2"}},
		{"tag key and value", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.Tag = tags("team", "sre") },
			[]string{"eni-s1", "eni-s3"}},
		{"tag key alone", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.Tag = tags("team", "") },
			[]string{"eni-s1", "eni-s2", "eni-s3"}},
		{"two tags", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.Tag = tags("team", "sre", "env", "prod") },
			[]string{"eni-s1"}},
		{"nothing", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.InstanceId = "i-nobody" }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.DescribeNetworkInterfaces(describeReq(tc.mut))
			if err != nil {
				t.Fatal(err)
			}
			got := ids(resp.NetworkInterfaceSets.NetworkInterfaceSet)
			if !slices.Equal(got, tc.want) || resp.TotalCount != len(tc.want) || resp.NextToken != "" {
				t.Fatalf("got %v (total %d, next %q), want %v", got, resp.TotalCount, resp.NextToken, tc.want)
			}
			if !requestIDPattern.MatchString(resp.RequestId) {
				t.Fatalf("RequestId %q", resp.RequestId)
			}
		})
	}
}

func TestDescribeRendering(t *testing.T) {
	s := startServer(t)
	describeFixture(t, s)
	c := newClient(t, s.Addr(), stsCreds)
	resp, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
		r.NetworkInterfaceId = &[]string{"eni-member", "eni-s1", "eni-managed", "eni-p1"}
	}))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]sdkecs.NetworkInterfaceSet{}
	for _, e := range resp.NetworkInterfaceSets.NetworkInterfaceSet {
		byID[e.NetworkInterfaceId] = e
	}
	m := byID["eni-member"]
	if m.InstanceId != "" || m.Attachment.InstanceId != "i-two" || m.Attachment.TrunkNetworkInterfaceId != "eni-trunk" || m.Type != ENIMember {
		t.Fatalf("member %+v", m)
	}
	s1 := byID["eni-s1"]
	if s1.InstanceId != "i-one" || s1.Status != ENIInUse || s1.Type != ENISecondary || s1.VpcId != "vpc-a" ||
		s1.NetworkInterfaceTrafficMode != TrafficStandard || s1.ServiceManaged {
		t.Fatalf("s1 %+v", s1)
	}
	gotTags := s1.Tags.Tag
	if len(gotTags) != 2 || gotTags[0].TagKey != "env" || gotTags[0].TagValue != "prod" || gotTags[1].TagKey != "team" || gotTags[1].TagValue != "sre" {
		t.Fatalf("tags %+v", gotTags)
	}
	mg := byID["eni-managed"]
	if !mg.ServiceManaged || mg.NetworkInterfaceTrafficMode != TrafficHighPerformance {
		t.Fatalf("managed %+v", mg)
	}
	p1 := byID["eni-p1"]
	if p1.Type != ENIPrimary || p1.VSwitchId != "vsw-a" || p1.ZoneId != "cn-hangzhou-h" {
		t.Fatalf("primary %+v", p1)
	}

	attr := sdkecs.CreateDescribeNetworkInterfaceAttributeRequest()
	attr.Scheme, attr.RegionId, attr.NetworkInterfaceId = "HTTP", DefaultRegion, "eni-member"
	a, err := c.DescribeNetworkInterfaceAttribute(attr)
	if err != nil {
		t.Fatal(err)
	}
	if a.NetworkInterfaceId != "eni-member" || a.Attachment.TrunkNetworkInterfaceId != "eni-trunk" || a.Status != ENIInUse || a.RequestId == "" {
		t.Fatalf("attribute %+v", a)
	}
	attr = sdkecs.CreateDescribeNetworkInterfaceAttributeRequest()
	attr.Scheme, attr.RegionId, attr.NetworkInterfaceId = "HTTP", DefaultRegion, "eni-far" // other region
	_, err = c.DescribeNetworkInterfaceAttribute(attr)
	wantServerError(t, err, "InvalidEniId.NotFound", 404)
}

func TestDescribePaging(t *testing.T) {
	s := startServer(t)
	var all []string
	for i := range 250 {
		id := fmt.Sprintf("eni-page%04d", i)
		all = append(all, id)
		mustAddENI(t, s, ENI{ID: id, InstanceID: "i-paged"})
	}
	mustAddENI(t, s, ENI{ID: "eni-other", InstanceID: "i-else"})
	c := newClient(t, s.Addr(), stsCreds)

	var got []string
	var pages []int
	token := ""
	for {
		resp, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
			r.InstanceId = "i-paged"
			r.MaxResults = requests.NewInteger(100)
			r.NextToken = token
		}))
		if err != nil {
			t.Fatal(err)
		}
		if resp.TotalCount != 250 {
			t.Fatalf("TotalCount %d", resp.TotalCount)
		}
		pages = append(pages, len(resp.NetworkInterfaceSets.NetworkInterfaceSet))
		got = append(got, ids(resp.NetworkInterfaceSets.NetworkInterfaceSet)...)
		token = resp.NextToken
		if token == "" || len(pages) > 10 {
			break
		}
	}
	if !slices.Equal(pages, []int{100, 100, 50}) || !slices.Equal(got, all) {
		t.Fatalf("pages %v, %d ids", pages, len(got))
	}

	t.Run("default page size is 10", func(t *testing.T) {
		resp, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.InstanceId = "i-paged" }))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.NetworkInterfaceSets.NetworkInterfaceSet) != 10 || resp.NextToken == "" {
			t.Fatalf("%d sets, next %q", len(resp.NetworkInterfaceSets.NetworkInterfaceSet), resp.NextToken)
		}
	})
	t.Run("legacy PageNumber/PageSize", func(t *testing.T) {
		resp, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
			r.InstanceId = "i-paged"
			r.PageNumber = requests.NewInteger(3)
			r.PageSize = requests.NewInteger(100)
		}))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(resp.NetworkInterfaceSets.NetworkInterfaceSet), all[200:]) || resp.PageNumber != 3 || resp.PageSize != 100 || resp.TotalCount != 250 {
			t.Fatalf("page 3: %d sets, %d/%d/%d", len(resp.NetworkInterfaceSets.NetworkInterfaceSet), resp.PageNumber, resp.PageSize, resp.TotalCount)
		}
	})
	t.Run("token survives ENIs changing between pages", func(t *testing.T) {
		first, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
			r.InstanceId = "i-paged"
			r.MaxResults = requests.NewInteger(100)
		}))
		if err != nil {
			t.Fatal(err)
		}
		s.RemoveENI("eni-page0000") // already returned: must not shift the next page
		defer mustAddENI(t, s, ENI{ID: "eni-page0000", InstanceID: "i-paged"})
		second, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
			r.InstanceId = "i-paged"
			r.MaxResults = requests.NewInteger(100)
			r.NextToken = first.NextToken
		}))
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(second.NetworkInterfaceSets.NetworkInterfaceSet); !slices.Equal(got, all[100:200]) {
			t.Fatalf("second page starts at %s", got[0])
		}
	})
}

func TestDescribeParameterErrors(t *testing.T) {
	s := startServer(t)
	mustAddENI(t, s, ENI{ID: "eni-a", InstanceID: "i-a"})
	mustAddENI(t, s, ENI{ID: "eni-b", InstanceID: "i-a"})
	c := newClient(t, s.Addr(), stsCreds)
	first, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
		r.MaxResults = requests.NewInteger(1)
	}))
	if err != nil || first.NextToken == "" {
		t.Fatalf("%v %+v", err, first)
	}
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprintf("eni-x%d", i))
	}
	cases := []struct {
		name       string
		mut        func(*sdkecs.DescribeNetworkInterfacesRequest)
		wantCode   string
		wantStatus int
	}{
		{"101 ids", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.NetworkInterfaceId = &many }, "InvalidParameter", 400},
		{"MaxResults 0", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.MaxResults = "0" }, "InvalidParameter", 400},
		{"MaxResults 501", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.MaxResults = requests.NewInteger(501) }, "InvalidParameter", 400},
		{"MaxResults not a number", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.MaxResults = "ten" }, "InvalidParameter", 400},
		{"forged token", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.NextToken = "garbage" }, "InvalidParameter", 400},
		{"token with other filters", func(r *sdkecs.DescribeNetworkInterfacesRequest) {
			r.NextToken, r.InstanceId = first.NextToken, "i-a"
		}, "InvalidParameter", 400},
		{"bad type", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.Type = "secondary" }, "InvalidParameter", 400},
		{"unknown region", func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.RegionId = "mars-north-1" }, "InvalidRegionId.NotFound", 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.DescribeNetworkInterfaces(describeReq(tc.mut))
			wantServerError(t, err, tc.wantCode, tc.wantStatus)
		})
	}
	t.Run("100 ids are fine", func(t *testing.T) {
		hundred := append([]string{"eni-a"}, many[:99]...)
		resp, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
			r.NetworkInterfaceId = &hundred
			r.MaxResults = requests.NewInteger(100)
		}))
		if err != nil || resp.TotalCount != 1 {
			t.Fatalf("%v %+v", err, resp)
		}
	})
	t.Run("token continues", func(t *testing.T) {
		resp, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
			r.MaxResults = requests.NewInteger(1)
			r.NextToken = first.NextToken
		}))
		if err != nil || !slices.Equal(ids(resp.NetworkInterfaceSets.NetworkInterfaceSet), []string{"eni-b"}) || resp.NextToken != "" {
			t.Fatalf("%v %+v", err, resp)
		}
	})
}

func TestUnknownActionThroughSDK(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s.Addr(), stsCreds)
	req := requests.NewCommonRequest()
	req.Scheme = "HTTP"
	req.Domain = s.Addr()
	req.Version = APIVersion
	req.ApiName = "DescribeRegions"
	req.Product = "Ecs"
	_, err := c.ProcessCommonRequest(req)
	wantServerError(t, err, "InvalidAction.NotFound", 404)
}
