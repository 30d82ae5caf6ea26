"""Tests of the Python client. Most need a gateway on Redis: test/integration/python-client.test.ts starts one and
runs `python3 -m unittest discover -s tests -t .` here with APG_GATEWAY_URL and APG_REDIS_URL set."""
