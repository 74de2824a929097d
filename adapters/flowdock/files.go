package flowdock

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"strings"
)

// maxRedirects is how many redirects a download follows.
const maxRedirects = 5

// A FileUpload is a file to send with [Client.UploadFile].
type FileUpload struct {
	// Name is the file name shown in Flowdock; required.
	Name string
	// ContentType is the MIME type; empty means the type of Name's
	// extension, or application/octet-stream.
	ContentType string
	// Content is read to its end while the request is sent; required.
	// The client does not close it. When it is a *bytes.Reader,
	// *bytes.Buffer, *strings.Reader or a regular *os.File, the request
	// has a Content-Length; otherwise it is sent chunked.
	Content io.Reader
	// Tags are added to the file message (a comma-joined form field).
	Tags []string
	// ThreadID uploads into an existing thread of a flow.
	ThreadID string
	// UUID is the client-made id of the send; empty means a fresh
	// [NewUUID]. The returned Message carries the one sent.
	UUID string
}

// UploadFile uploads a file as a "file" message of a flow or a private
// conversation: POST .../messages (or .../threads/:id/messages with
// f.ThreadID) as multipart/form-data with the fields event=file,
// content=<the file>, uuid and, when set, tags. The returned Message is
// the created file message: its [Message.File] content has the Path to
// pass to [Client.DownloadFile]. The uuid is as for [Client.SendMessage].
func (c *Client) UploadFile(ctx context.Context, chat Chat, f FileUpload) (*Message, *Response, error) {
	const op = "upload file"
	p, err := chat.path(op)
	if err != nil {
		return nil, nil, err
	}
	if f.ThreadID != "" {
		if chat.IsPrivate() {
			return nil, nil, invalid(op, "thread_id", "is not supported in private conversations")
		}
		if err := segment(op, "thread_id", f.ThreadID); err != nil {
			return nil, nil, err
		}
		p += pathOf("threads", f.ThreadID)
	}
	if strings.TrimSpace(f.Name) == "" {
		return nil, nil, invalid(op, "file_name", "is required")
	}
	if strings.ContainsAny(f.Name, "\r\n") {
		return nil, nil, invalid(op, "file_name", "must not contain a line break")
	}
	if f.Content == nil {
		return nil, nil, invalid(op, "content", "is required")
	}
	if err := checkTags(op, f.Tags, true); err != nil {
		return nil, nil, err
	}
	uuid, err := checkUUID(op, f.UUID)
	if err != nil {
		return nil, nil, err
	}
	ct := f.ContentType
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(f.Name))
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		return nil, nil, invalid(op, "content_type", "is not a valid MIME type")
	}

	// The form is written around the file: fields and the file part's
	// header first, the closing boundary last. The file itself is read
	// while sending, never buffered, and no goroutine is needed.
	var head, tail bytes.Buffer
	sw := &switchWriter{w: &head}
	mw := multipart.NewWriter(sw)
	fields := [][2]string{{"event", EventFile}, {"uuid", uuid}}
	if len(f.Tags) > 0 {
		fields = append(fields, [2]string{"tags", strings.Join(f.Tags, ",")})
	}
	for _, kv := range fields {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			return nil, nil, fmt.Errorf("flowdock: %s: %w", op, err)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", multipart.FileContentDisposition("content", f.Name))
	h.Set("Content-Type", ct)
	if _, err := mw.CreatePart(h); err != nil {
		return nil, nil, fmt.Errorf("flowdock: %s: %w", op, err)
	}
	sw.w = &tail
	if err := mw.Close(); err != nil {
		return nil, nil, fmt.Errorf("flowdock: %s: %w", op, err)
	}
	length := int64(-1)
	if n, ok := readerSize(f.Content); ok {
		length = int64(head.Len()) + n + int64(tail.Len())
	}
	r := request{
		method:        http.MethodPost,
		path:          p + "/messages",
		body:          io.MultiReader(&head, f.Content, &tail),
		contentType:   mw.FormDataContentType(),
		contentLength: length,
		auth:          authUser,
	}
	local := Message{Event: EventFile, Tags: f.Tags, ThreadID: f.ThreadID, UUID: uuid}
	return c.postMessage(ctx, op, r, local)
}

