"""The live page (``/live``): the exporter's own values, pushed to the browser as they change.

It reads the same metric families ``/metrics`` serves (from the collector, in memory), so what
the page shows is what Prometheus scrapes; it knows areas only by their public metric names.
"""
