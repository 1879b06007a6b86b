package teams

import "time"

// ChannelsPinned is closed once Run has pinned the policy's channel names
// (the check it makes before anything else), so that a test can tell the
// channels it adds afterwards from those Run saw.
func (a *App) ChannelsPinned() <-chan struct{} { return a.pinned }

// SetSoftTimeout sets how long the App's endpoint waits for its handling
// of an activity before it answers without it (HandlerOptions.SoftTimeout,
// 4 s in production). Call it before the endpoint serves.
func (a *App) SetSoftTimeout(d time.Duration) { a.endpoint.next.opts.SoftTimeout = d }

// SetRecordTimeout sets how long the App tries to record a message typed
// to it before it asks the person to send it again (2 s in production).
// Call it before the endpoint serves.
func (a *App) SetRecordTimeout(d time.Duration) { a.recordWithin = d }