// switchWriter writes to w, which can be changed between writes.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

// readerSize returns the number of bytes left in r when it can tell.
func readerSize(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case interface{ Len() int }: // *bytes.Reader, *bytes.Buffer, *strings.Reader
		return int64(v.Len()), true
	case interface {
		Stat() (fs.FileInfo, error)
		io.Seeker
	}: // *os.File
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		pos, err := v.Seek(0, io.SeekCurrent)
		if err != nil || pos > fi.Size() {
			return 0, false
		}
		return fi.Size() - pos, true
	}
	return 0, false
}

// DownloadFile opens an uploaded file: GET <path> with the personal token,
// where path is a [File.Path] such as "/files/7/ab12cd/log.txt" (or the
// same URL below the base URL). Flowdock answers 302 with a short-lived
// storage URL; the client follows it (at most 5 redirects) without the
// Authorization header, as the API requires.
//
// The caller must close the returned body. It is read as the caller reads,
// so ctx and the HTTP client's Timeout still bound it. The Response is the
// last hop's, with no Raw body. An error status at any hop is an
// [*APIError] whose Path is the file path.
func (c *Client) DownloadFile(ctx context.Context, path string) (io.ReadCloser, *Response, error) {
	const op = "download file"
	p, err := c.filePath(op, path)
	if err != nil {
		return nil, nil, err
	}
	hr, resp, err := c.send(ctx, op, request{method: http.MethodGet, path: p, auth: authUser, redirects: true})
	for hops := 0; err == nil && isRedirect(hr.StatusCode); hops++ {
		loc := hr.Header.Get("Location")
		drainClose(hr.Body)
		if hops == maxRedirects {
			return nil, resp, fmt.Errorf("flowdock: GET %s: more than %d redirects", p, maxRedirects)
		}
		target, perr := hr.Request.URL.Parse(loc)
		if perr != nil || (target.Scheme != "http" && target.Scheme != "https") {
			return nil, resp, fmt.Errorf("flowdock: GET %s: redirect to an invalid location", p)
		}
		req, rerr := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
		if rerr != nil {
			return nil, resp, fmt.Errorf("flowdock: GET %s: follow redirect: %w", p, rerr)
		}
		req.Header.Set("User-Agent", c.userAgent)
		// No Authorization: the target is the storage service's signed URL.
		hr, resp, err = c.roundTrip(ctx, req, request{method: http.MethodGet, path: p, auth: authNone, redirects: true})
	}
	if err != nil {
		return nil, resp, err
	}
	return hr.Body, resp, nil
}

// DownloadFileTo copies an uploaded file into w, as [Client.DownloadFile]
// opens it, and returns the number of bytes written.
func (c *Client) DownloadFileTo(ctx context.Context, path string, w io.Writer) (int64, *Response, error) {
	if w == nil {
		return 0, nil, invalid("download file", "writer", "is required")
	}
	body, resp, err := c.DownloadFile(ctx, path)
	if err != nil {
		return 0, resp, err
	}
	defer body.Close()
	n, err := io.Copy(w, body)
	if err != nil {
		return n, resp, fmt.Errorf("flowdock: download file: %w", ctxErr(ctx, err))
	}
	return n, resp, nil
}

// isRedirect reports whether status is a redirect a GET may follow.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// filePath turns a file path or a URL below the base URL into an API
// path.
func (c *Client) filePath(op, p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", invalid(op, "path", "is required")
	}
	if base := c.base.String(); strings.HasPrefix(p, base) {
		p = "/" + strings.TrimPrefix(p, base)
	} else if strings.Contains(p, "://") {
		return "", invalid(op, "path", "is a URL outside the API base URL; the token is not sent there")
	}
	p = "/" + strings.TrimLeft(p, "/") // the wrapper's "//files/…" as well
	if err := checkAPIPath(op, p); err != nil {
		return "", err
	}
	return p, nil
}
