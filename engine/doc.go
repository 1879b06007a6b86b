// Package engine is slabot's domain: leads, reps, teams, the SLA policy,
// business-hours clocks, deadlines, routing, attainment, plans and reports as
// data. It imports neither the database driver nor the chat SDK; it defines
// the ports (interfaces) that the storage and chat adapters implement.
package engine
