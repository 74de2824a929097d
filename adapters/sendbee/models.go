package sendbee

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Bool returns a pointer to v, for the optional boolean fields of request
// structs such as [SendMessageRequest.PreventBotOff], where nil means "not
// sent" and Bool(false) sends false.
func Bool(v bool) *bool { return &v }

// A Timestamp is a time sent by the API. The API writes most times as
// "YYYY-MM-DD HH:MM:SS" without a zone (read as UTC, an assumption of this
// package) and message times as Unix seconds with a fraction; both, RFC
// 3339 and null are accepted. A value in another format keeps a zero Time
// and only Raw, so that one odd field never fails a whole answer.
type Timestamp struct {
	time.Time
	// Raw is the value as sent: the string's contents, or the number's
	// JSON text. It is empty for null.
	Raw string
}

// Layout of the API's date-time strings.
const apiTimeLayout = "2006-01-02 15:04:05"

// UnmarshalJSON implements [json.Unmarshaler].
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*t = Timestamp{}
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] != '"' {
		t.Raw = string(b)
		if f, err := strconv.ParseFloat(t.Raw, 64); err == nil {
			t.Time = unixFloat(f)
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t.Raw = s
	s = strings.TrimSpace(s)
	for _, layout := range []string{apiTimeLayout, time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if tt, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			t.Time = tt
			return nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		t.Time = unixFloat(f)
	}
	return nil
}

// MarshalJSON implements [json.Marshaler]: Raw when set, else the time in
// the API's layout, or null for the zero Timestamp.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	switch {
	case t.Raw != "":
		if _, err := strconv.ParseFloat(t.Raw, 64); err == nil && !strings.ContainsAny(t.Raw, " \"") {
			return []byte(t.Raw), nil
		}
		return json.Marshal(t.Raw)
	case t.Time.IsZero():
		return []byte("null"), nil
	default:
		return json.Marshal(t.Time.UTC().Format(apiTimeLayout))
	}
}

func unixFloat(f float64) time.Time {
	if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}

// ServerMessage is the acknowledgement returned by deletes and by
// [Client.SetChatbotActivity]: {"message": "…"}.
type ServerMessage struct {
	Message string `json:"message"`
}

// A Folder is the inbox folder of a contact's conversation.
type Folder string

// Folders of a conversation. Only FolderOpen and FolderDone can be set with
// [Client.UpdateConversation].
const (
	FolderOpen     Folder = "open"
	FolderDone     Folder = "done"
	FolderSpam     Folder = "spam"
	FolderNotified Folder = "notified"
)

// A Direction tells who sent a message.
type Direction string

// Directions of a message.
const (
	DirectionInbound  Direction = "inbound"  // from the contact
	DirectionOutbound Direction = "outbound" // to the contact
)
