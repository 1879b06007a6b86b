package slackfake

import "strconv"

// RestoreDM puts a message back into the DM of a user as an earlier run of
// the server held it, with its channel id and ts, so a test can carry a
// workspace's state across a release: an upgrade test restores the cards an
// older release posted, then clicks their buttons. The user must exist.
func (s *Server) RestoreDM(userID string, m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.dms[userID]; !ok {
		s.dms[userID] = m.Channel
		s.addChannelLocked(&channel{id: m.Channel, isIM: true, user: userID, created: s.now(),
			members: []string{userID, BotUserID}})
	}
	m.Channel = s.dms[userID]
	// Ids the server hands out later must not collide with restored ones.
	if len(m.Channel) > 1 {
		if n, err := strconv.ParseInt(m.Channel[1:], 16, 64); err == nil && int(n) > s.seq {
			s.seq = int(n)
		}
	}
	restored := m
	s.msgs = append(s.msgs, &restored)
	s.notifyLocked()
}
