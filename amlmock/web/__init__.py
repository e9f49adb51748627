"""The run browser: the fake's state as browsable HTML pages, a read-only wire format over the backend.

``routes`` serves it behind a browser token (``access``); ``snapshot`` writes the same pages as static files.
"""
