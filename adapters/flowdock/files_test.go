package flowdock_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
)

// An upload is a multipart upload as the fake API parsed it.
type upload struct {
	ContentLength int64
	Fields        map[string]string
	FileName      string
	FileType      string
	FileField     string
	Data          []byte
}

// handleUpload registers a multipart upload route on f that parses the
// form with the standard library, records it and answers 201 with a file
// message. It returns an accessor for the recorded uploads.
func handleUpload(t *testing.T, f *fakeAPI, path string) func() []upload {
	var (
		mu  sync.Mutex
		got []upload
	)
	f.handle("POST", path, func(w http.ResponseWriter, r *http.Request) {
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			writeError(w, 400, "want multipart/form-data")
			return
		}
		u := upload{ContentLength: r.ContentLength, Fields: map[string]string{}}
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("bad multipart body: %v", err)
				writeError(w, 400, "bad multipart body")
				return
			}
			b, _ := io.ReadAll(p)
			if p.FileName() != "" {
				u.FileField, u.FileName, u.FileType, u.Data = p.FormName(), p.FileName(), p.Header.Get("Content-Type"), b
				continue
			}
			u.Fields[p.FormName()] = string(b)
		}
		mu.Lock()
		got = append(got, u)
		mu.Unlock()
		writeJSON(w, 201, map[string]any{
			"event": "file", "id": 507, "user": testUserID, "tags": []string{":file"}, "uuid": u.Fields["uuid"],
			"content":     map[string]any{"file_name": u.FileName, "content_type": u.FileType, "file_size": len(u.Data), "path": "/files/7/ab12cd/" + u.FileName},
			"attachments": []any{map[string]any{"file_name": u.FileName, "content_type": u.FileType, "file_size": len(u.Data), "path": "/files/7/ab12cd/" + u.FileName}},
		})
	})
	return func() []upload {
		mu.Lock()
		defer mu.Unlock()
		return append([]upload(nil), got...)
	}
}

func TestClient_UploadFile(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	got := handleUpload(t, f, "/flows/acme/ops/messages")
	c := f.newClient(t)

	data := []byte("Flowdock API Wrapper\n====================\n")
	m, resp, err := c.UploadFile(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.FileUpload{
		Name: "README.rst", Content: bytes.NewReader(data), Tags: []string{"docs", "ref"}, UUID: "f-1",
	})
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode)
	require.Len(t, got(), 1)
	u := got()[0]
	assert.Equal(t, map[string]string{"event": "file", "uuid": "f-1", "tags": "docs,ref"}, u.Fields)
	assert.Equal(t, "content", u.FileField)
	assert.Equal(t, "README.rst", u.FileName)
	wantType := mime.TypeByExtension(".rst") // the system's table may know it
	if wantType == "" {
		wantType = "application/octet-stream"
	}
	assert.Equal(t, wantType, u.FileType)
	assert.Equal(t, data, u.Data)
	assert.Greater(t, u.ContentLength, int64(len(data)), "the length is known for a bytes.Reader")
	assert.Equal(t, u.ContentLength, mustInt(f.last(t).Header.Get("Content-Length")))

	assert.Equal(t, "file", m.Event)
	assert.EqualValues(t, 507, m.ID)
	assert.Equal(t, "f-1", m.UUID)
	fc, err := m.File()
	require.NoError(t, err)
	assert.Equal(t, "README.rst", fc.FileName, "msg['content']['file_name']")
	assert.Equal(t, "/files/7/ab12cd/README.rst", fc.Path, "msg['content']['path']")
	require.Len(t, m.Attachments, 1)
	assert.EqualValues(t, len(data), m.Attachments[0].FileSize)
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func TestClient_UploadFile_variants(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	private := handleUpload(t, f, "/private/336968/messages")
	thread := handleUpload(t, f, "/flows/acme/ops/threads/Tq9xK2mZ/messages")
	flow := handleUpload(t, f, "/flows/acme/ops/messages")
	c := f.newClient(t)

	// A private upload from an unknown-length reader: chunked, typed by
	// extension, a generated uuid.
	png := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 1000)
	m, _, err := c.UploadFile(t.Context(), flowdock.PrivateChat(336968), flowdock.FileUpload{
		Name: `my "shot".png`, Content: iotest.HalfReader(bytes.NewReader(png)),
	})
	require.NoError(t, err)
	require.Len(t, private(), 1)
	u := private()[0]
	assert.EqualValues(t, -1, u.ContentLength, "sent chunked")
	assert.Equal(t, "image/png", u.FileType)
	assert.Equal(t, `my "shot".png`, u.FileName)
	assert.Equal(t, png, u.Data)
	assert.Regexp(t, uuidRE, u.Fields["uuid"])
	assert.Equal(t, u.Fields["uuid"], m.UUID)
	assert.NotContains(t, u.Fields, "tags")

	// Into a thread, with an explicit type.
	_, _, err = c.UploadFile(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.FileUpload{
		Name: "log.txt", ContentType: "text/plain; charset=utf-8", Content: strings.NewReader("line\n"), ThreadID: "Tq9xK2mZ",
	})
	require.NoError(t, err)
	require.Len(t, thread(), 1)
	assert.Equal(t, "text/plain; charset=utf-8", thread()[0].FileType)
	assert.Equal(t, "line\n", string(thread()[0].Data))

	// From a file, as the Python wrapper's flow.upload(file_path), with the
	// remaining length of a partly read file.
	path := filepath.Join(t.TempDir(), "README.rst")
	require.NoError(t, os.WriteFile(path, []byte("0123456789"), 0o600))
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	_, err = fh.Seek(4, io.SeekStart)
	require.NoError(t, err)
	_, _, err = c.UploadFile(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.FileUpload{Name: filepath.Base(path), Content: fh})
	require.NoError(t, err)
	require.Len(t, flow(), 1)
	assert.Equal(t, "456789", string(flow()[0].Data))
	assert.NotEqual(t, int64(-1), flow()[0].ContentLength)
}

