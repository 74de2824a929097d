package flowdocktest_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

// TestServer_Files follows the Python wrapper's "Upload and Download a
// File" walk-through for a flow and a private chat: multipart upload, show,
// download through "API + '/' + path" (a double slash) with exactly one
// 302, delete, 404.
func TestServer_Files(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	data := []byte("Flowdock API wrapper\n====================\n\x00\x01binary tail")
	for _, base := range []string{"/flows/acme/main", "/private/1320"} {
		t.Run(base, func(t *testing.T) {
			r := c.upload(base+"/messages", "README.rst", data, map[string]string{"event": "file"})
			require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
			m := r.obj(t)
			id := strconv.Itoa(num(m["id"]))
			assert.Equal(t, "file", m["event"])
			assert.Contains(t, strs(m["tags"]), ":file")

			shown := c.do(http.MethodGet, base+"/messages/"+id, nil).obj(t)
			content := shown["content"].(map[string]any)
			assert.Equal(t, "README.rst", content["file_name"])
			assert.Equal(t, float64(len(data)), content["file_size"])
			assert.NotEmpty(t, content["content_type"])
			path := content["path"].(string)
			if strings.HasPrefix(base, "/flows") {
				assert.Regexp(t, `^/files/1/[0-9a-f]{32}/README\.rst$`, path)
			} else {
				assert.Regexp(t, `^/private/1201/1320/files/[0-9a-f]{32}/README\.rst$`, path)
			}
			att := shown["attachments"].([]any)
			require.Len(t, att, 1)
			assert.Equal(t, content, att[0])

			// Download: GET {API}/{path} → 302 (empty body) → 200 with the bytes,
			// following the redirect without credentials.
			r = c.do(http.MethodGet, "/"+path, nil)
			require.Equal(t, http.StatusFound, r.Status, "body: %s", r.Raw)
			assert.Empty(t, r.Raw)
			loc := r.Header.Get("Location")
			require.True(t, strings.HasPrefix(loc, s.RootURL()+"/_s3/"), loc)
			dl := anonClient(t, s).send(http.MethodGet, loc, "", nil)
			require.Equal(t, http.StatusOK, dl.Status)
			assert.Equal(t, data, dl.Raw)

			// The API path needs credentials and access; a tampered signature fails.
			assert.Equal(t, http.StatusUnauthorized, anonClient(t, s).do(http.MethodGet, path, nil).Status)
			assert.Equal(t, http.StatusForbidden, anonClient(t, s).send(http.MethodGet, loc+"x", "", nil).Status)
			if strings.HasPrefix(base, "/flows") {
				assert.Equal(t, http.StatusFound, userClient(t, s, "dana").do(http.MethodGet, path, nil).Status)
			} else {
				assert.Equal(t, http.StatusNotFound, userClient(t, s, "mike").do(http.MethodGet, path, nil).Status)
			}

			r = c.do(http.MethodDelete, base+"/messages/"+id, nil)
			require.Equal(t, http.StatusNoContent, r.Status)
			assert.Empty(t, r.Raw)
			r = c.do(http.MethodGet, base+"/messages/"+id, nil)
			assert.Equal(t, http.StatusNotFound, r.Status)
			assert.Equal(t, notFound, string(r.Raw))
			assert.Equal(t, http.StatusNotFound, c.do(http.MethodGet, path, nil).Status)
			assert.Equal(t, http.StatusNotFound, anonClient(t, s).send(http.MethodGet, loc, "", nil).Status)
		})
	}
	sent := s.Sent()
	require.Len(t, sent, 2)
	assert.Equal(t, "file", sent[0].Event)
	assert.Equal(t, "README.rst", sent[0].Content)
}

func TestServer_FileJSONAndThreads(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	start := c.do(http.MethodPost, "/flows/acme/ops/messages", map[string]any{"event": "message", "content": "logs?"}).obj(t)
	tid := start["thread_id"].(string)

	// JSON upload into a thread.
	r := c.do(http.MethodPost, "/flows/acme/ops/threads/"+tid+"/messages", map[string]any{
		"event": "file",
		"content": map[string]any{
			"data": base64.StdEncoding.EncodeToString([]byte("log line\n")), "content_type": "text/plain", "file_name": "log.txt",
		},
		"tags": []string{"logs"},
	})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
	m := r.obj(t)
	assert.Equal(t, tid, m["thread_id"])
	assert.Equal(t, []string{"logs", ":file"}, strs(m["tags"]))
	content := m["content"].(map[string]any)
	assert.Equal(t, "text/plain", content["content_type"])

	// A file posted by someone else cannot be deleted by the bot.
	other, err := s.Upload("acme/ops", "dana", "x.png", "image/png", []byte{0x89, 'P', 'N', 'G'})
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodDelete, "/flows/acme/ops/messages/"+strconv.Itoa(other.ID), nil).Status)
	assert.Equal(t, http.StatusNotFound, userClient(t, s, "Ray_").do(http.MethodGet, content["path"].(string), nil).Status)
	r = c.do(http.MethodGet, "/"+content["path"].(string), nil)
	require.Equal(t, http.StatusFound, r.Status)
	hc := newHTTPClient(t)
	resp, err := hc.Get(r.Header.Get("Location"))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "log line\n", string(b))
	assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
}
