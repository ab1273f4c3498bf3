"""Prometheus metrics and HTTP health (`--metrics-listen`): plain counters updated on the hot
path (calls.py, tally.py), turned into metric families only when scraped (collector.py), served
by a threaded HTTP server off the event loop (http.py)."""
