package sendbeetest

import (
	"time"
)

// serviceWindow is how long after a customer's last message WhatsApp lets
// a business send free-form messages.
const serviceWindow = 24 * time.Hour

// lastInbound returns the time of the customer's newest message.
func (c *conversation) lastInbound() (time.Time, bool) {
	for i := len(c.msgs) - 1; i >= 0; i-- {
		if c.msgs[i].direction == "inbound" {
			return c.msgs[i].sentAt, true
		}
	}
	return time.Time{}, false
}

// windowClosesAt returns when the conversation's customer-service window
// closes, or false if the customer never wrote.
func (c *conversation) windowClosesAt() (time.Time, bool) {
	t, ok := c.lastInbound()
	if !ok {
		return time.Time{}, false
	}
	return t.Add(serviceWindow), true
}

// windowErrorLocked refuses a free-form send to cv (nil for a recipient
// without a contact) at now if its window is closed and the window is
// enforced. s.mu must be held.
func (s *Server) windowErrorLocked(cv *conversation, now time.Time) error {
	if !s.cfg.serviceWindow {
		return nil
	}
	if cv == nil {
		return reEngagement("outside the 24-hour customer service window: the recipient has not written to the business; send an approved template instead")
	}
	last, ok := cv.lastInbound()
	if !ok {
		return reEngagement("outside the 24-hour customer service window: the customer has not written in conversation %s; send an approved template instead", cv.id)
	}
	if now.Before(last.Add(serviceWindow)) {
		return nil
	}
	return reEngagement("outside the 24-hour customer service window: the customer's last message in conversation %s was at %s UTC; send an approved template instead",
		cv.id, fmtTime(last))
}

// existingRecipientLocked finds the conversation a send to phone (or,
// without a phone, bsuid) would use, without creating it: nil if the send
// would create a contact. It mirrors recipientLocked. s.mu must be held.
func (s *Server) existingRecipientLocked(phone, bsuid string) *conversation {
	var ct *contact
	if phone != "" {
		ct = s.st.contactByPhone(phone)
	} else {
		ct = s.st.contactByBSUID(bsuid)
	}
	if ct == nil {
		return nil
	}
	return ct.conv
}

// WindowClosesAt returns when the 24-hour customer-service window of the
// conversation with the contact of the given phone number closes: 24 hours
// after the customer's last message. It returns false for an unknown
// phone or a contact that never wrote (no window is open). Spaces and
// dashes in phone are ignored.
func (s *Server) WindowClosesAt(phone string) (time.Time, bool) {
	p, err := normalizePhone(phone)
	if err != nil {
		return time.Time{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ct := s.st.contactByPhone(p)
	if ct == nil {
		return time.Time{}, false
	}
	return ct.conv.windowClosesAt()
}

// WindowOpen reports whether the 24-hour customer-service window with the
// contact of the given phone number is open at the business time
// ([Server.Now]): the customer wrote less than 24 hours ago.
func (s *Server) WindowOpen(phone string) bool {
	closes, ok := s.WindowClosesAt(phone)
	return ok && s.bizNow().Before(closes)
}
