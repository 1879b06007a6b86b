package bot

// Readable lets the core's tests show a command as people typed it, each
// person token as @name, in golden files.
var Readable = readable
