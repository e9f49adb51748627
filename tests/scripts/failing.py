"""Prints, then fails."""
print("about to fail", flush=True)
raise ValueError("bad input data")
