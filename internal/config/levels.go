package config

// LogLevels are the values LOG_LEVEL accepts, least severe first: zerolog's
// level names. The README's Configuration table and the CLI's help are
// checked against this list.
var LogLevels = []string{"trace", "debug", "info", "warn", "error", "fatal", "panic", "disabled"}
