package flowdocktest

import (
	"regexp"
	"strings"
	"unicode"
)

// Tags: hashtags lose their "#", "@nick" becomes ":user:<id>", and the
// server adds meta tags. Duplicates are dropped case-insensitively and the
// order is kept.

var (
	mentionRE = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_.+\-@])@([\p{L}\p{N}_][\p{L}\p{N}_.\-]*)`)
	hashtagRE = regexp.MustCompile(`(?:^|\s|\()#([\p{L}\p{N}_][\p{L}\p{N}_\-]*)`)
	urlRE     = regexp.MustCompile(`(?i)(?:\bhttps?://\S|\bwww\.\S|[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+\.[\p{L}\p{N}.\-]+)`)
	everyone  = map[string]bool{"everyone": true, "everybody": true, "all": true, "anyone": true, "anybody": true}
)

// normalizeTagLocked turns one given tag into its stored form.
func (s *Server) normalizeTagLocked(t string) string {
	t = strings.TrimSpace(t)
	switch {
	case strings.HasPrefix(t, "#"):
		return strings.TrimSpace(t[1:])
	case strings.HasPrefix(t, "@") && len(t) > 1:
		nick := t[1:]
		if everyone[strings.ToLower(nick)] {
			return ":user:everyone"
		}
		if u := s.userByNickLocked(nick); u != nil {
			return ":user:" + itoa(u.id)
		}
		return ":user:" + strings.ToLower(nick)
	}
	return t
}

func (s *Server) normalizeTagsLocked(in []string) []string {
	out := make([]string, 0, len(in))
	for _, t := range in {
		if n := s.normalizeTagLocked(t); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// contentTagsLocked derives tags from message text: hashtags, mentions
// (":user:<id>" plus ":unread:<id>" for a known user other than the author;
// ":user:<handle>" for an unknown handle such as a team; ":user:everyone"
// plus ":unread:<id>" for every other member on @everyone), then ":url"
// when the text has a link or an email address.
func (s *Server) contentTagsLocked(text string, f *flow, author int) []string {
	var out []string
	for _, m := range hashtagRE.FindAllStringSubmatch(text, -1) {
		if strings.IndexFunc(m[1], unicode.IsLetter) >= 0 {
			out = append(out, m[1])
		}
	}
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		nick := strings.TrimRight(m[1], ".-")
		switch u := s.userByNickLocked(nick); {
		case everyone[strings.ToLower(nick)]:
			out = append(out, ":user:everyone")
			if f != nil {
				for _, x := range s.userList {
					if f.members[x.id] && x.id != author {
						out = append(out, ":unread:"+itoa(x.id))
					}
				}
			}
		case u != nil:
			out = append(out, ":user:"+itoa(u.id))
			if u.id != author {
				out = append(out, ":unread:"+itoa(u.id))
			}
		default:
			out = append(out, ":user:"+strings.ToLower(nick))
		}
	}
	if urlRE.MatchString(text) {
		out = append(out, ":url")
	}
	return out
}

// dedupTags drops empty and repeated tags (case-insensitively), keeping the
// first occurrence and the order.
func dedupTags(lists ...[]string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, l := range lists {
		for _, t := range l {
			k := strings.ToLower(t)
			if t == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, t)
		}
	}
	return out
}

// hasTag reports whether tags contains t, case-insensitively.
func hasTag(tags []string, t string) bool {
	for _, x := range tags {
		if strings.EqualFold(x, t) {
			return true
		}
	}
	return false
}

// words splits text into lowercase words for search.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '_'
	})
}
