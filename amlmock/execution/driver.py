"""The driver of one submitted local run (started by ``azureml-setup/Invocation.sh``).

It plays the part of the real service's job runtime: marks the run Running, runs the user's
script in its own process group, streams its output to the run's log, stops it when the run is
canceled (``azureml-setup/killfile``, a Canceled status, or the service going away) and reports
Completed or Failed. Standard library only: it may run under any interpreter.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Deque

EVENT = "Microsoft.MachineLearning.Run."
POLL_SECONDS = 0.1
STATUS_EVERY = 0.3
GRACE_SECONDS = 3.0
TAIL_LINES = 20


class ServiceGone(Exception):
    """The fake service stopped answering."""


class Service:
    """The few calls the driver makes to the fake service, over loopback HTTP."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.base = config["service_url"]
        self.workspace = config["workspace_path"]
        self.experiment = config["experiment"]
        self.run_id = config["run_id"]
        self.token = config["token"]

    def call(self, method: str, url: str, body: Any = None, raw: bytes | None = None) -> Any:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", "Bearer " + self.token)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                content = response.read()
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {url} failed: {error.code} {error.read()[:500]!r}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise ServiceGone(str(error)) from None
        return json.loads(content) if content.strip() else None

    def run_url(self) -> str:
        return f"{self.base}/history/v1.0{self.workspace}/experiments/{self.experiment}/runs/{self.run_id}"

    def event(self, name: str, data: dict[str, Any] | None = None) -> None:
        payload = {"RunId": self.run_id, **(data or {})}
        self.call("POST", self.run_url() + "/events", {"name": EVENT + name, "data": payload,
                                                        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    def status(self) -> str:
        return self.call("GET", self.run_url())["status"]

    def register(self, driver_pid: int, script_pid: int) -> None:
        url = f"{self.base}/amlmock/v1.0{self.workspace}/runs/{self.run_id}/process"
        self.call("POST", url, {"driverPid": driver_pid, "scriptPid": script_pid})

    def log_url(self, container: str, path: str) -> str:
        url = f"{self.base}/artifact/v2.0{self.workspace}/artifacts/batch/metadata/ExperimentRun/{container}"
        created = self.call("POST", url, {"paths": [{"path": path}]})
        content_uri = created["artifactContentInformation"][path]["contentUri"]
        self.call("PUT", content_uri, raw=b"")
        return content_uri


class LogStream:
    """Appends the script's output to the run's log artifact, a chunk at a time, in order."""

    def __init__(self, service: Service, content_uri: str) -> None:
        self.service = service
        self.content_uri = content_uri
        self.lines: "queue.Queue[bytes | None]" = queue.Queue()
        self.thread = threading.Thread(target=self._publish, daemon=True)
        self.thread.start()

    def write(self, line: bytes) -> None:
        self.lines.put(line)

    def close(self) -> None:
        self.lines.put(None)
        self.thread.join(timeout=10)

    def _publish(self) -> None:
        done = False
        while not done:
            chunk = [self.lines.get()]
            time.sleep(0.02)
            while not self.lines.empty():
                chunk.append(self.lines.get())
            done = None in chunk
            data = b"".join(line for line in chunk if line is not None)
            if data:
                try:
                    self.service.call("PUT", self.content_uri + "&comp=appendblock", raw=data)
                except (ServiceGone, RuntimeError):
                    return


def _pump(stream: Any, log: LogStream, tail: "Deque[str]") -> None:
    """Copy the script's output (stdout and stderr, merged in order) to the log; keep its tail."""
    for line in iter(stream.readline, b""):
        log.write(line)
        tail.append(line.decode("utf-8", "replace").rstrip("\n"))
    stream.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the script's process group, then SIGKILL after a grace period."""
    for sig, wait in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _cancel_requested(service: Service, killfile: str, last_check: list[float]) -> bool:
    if os.path.exists(killfile):
        return True
    now = time.monotonic()
    if now - last_check[0] < STATUS_EVERY:
        return False
    last_check[0] = now
    try:
        return service.status() == "Canceled"
    except ServiceGone:
        return True


def main(config_path: str) -> int:
    """Run the script described by ``config_path``; the exit code is the script's."""
    with open(config_path, encoding="utf-8") as handle:
        config = json.load(handle)
    run_dir = os.path.dirname(os.path.dirname(os.path.abspath(config_path)))
    service = Service(config)
    log = LogStream(service, service.log_url(config["container"], config["log_name"]))
    env = dict(os.environ)
    env.update(config["environment"])
    command = [config["interpreter"], config["wrapper"], config["script"], *config["arguments"]]
    killfile = os.path.join(run_dir, "azureml-setup", "killfile")
    if _cancel_requested(service, killfile, [0.0]):
        log.close()
        return 0
    service.event("Start", {"StartTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    try:
        process = subprocess.Popen(command, cwd=run_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as error:
        log.write(f"amlmock: could not start {command[0]}: {error}\n".encode())
        log.close()
        service.event("Error", {"ErrorResponse": {"error": {"code": "UserError", "message": f"Could not start the script: {error}"}}})
        service.event("Failed")
        return 1
    service.register(os.getpid(), process.pid)
    tail: Deque[str] = collections.deque(maxlen=TAIL_LINES)
    pump = threading.Thread(target=_pump, args=(process.stdout, log, tail), daemon=True)
    pump.start()
    canceled = False
    last_check = [0.0]
    while process.poll() is None:
        if _cancel_requested(service, killfile, last_check):
            canceled = True
            _stop(process)
            break
        time.sleep(POLL_SECONDS)
    code = process.wait()
    pump.join(timeout=5)
    log.close()
    try:
        _report(service, canceled, code, list(tail))
    except ServiceGone:
        pass
    return code


def _report(service: Service, canceled: bool, code: int, tail: list[str]) -> None:
    if canceled:
        service.event("Canceled")
    elif code == 0:
        service.event("Completed")
    else:
        message = f"Script exited with code {code}."
        if tail:
            message += " The last lines of its output (stdout and stderr):\n" + "\n".join(tail)
        service.event("Error", {"ErrorResponse": {"error": {"code": "UserError", "message": message[-3000:]}}})
        service.event("Failed")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
