"""Redrive a dead-letter queue into its function: on AWS or against the local stack.

A Lambda DLQ (a function's `DeadLetterQueue`) and an EventBridge target DLQ hold the event the function never
processed as the message body. SQS's own redrive (`start-message-move-task`) only moves messages back to a
source *queue*, so these are redriven by invoking the function with each body. Every function the shop invokes
asynchronously is idempotent (events are recorded once), so a message redriven twice does no harm.

    python -m shoplocal.redrive --queue-url URL --function NAME [--max N] [--dry-run] [--endpoint-url URL]

A message is deleted only after its invocation succeeded; one that fails again stays in the queue (visible
again after its visibility timeout) and is reported with Lambda's error type.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RedriveResult:
    redriven: list[str] = field(default_factory=list)  # message ids processed and deleted
    failed: dict[str, str] = field(default_factory=dict)  # message id -> error type, left in the queue
    waiting: int = 0  # messages in the queue before the redrive (approximate, as SQS counts)


def redrive(sqs: Any, lambda_client: Any, queue_url: str, function_name: str, *, max_messages: int = 100,
            dry_run: bool = False) -> RedriveResult:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    result = RedriveResult(waiting=int(attributes["Attributes"]["ApproximateNumberOfMessages"]))
    if dry_run:
        return result
    seen: set[str] = set()
    while len(seen) < max_messages:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=min(10, max_messages - len(seen)),
                                    WaitTimeSeconds=1, VisibilityTimeout=60,
                                    MessageAttributeNames=["All"]).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            answer = lambda_client.invoke(FunctionName=function_name, InvocationType="RequestResponse",
                                          Payload=message["Body"].encode())
            if answer.get("FunctionError"):
                payload = json.loads(answer["Payload"].read() or b"{}")
                result.failed[message["MessageId"]] = str(payload.get("errorType", answer["FunctionError"]))
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            result.redriven.append(message["MessageId"])
    return result


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m shoplocal.redrive", description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--function", required=True, help="function name or ARN the queue's events belong to")
    parser.add_argument("--max", type=int, default=100, dest="max_messages")
    parser.add_argument("--dry-run", action="store_true", help="count the waiting messages, invoke nothing")
    parser.add_argument("--endpoint-url", help="the local stack's moto address (printed by `make run`)")
    parser.add_argument("--region")
    args = parser.parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    sqs = session.client("sqs", endpoint_url=args.endpoint_url)
    lam = session.client("lambda", endpoint_url=args.endpoint_url)
    result = redrive(sqs, lam, args.queue_url, args.function, max_messages=args.max_messages, dry_run=args.dry_run)
    print(json.dumps({"redriven": len(result.redriven), "failed": result.failed, "waiting": result.waiting}))
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
