"""Runs a user's script for a submitted run, then keeps what it logged.

Started by the driver under the run's interpreter; needs only the standard library, plus
``azureml-core`` if the script uses it. It runs the script in-process (``runpy``) so that, after
it ends (normally, by an exception or by SIGTERM on cancel), ``Run.get_context()`` can be
flushed and ``./outputs`` and ``./logs`` uploaded: the SDK loses metrics logged just before exit otherwise. Uploads to the fake's
loopback URLs are sent as plain PUTs (the SDK's blob client insists on Azure's HTTPS hosts).
"""

from __future__ import annotations

import importlib.abc
import os
import runpy
import signal
import sys
import traceback
from typing import Any, NoReturn

LOOPBACK_PREFIXES = ("http://127.", "http://localhost", "http://[::1]")
PATCHED_MODULES = (
    "azureml._run_impl.file_watcher",
    "azureml._file_utils.upload",
    "azureml._file_utils",
    "azureml.mlflow._internal.utils",
    "azureml.mlflow._client.artifact._utils.blob_artifact_util",
    "azure.core.pipeline.policies._authentication",
)
FAKE_BLOB_MARK = "/amlmockstorage/"  # the path of the fake's blob URLs (amlmock.api.artifacts.BLOB)
HTTPS_LOOPBACK_PREFIXES = tuple("https" + prefix[4:] for prefix in LOOPBACK_PREFIXES)


