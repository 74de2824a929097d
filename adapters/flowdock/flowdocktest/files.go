package flowdocktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// getFile serves GET /files/<org id>/<hash>/<name> and
// GET /private/<a>/<b>/files/<hash>/<name>: 302 with an empty body and a
// Location on the emulator's stand-in for S3, which needs no credentials,
// as Flowdock documents the download (a short-lived Location on S3).
func (s *Server) getFile(c *call) (int, any, *apiError) {
	segs := c.segs
	var hash, name string
	switch segs[0] {
	case "files":
		if len(segs) != 4 {
			return 0, nil, errNotFound()
		}
		hash, name = segs[2], segs[3]
	default: // private/<a>/<b>/files/<hash>/<name>
		if len(segs) != 6 {
			return 0, nil, errNotFound()
		}
		hash, name = segs[4], segs[5]
	}
	fl := s.files[hash]
	if fl == nil || fl.removed || fl.name != name {
		return 0, nil, errNotFound()
	}
	switch {
	case fl.flow != nil:
		if segs[0] != "files" || segs[1] != itoa(fl.flow.org.id) || !fl.flow.members[c.user.id] {
			return 0, nil, errNotFound()
		}
	default:
		if segs[0] != "private" || segs[1] != itoa(fl.chat.a) || segs[2] != itoa(fl.chat.b) ||
			(c.user.id != fl.chat.a && c.user.id != fl.chat.b) {
			return 0, nil, errNotFound()
		}
	}
	c.header.Set("Location", s.root+s3Prefix+fl.hash+"/"+url.PathEscape(fl.name)+"?signature="+s.sign(fl.hash))
	return http.StatusFound, nil, nil
}

func (s *Server) sign(hash string) string {
	m := hmac.New(sha256.New, s.s3Key)
	m.Write([]byte(hash))
	return hex.EncodeToString(m.Sum(nil))
}

// serveS3 serves the file bytes behind a signed download URL.
func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	rq := Request{Host: "files", Path: r.URL.Path}
	defer s.recordOnce(sw, r, &rq)()
	hash, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, s3Prefix), "/")
	sig := r.URL.Query().Get("signature")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		sw.Header().Set("Allow", "GET, HEAD")
		http.Error(sw, "MethodNotAllowed", http.StatusMethodNotAllowed)
		return
	}
	if !hmac.Equal([]byte(sig), []byte(s.sign(hash))) {
		http.Error(sw, "AccessDenied: bad signature", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	fl := s.files[hash]
	ok := fl != nil && !fl.removed
	var data []byte
	var ctype, name string
	if ok {
		data, ctype, name = fl.data, fl.ctype, fl.name
	}
	s.mu.Unlock()
	if !ok {
		http.Error(sw, "NoSuchKey", http.StatusNotFound)
		return
	}
	sw.Header().Set("Content-Type", ctype)
	sw.Header().Set("Content-Length", strconv.Itoa(len(data)))
	sw.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(name, `"`, "")+`"`)
	sw.WriteHeader(http.StatusOK)
	_, _ = sw.Write(data)
}
