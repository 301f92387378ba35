"""The GPU worker: serves chat turns from one long-lived inference engine."""