def _terminate(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(128 + signum)


class _LoopbackAppendBlob:
    """Stands in for the SDK file watcher's ``BlobClient``, which rebuilds an Azure HTTPS host.

    The fake's blob URLs are ``{service}/{container}/{blob}?{sas}``; the watcher passes the
    container and blob names, and the service endpoint is in ``AZUREML_SERVICE_ENDPOINT``.
    """

    def __init__(self, account_url: str, credential: str, container_name: str, blob_name: str, **_: Any) -> None:
        from urllib.parse import quote

        service = os.environ["AZUREML_SERVICE_ENDPOINT"].rstrip("/")
        self.url = f"{service}/{container_name}/{quote(blob_name)}?{credential}"

    def create_append_blob(self, **_: Any) -> None:
        self._put(self.url, b"", {"x-ms-blob-type": "AppendBlob"})

    def upload_blob(self, data: bytes, blob_type: str = "AppendBlob", **_: Any) -> None:
        self._put(self.url + "&comp=appendblock", data, {})

    @staticmethod
    def _put(url: str, data: bytes, headers: dict[str, str]) -> None:
        import requests

        requests.put(url, data=data, headers=headers, timeout=30).raise_for_status()


def _loopback_upload_blob_from_stream(original: Any) -> Any:
    def upload_blob_from_stream(stream: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        if not url.startswith(LOOPBACK_PREFIXES):
            return original(stream, url, *args, **kwargs)
        import requests

        data = stream.read() if hasattr(stream, "read") else stream
        response = requests.put(url, data=data, headers={"x-ms-blob-type": "BlockBlob"}, timeout=30)
        response.raise_for_status()
        return response

    return upload_blob_from_stream


def _plain_http_for_loopback(original_init: Any) -> Any:
    """azureml-mlflow builds ``https://<host of the tracking URI>``; the fake on 127.0.0.1 speaks plain HTTP."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        host = getattr(self, "_host_url", None)
        if isinstance(host, str) and host.startswith(HTTPS_LOOPBACK_PREFIXES):
            self._host_url = "http" + host[5:]

    return __init__


def _fake_blobs_too(original: Any) -> Any:
    """azureml-mlflow downloads only from URLs on Azure's blob hosts; the fake's blob URLs are on its own host."""

    def is_source_uri_matches_storage_blob(source_uri: str, **kwargs: Any) -> bool:
        return FAKE_BLOB_MARK in source_uri or original(source_uri, **kwargs)

    return is_source_uri_matches_storage_blob


def _tls_except_loopback(original: Any) -> Any:
    """azure-core sends bearer tokens over HTTPS only; the fake on 127.0.0.1 speaks plain HTTP."""

    def _enforce_https(request: Any) -> None:
        if not request.http_request.url.startswith(LOOPBACK_PREFIXES):
            original(request)

    return _enforce_https


def _patch_module(module: Any) -> None:
    """Applied right after the SDK module is imported (see ``_PatchOnImport``)."""
    if module.__name__ == "azureml._run_impl.file_watcher":
        module.BlobClient = _LoopbackAppendBlob
    elif module.__name__ == "azureml._file_utils.upload":
        module.upload_blob_from_stream = _loopback_upload_blob_from_stream(module.upload_blob_from_stream)
    elif module.__name__ == "azureml._file_utils":
        module.upload_blob_from_stream = sys.modules["azureml._file_utils.upload"].upload_blob_from_stream
    elif module.__name__ == "azureml.mlflow._internal.utils":
        base = module.ServiceContextBase
        base.__init__ = _plain_http_for_loopback(base.__init__)
    elif module.__name__ == "azureml.mlflow._client.artifact._utils.blob_artifact_util":
        module.is_source_uri_matches_storage_blob = _fake_blobs_too(module.is_source_uri_matches_storage_blob)
    elif module.__name__ == "azure.core.pipeline.policies._authentication":
        module._enforce_https = _tls_except_loopback(module._enforce_https)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches the SDK's blob upload modules as they are imported (importing them early is slow
    and, for ``file_watcher``, a circular import)."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in PATCHED_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                original_exec = spec.loader.exec_module

                def exec_module(module: Any, original_exec: Any = original_exec) -> None:
                    original_exec(module)
                    _patch_module(module)

                spec.loader.exec_module = exec_module  # type: ignore[method-assign]
                return spec
        return None


def _plain_put_for_loopback() -> None:
    """Route the SDK's blob uploads to the fake's loopback URLs through plain HTTP PUTs."""
    if os.environ.get("AZUREML_SERVICE_ENDPOINT", "").startswith(LOOPBACK_PREFIXES):
        sys.meta_path.insert(0, _PatchOnImport())


def _finish_run() -> None:
    """Flush the run context the script used and upload ./outputs and ./logs, as the service does at the end."""
    if "azureml.core.run" not in sys.modules and "mlflow" not in sys.modules:
        return
    from azureml.core.run import Run, _OfflineRun

    run = Run.get_context()
    if isinstance(run, _OfflineRun):
        return
    if "mlflow" in sys.modules:
        _tag_mlflow_source(run)
    for folder in ("outputs", "logs"):
        if os.path.isdir(folder) and any(files for _, _, files in os.walk(folder)):
            run.upload_folder(folder, folder)
    run.flush()


def _tag_mlflow_source(run: Any) -> None:
    """The tags the service's job set-up gives a run whose script uses MLflow (``azureml.mlflow._setup_remote``)."""
    tags = {"mlflow.source.type": "JOB", "mlflow.source.name": run.get_details()["runDefinition"]["script"]}
    run.set_tags({key: value for key, value in tags.items() if key not in run.get_tags()})


def _print_script_traceback(error: BaseException, script: str) -> None:
    """The traceback from the script's first frame on (no wrapper or runpy frames)."""
    tb = error.__traceback__
    target = os.path.abspath(script)
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != target:
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb or error.__traceback__)


def main(argv: list[str]) -> int:
    """``script_wrapper.py SCRIPT [ARGS...]``: the exit code is the script's."""
    script = argv[0]
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    signal.signal(signal.SIGTERM, _terminate)
    _plain_put_for_loopback()
    code: Any = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exit_request:
        code = exit_request.code
    except BaseException as error:  # the script's own failure: print it as Python would
        _print_script_traceback(error, script)
        code = 1
    finally:
        try:
            _finish_run()
        except Exception:  # never hide the script's own outcome
            traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
