package rpc

import "testing"

// The ECS signature page's published example (AccessKeyId testid, secret testsecret).
func TestSignatureTestVector(t *testing.T) {
	p := map[string]string{
		"AccessKeyId":      "testid",
		"Action":           "DescribeRegions",
		"Format":           "XML",
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
		"SignatureVersion": "1.0",
		"Timestamp":        "2016-02-23T12:46:24Z",
		"Version":          "2014-05-26",
	}
	sts := StringToSign("GET", p)
	wantSTS := "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1" +
		"%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0" +
		"%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	if sts != wantSTS {
		t.Fatalf("StringToSign\n got %s\nwant %s", sts, wantSTS)
	}
	if got := Sign(sts, "testsecret"); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Fatalf("signature %s", got)
	}
	// A Signature parameter present in the map is not signed.
	p["Signature"] = "whatever"
	if StringToSign("GET", p) != wantSTS {
		t.Fatal("Signature must not be part of the string to sign")
	}
}

func TestPercentEncode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a b", "a%20b"},
		{"a*b", "a%2Ab"},
		{"a~b", "a~b"},
		{"a+b", "a%2Bb"},
		{"2016-02-23T12:46:24Z", "2016-02-23T12%3A46%3A24Z"},
		{"é/=&", "%C3%A9%2F%3D%26"},
		{"-_.", "-_."},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := percentEncode(tc.in); got != tc.want {
				t.Fatalf("got %s want %s", got, tc.want)
			}
		})
	}
}
