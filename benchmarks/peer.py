"""Benchmark 4: amlmock's per-call overhead for ``run.tag`` against moto's for S3 ``put_object_tagging``.

Each overhead is (mocked - floor) for its own SDK, and both floors are built the same way: the
call's reply, recorded once from the fake, is handed back at the point where the fake would take
the request. For azureml that is the ``responses`` transport (see ``floor.py``); for boto3 it is
botocore's ``before-send`` event, where moto itself hooks in, answered with an ``AWSResponse``
built exactly as moto builds it. So both SDKs do all their own work (serialising, signing,
parsing) in both variants, and the difference is each fake's routing, state and reply.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Callable

from amlmock import mock_aml

from .floor import walkthrough_floor
from .measure import Figure, Sample, Settings, alternate, median_cpu, timed
from .walkthrough import experiment, prepare

NAME = "4 peer"
BUCKET = "amlmock-bench"
KEY = "object.txt"
OPERATION = "s3.PutObjectTagging"


def _tag_calls(calls: int) -> Sample:
    run = experiment().start_logging(snapshot_directory=None)
    return timed(lambda: [run.tag("quality", f"take {index}") for index in range(calls)])


def _amlmock(calls: int) -> Sample:
    with mock_aml() as aml:
        prepare(aml)
        return _tag_calls(calls)


def _amlmock_floor(calls: int) -> Sample:
    with walkthrough_floor().active():
        return _tag_calls(calls)


def _s3_client() -> Any:
    import boto3

    return boto3.client("s3", region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")


def _tag_object(client: Any, index: int) -> None:
    tags = {"TagSet": [{"Key": "quality", "Value": f"take {index}"}]}
    client.put_object_tagging(Bucket=BUCKET, Key=KEY, Tagging=tags)


def _tagging_calls(client: Any, calls: int) -> Sample:
    return timed(lambda: [_tag_object(client, index) for index in range(calls)])


def _moto_client() -> Any:
    """A client with the bucket and the object created (call it under ``mock_aws``)."""
    client = _s3_client()
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key=KEY, Body=b"data")
    return client


def _moto(calls: int) -> Sample:
    from moto import mock_aws

    with mock_aws():
        return _tagging_calls(_moto_client(), calls)


def _record_moto_reply() -> dict[str, Any]:
    """moto's reply to one ``put_object_tagging`` (status, headers, body)."""
    from moto import mock_aws

    replies: list[dict[str, Any]] = []
    with mock_aws():
        client = _moto_client()
        client.meta.events.register(
            f"response-received.{OPERATION}", lambda response_dict, **_: replies.append(response_dict)
        )
        _tag_object(client, 0)
    return replies[0]


def _s3_floor(reply: dict[str, Any]) -> Callable[[int], Sample]:
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, reply["status_code"], reply["headers"], MockRawResponse(reply["body"]))

    def measure(calls: int) -> Sample:
        client = _s3_client()
        client.meta.events.register_first(f"before-send.{OPERATION}", answer)
        return _tagging_calls(client, calls)

    return measure


def run(settings: Settings) -> list[Figure]:
    """Per-call overheads over each SDK's floor, and their ratio."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("boto3") is None:
        return [Figure.skip(NAME, "amlmock / moto per-call overhead", "install .[bench] (moto, boto3)")]
    calls = settings.pick(300, 5)
    s3_floor = _s3_floor(_record_moto_reply())
    variants: dict[str, Callable[[], Sample]] = {
        "amlmock": lambda: _amlmock(calls),
        "amlmock_floor": lambda: _amlmock_floor(calls),
        "moto": lambda: _moto(calls),
        "s3_floor": lambda: s3_floor(calls),
    }
    per_call = {name: median_cpu(samples) / calls * 1e6 for name, samples in alternate(variants, settings).items()}
    amlmock_overhead = per_call["amlmock"] - per_call["amlmock_floor"]
    moto_overhead = per_call["moto"] - per_call["s3_floor"]
    raw = {
        "amlmock_overhead_us": amlmock_overhead,
        "moto_overhead_us": moto_overhead,
        **{f"{name}_us": value for name, value in per_call.items()},
    }
    return [Figure(NAME, "amlmock / moto per-call overhead (CPU)", amlmock_overhead / moto_overhead, "×", None, raw)]
