"""Domain logic per feature; no chalice import, so the bridge and tools reuse it."""