func TestClient_UploadFile_invalid(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := f.newClient(t)
	tests := []struct {
		name  string
		chat  flowdock.Chat
		up    flowdock.FileUpload
		field string
	}{
		{"no name", flowdock.FlowChat("a", "b"), flowdock.FileUpload{Content: strings.NewReader("x")}, "file_name"},
		{"no content", flowdock.FlowChat("a", "b"), flowdock.FileUpload{Name: "x"}, "content"},
		{"thread in private", flowdock.PrivateChat(3), flowdock.FileUpload{Name: "x", Content: strings.NewReader("x"), ThreadID: "T"}, "thread_id"},
		{"comma tag", flowdock.FlowChat("a", "b"), flowdock.FileUpload{Name: "x", Content: strings.NewReader("x"), Tags: []string{"a,b"}}, "tags"},
		{"bad type", flowdock.FlowChat("a", "b"), flowdock.FileUpload{Name: "x", Content: strings.NewReader("x"), ContentType: "not a type"}, "content_type"},
	}
	for _, tt := range tests {
		_, _, err := c.UploadFile(t.Context(), tt.chat, tt.up)
		var ve *flowdock.ValidationError
		if assert.ErrorAs(t, err, &ve, tt.name) {
			assert.Equal(t, tt.field, ve.Field, tt.name)
		}
	}
	assert.Empty(t, f.requests())
}

