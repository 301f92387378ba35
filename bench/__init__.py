"""Whale's benchmarks: the engine alone, vLLM's own server and our stack over SSE and WebSocket (`make bench`)."""
