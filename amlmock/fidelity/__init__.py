"""Fidelity tooling: how closely the fake follows the real service.

* ``contracts``: an operation's contract (path, request and response schemas) and schema helpers;
* ``specs``: contracts from the published REST specs (swagger 2.0, 2019-09-30), read at run time;
* ``sdk``: the SDK's REST operations, and contracts derived from its msrest models;
* ``conformance``: validates the fake's traffic against those contracts (``--aml-validate``);
* ``coverage``: writes ``docs/coverage.md`` (``python -m amlmock.fidelity.coverage``).

See ``docs/fidelity.md``. Validation needs ``jsonschema`` (the ``test`` extra).
"""
