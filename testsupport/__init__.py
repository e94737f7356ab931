"""What the tests, the end-to-end flows and the benchmarks share: free ports on loopback, an SMTP
sink and a redis-server of their own. Run from a checkout; not installed with the console.

Nothing here knows pytest fixtures: e2e/ is a test root of its own and bench/ runs without pytest.
"""
