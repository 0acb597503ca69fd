"""Optional speed-ups for stock contents managers, chosen once in app.py (see its README line)."""
