"""Services: the daemon, its health and status, the pass lock, logs, worker processes."""
