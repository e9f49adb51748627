"""Local script runs: the invocation zip the SDK launches, the driver it starts, and clean-up."""
