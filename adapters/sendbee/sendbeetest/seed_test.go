package sendbeetest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

// seedGet makes an authenticated GET of the API and decodes its answer.
func seedGet(t *testing.T, s *sendbeetest.Server, pathQuery string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+pathQuery, nil)
	require.NoError(t, err)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(s.APISecret()))
	mac.Write([]byte(ts))
	req.Header.Set("X-Api-Key", s.APIKey())
	req.Header.Set("X-Auth-Token", base64.StdEncoding.EncodeToString([]byte(ts+"."+hex.EncodeToString(mac.Sum(nil)))))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// Thousands of contacts are seeded at once, with their tags, fields and
// status, and the API lists and filters them.
func TestServer_SeedContacts(t *testing.T) {
	s := sendbeetest.NewServer(t, sendbeetest.WithoutDemoData(), sendbeetest.WithRateLimit(0, time.Minute))
	cs := make([]sendbeetest.SeedContact, 3000)
	for i := range cs {
		cs[i] = sendbeetest.SeedContact{Phone: fmt.Sprintf("+1415%07d", i), Name: fmt.Sprintf("N%d", i),
			Tags: []string{"all"}, Fields: map[string]string{"city": "C" + strconv.Itoa(i)}}
		if i%3 == 0 {
			cs[i].Tags = append(cs[i].Tags, "third")
		}
		if i%10 == 0 {
			cs[i].Status = "unsubscribed"
		}
	}
	require.NoError(t, s.SeedContacts(cs...))
	assert.Empty(t, s.Requests(), "seeding makes no request")
	assert.Empty(t, s.Events(), "and emits no event")

	type page struct {
		Data []struct {
			Name          string `json:"name"`
			Phone         string `json:"phone"`
			Status        string `json:"status"`
			Tags          []struct{ Name string }
			ContactFields []struct{ Key, Value string } `json:"contact_fields"`
		} `json:"data"`
		Meta struct {
			Total int `json:"total"`
		} `json:"meta"`
	}
	var p page
	seedGet(t, s, "/contacts?limit=100", &p)
	assert.Equal(t, 3000, p.Meta.Total)
	require.Len(t, p.Data, 100)
	newest := p.Data[0]
	assert.Equal(t, "N2999", newest.Name, "newest first: the last one given")
	assert.Equal(t, "+14150002999", newest.Phone)
	assert.Equal(t, "subscribed", newest.Status)
	assert.Equal(t, []struct{ Key, Value string }{{"city", "C2999"}}, newest.ContactFields)

	seedGet(t, s, "/contacts?tags=third&status=subscribed&limit=1", &p)
	assert.Equal(t, 900, p.Meta.Total) // 1000 of every third, less the 100 that are also of every tenth
	seedGet(t, s, "/contacts?status=unsubscribed&limit=1", &p)
	assert.Equal(t, 300, p.Meta.Total)
	var conv struct {
		Meta struct {
			Total int `json:"total"`
		} `json:"meta"`
	}
	seedGet(t, s, "/conversations?limit=1", &conv)
	assert.Equal(t, 3000, conv.Meta.Total, "each contact has its conversation")
}

// A bad contact adds nothing, and the error names it.
func TestServer_SeedContacts_bad(t *testing.T) {
	tests := []struct {
		name string
		c    sendbeetest.SeedContact
		err  string
	}{
		{"bad phone", sendbeetest.SeedContact{Phone: "0911"}, "contact 1: phone must be an international number"},
		{"taken phone", sendbeetest.SeedContact{Phone: "+385911234567"}, "contact 1: phone +385911234567 is taken"},
		{"bad status", sendbeetest.SeedContact{Phone: "+385917654321", Status: "gone"}, `contact 1: status must be subscribed or unsubscribed, got "gone"`},
		{"bad field value", sendbeetest.SeedContact{Phone: "+385917654321", Fields: map[string]string{"age": "old"}}, `contact 1: contact field age: "old" is not a number`},
		{"empty tag", sendbeetest.SeedContact{Phone: "+385917654321", Tags: []string{" "}}, "contact 1: empty tag name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sendbeetest.NewServer(t)
			before := s.Conversations()
			err := s.SeedContacts(sendbeetest.SeedContact{Phone: "+385910000000"}, tt.c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "sendbeetest: SeedContacts: "+tt.err)
			assert.Equal(t, before, s.Conversations(), "nothing added")
		})
	}
}