// newStorage starts a stand-in for the storage service a download is
// redirected to. It refuses requests with an Authorization header.
func newStorage(t *testing.T, content []byte) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the storage got an Authorization header")
			http.Error(w, "<Error>credentials</Error>", 400)
			return
		}
		if r.URL.Query().Get("X-Amz-Signature") != "sig" {
			http.Error(w, "<Error>AccessDenied</Error>", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(content)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestClient_DownloadFile(t *testing.T) {
	t.Parallel()
	content := []byte(strings.Repeat("Flowdock API Wrapper\n", 500))
	storage := newStorage(t, content)
	f := newFakeAPI(t)
	f.handle("GET", "/files/7/ab12cd/README.rst", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", storage.URL+"/bucket/README.rst?X-Amz-Signature=sig")
		w.WriteHeader(http.StatusFound)
	})
	c := f.newClient(t)

	body, resp, err := c.DownloadFile(t.Context(), "/files/7/ab12cd/README.rst")
	require.NoError(t, err)
	b, err := io.ReadAll(body)
	require.NoError(t, err)
	require.NoError(t, body.Close())
	assert.Equal(t, content, b)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
	assert.Nil(t, resp.Raw)
	assert.NotEmpty(t, f.last(t).Header.Get("Authorization"), "the API hop is authenticated")

	// Into a writer; the Python wrapper's "//files/…" and a full URL below
	// the base URL work too.
	for _, p := range []string{"/files/7/ab12cd/README.rst", "//files/7/ab12cd/README.rst", f.baseURL() + "/files/7/ab12cd/README.rst"} {
		var buf bytes.Buffer
		n, _, err := c.DownloadFileTo(t.Context(), p, &buf)
		require.NoError(t, err, p)
		assert.EqualValues(t, len(content), n, p)
		assert.Equal(t, content, buf.Bytes(), p)
		assert.Equal(t, "/files/7/ab12cd/README.rst", f.last(t).Path, p)
	}
}

func TestClient_DownloadFile_direct(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/private/1/2/files/h/a.txt", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("direct"))
	})
	var buf bytes.Buffer
	_, _, err := f.newClient(t).DownloadFileTo(t.Context(), "/private/1/2/files/h/a.txt", &buf)
	require.NoError(t, err)
	assert.Equal(t, "direct", buf.String())
}

func TestClient_DownloadFile_errors(t *testing.T) {
	t.Parallel()
	storage := newStorage(t, []byte("x"))
	f := newFakeAPI(t)
	f.handle("GET", "/files/7/expired/a.txt", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, storage.URL+"/bucket/a.txt?X-Amz-Signature=old", http.StatusFound)
	})
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/again", http.StatusTemporaryRedirect) // relative Location
	}))
	t.Cleanup(loop.Close)
	f.handle("GET", "/files/7/loop/a.txt", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop.URL+"/start", http.StatusFound)
	})
	f.handle("GET", "/files/7/ftp/a.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "ftp://example.test/a.txt")
		w.WriteHeader(http.StatusFound)
	})
	c := f.newClient(t)

	_, _, err := c.DownloadFile(t.Context(), "/files/7/missing/a.txt")
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode)
	assert.Equal(t, "/files/7/missing/a.txt", apiErr.Path)

	_, resp, err := c.DownloadFile(t.Context(), "/files/7/expired/a.txt")
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 403, apiErr.StatusCode, "the storage's answer")
	assert.Equal(t, "/files/7/expired/a.txt", apiErr.Path, "never the signed URL")
	assert.NotContains(t, err.Error(), "Signature")
	assert.Equal(t, 403, resp.StatusCode)

	_, _, err = c.DownloadFile(t.Context(), "/files/7/ftp/a.txt")
	assert.ErrorContains(t, err, "invalid location")

	_, _, err = c.DownloadFile(t.Context(), "/files/7/loop/a.txt")
	assert.ErrorContains(t, err, "flowdock: GET /files/7/loop/a.txt: more than 5 redirects")

	for _, p := range []string{"", "https://evil.test/files/a", "/files/../user", "/files/a?x=1"} {
		_, _, err := c.DownloadFile(t.Context(), p)
		var ve *flowdock.ValidationError
		assert.ErrorAs(t, err, &ve, p)
	}
	_, _, err = c.DownloadFileTo(t.Context(), "/files/a", nil)
	var ve *flowdock.ValidationError
	assert.ErrorAs(t, err, &ve)
}

func TestClient_DownloadFile_cancelMidway(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	sent := make(chan struct{})
	f.handle("GET", "/files/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), 1<<10))
		w.(http.Flusher).Flush()
		close(sent)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	body, _, err := f.newClient(t).DownloadFile(ctx, "/files/big")
	require.NoError(t, err)
	defer body.Close()
	<-sent
	buf := make([]byte, 1<<10)
	_, err = io.ReadFull(body, buf)
	require.NoError(t, err)
	cancel()
	_, err = io.ReadAll(body)
	require.ErrorIs(t, err, context.Canceled)
}
