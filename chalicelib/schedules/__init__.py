"""The per-minute functions. Each takes "now" from the event's `time`, so tests and the
local scheduler can drive the clock by sending an event instead of sleeping."""
