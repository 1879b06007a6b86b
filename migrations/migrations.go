// Package migrations holds slabot's database schema as numbered SQL files,
// embedded into the binary. Files are named NNNN_description.sql and applied
// in order by storage.Migrate; a file, once released, is never edited.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
