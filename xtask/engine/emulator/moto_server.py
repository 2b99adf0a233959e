"""The local AWS emulator the kit starts: moto's server (the pinned moto[server] in .venv) with
two fixes to its DynamoDB, so that the emulator keeps what DynamoDB guarantees and the kit's
local runtime and soak can rely on it.

moto 5.2.5 backs up every table a TransactWriteItems names with copy.deepcopy before it runs
the transaction and, when the transaction is cancelled (a failed condition), puts the copies in
place of the tables. Served by a threaded server, that
  - loses every write other requests made to those tables while the transaction ran, and
  - replaces each table's stream shard with a copy, so every shard iterator handed out before
    reads the discarded shard for ever: GetRecords answers no records although the table is
    written (a stalled stream), and
  - costs a copy of whole tables per transaction, so the emulator slows as its tables grow.
DynamoDB cancels a transaction as a whole and nothing else ("TransactWriteItems is an
all-or-nothing operation": https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html),
and a table's stream shard lives on while the table is written. Here a cancelled transaction
puts back only the items it named and drops only the stream records it appended; DynamoDB and
DynamoDB Streams requests are served one at a time, so no request sees a transaction half done.

moto's Query also reads every item of the table, sorted, to keep those under the one partition
key asked for: its cost grows with the table, and a soak slowed from 7 to 2.5 commands a second
as its event log grew. A Query of the table itself (not of an index) here reads only that
partition's items, which is all moto's own filter keeps.

It also spares moto three costs it pays on every request, which made up about a fifth of its
CPU time in the kit's soak (sampled with py-spy): listing its own package directory from disk
and matching the host against every service's URL patterns to find the backend (both cached
per host here, as they never change while it runs), and logging the request line.

moto 5.2.5's Kinesis shard gives a record the sequence number after the shard's highest and
stores it under that number, and says so itself: "this function is not safe for concurrency". On
a threaded server two PutRecords to one shard take the same number and the second record
replaces the first, while both calls answer success: acknowledged records vanish from the
stream (a test sent 15,000 records from three threads and 674 were missing). Kinesis stores
every record a PutRecords answers with a sequence number ("A record that is successfully added
to a stream includes SequenceNumber and ShardId in the result":
https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsResultEntry.html), so here
Kinesis requests are served one at a time too. Its shard also lists every sequence number to find the
highest on each record put, and walks the shard from its first record on each GetRecords; here
both go straight to the numbers they need (a shard's numbers run 1, 2, 3, ... with no gap).

Python's cyclic garbage collector walks every object the server holds each time the long-lived
ones grow by a quarter, and all requests wait meanwhile: a walk of 1,000,000 stored items (1.5 GiB)
takes about 1.5 s, and the walk grows with the heap (a 100,000-event soak ends at 13 GiB). The
items, tables and streams moto keeps are long-lived by nature, so here whatever survives a full
collection is frozen (gc.freeze: left out of later collections). Later full collections walk only
what was stored since; cycles among frozen objects are never reclaimed, which costs what moto
would keep anyway plus tables deleted after they were frozen. `--gc-bench [N]` measures both ways
while N items (1,000,000 by default) are stored.

Two more costs went on every call of the soak's hot path:
  - moto 5.2.5 serializes every DynamoDB, DynamoDB Streams and Kinesis answer by walking the
    operation's botocore output shape member by member (a fifth of its samples). The answers of
    the data-plane operations below are already plain JSON values (dicts, lists, strings,
    numbers; bytes and datetimes, which the shape walk writes as base64 and epoch seconds), so
    here they are written with json.dumps the same way; any other value falls back to moto's
    serializer. `--self-test` checks both give the same JSON for each of these operations.
  - moto's Kinesis PutRecords and DynamoDB stream writes invoke the Lambda functions of its own
    event source mappings, which without Docker fails after looking for a Docker daemon on every
    record. The kit's local runtime runs the mappings (`cargo xtask local run`); moto here does not.

Usage (as moto_server): python moto_server.py -H 127.0.0.1 -p PORT
       python moto_server.py --self-test
       python moto_server.py --gc-bench [N]
With KIT_EMULATOR_COMPARE_ANSWERS=1 in its environment the server also writes every fast answer
moto's way and prints any difference to its log.
"""

import base64
import copy
import functools
import gc
import json
import logging
import os
import sys
import threading
from datetime import datetime

import moto
from moto import backends
from moto.awslambda.models import LambdaBackend
from moto.core.responses import BaseResponse
from botocore.utils import parse_to_aware_datetime
from moto.core.serialize import TimestampSerializer
from moto.core.utils import get_service_model
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.kinesis.models import Shard as KinesisShard
from moto.kinesis.responses import KinesisResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main

# One request at a time across DynamoDB and DynamoDB Streams, and one at a time to Kinesis
# (moto runs on one core anyway).
_DYNAMODB = threading.RLock()
_KINESIS = threading.RLock()


def _one_at_a_time(lock, call_action):
    def serialized(self, *args, **kwargs):
        with lock:
            return call_action(self, *args, **kwargs)

    return serialized


def _first_sequence_number(self):
    return next(iter(self.records), 0)


def _last_sequence_number(self):
    return next(reversed(self.records), 0)


_get_records = KinesisShard.get_records


def kinesis_get_records(self, last_sequence_id, limit):
    """moto's Shard.get_records without walking the records before `last_sequence_id`: the
    same records, the same last sequence number and the same lag behind the latest record."""
    records = self.records
    first, last = _first_sequence_number(self), _last_sequence_number(self)
    if not records or last - first + 1 != len(records):
        return _get_records(self, last_sequence_id, limit)
    after = int(last_sequence_id)
    start = max(after + 1, first)
    end = last + 1 if not limit else min(last + 1, start + limit)
    results = [records[number] for number in range(start, end)]
    if not results:
        return results, after, 0
    behind = records[last].created_at - results[-1].created_at
    return results, start + len(results) - 1, int(behind * 1000)


class _TablesStay:
    """Stands in for the `copy` module inside moto's DynamoDB backend: tables are not copied
    (the transaction wrapper below keeps what a rollback needs); anything else is."""

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)

    copy = staticmethod(copy.copy)


def _key_of(table, op_type, op):
    """(hash, range) of the item a transaction entry names, or None when it names none moto accepts."""
    attrs = op.get("Item") if op_type == "Put" else op.get("Key")
    if not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
        return None
    hash_value = DynamoType(attrs[table.hash_key_attr])
    range_value = None
    if table.range_key_attr is not None:
        if table.range_key_attr not in attrs:
            return None
        range_value = DynamoType(attrs[table.range_key_attr])
    return hash_value, range_value


def _before(backend, transact_items):
    """What a cancelled transaction must put back: each named item as it was, each stream's length."""
    items, streams = [], {}
    for entry in transact_items:
        if not isinstance(entry, dict) or len(entry) != 1:
            continue
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        key = _key_of(table, op_type, op)
        if key is None:
            continue
        current = table.get_item(*key) if table.has_range_key else table.get_item(key[0])
        items.append((table, key, copy.deepcopy(current)))
        if table.stream_shard is not None:
            streams.setdefault(id(table), (table, len(table.stream_shard.items)))
    return items, streams


def _put_back(items, streams):
    for table, (hash_value, range_value), before in reversed(items):
        if range_value is not None:
            if before is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = before
        elif before is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = before
    for table, length in streams.values():
        del table.stream_shard.items[length:]


_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    items, streams = _before(self, transact_items)
    try:
        return _transact_write_items(self, transact_items)
    except BaseException:
        _put_back(items, streams)
        raise


_query = Table.query


def query(self, hash_key, *args, **kwargs):
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name is not None or hash_key is None:
        return _query(self, hash_key, *args, **kwargs)
    partition = self.items.get(hash_key)
    if partition is None:
        under = []
    elif self.range_key_attr is not None:
        under = list(partition.values())
    else:
        under = [partition]
    # Requests are served one at a time, so the stand-in is seen by this query alone.
    self.all_items = lambda: under
    try:
        return _query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


def _cached_per_host(get_backend_for_host):
    def cached(self, host):
        found = self.__dict__.setdefault("_kit_backends", {})
        if host not in found:
            found[host] = get_backend_for_host(self, host)
        return found[host]

    return cached


# Data-plane operations whose answers are written with json.dumps (see the module's docstring),
# by service and action, with each service's JSON protocol version.
FAST_ANSWERS = {
    "dynamodb": ("1.0", {
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
        "TransactWriteItems", "TransactGetItems", "BatchGetItem", "BatchWriteItem",
    }),
    "dynamodbstreams": ("1.0", {"GetRecords", "GetShardIterator"}),
    "kinesis": ("1.1", {"PutRecords", "PutRecord", "GetRecords", "GetShardIterator"}),
}


class _NotPlain(Exception):
    """A value the shape walk may write differently from json.dumps."""


def _plain(value):
    """`value` as moto's JSON serializer writes it, or _NotPlain: None members are left out,
    bytes become base64 text and datetimes epoch seconds (millisecond precision)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value if item is not None]
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return TimestampSerializer._timestamp_unixtimestamp(parse_to_aware_datetime(value))
    raise _NotPlain(type(value).__name__)


@functools.cache
def _output_members(boto3_service_name, action):
    """The members of the operation's output: the shape walk writes only these."""
    shape = get_service_model(boto3_service_name).operation_model(action).output_shape
    return frozenset(shape.members) if shape is not None else frozenset()


def _fast_answer(response, action_result):
    """(status, headers, body) written with json.dumps, or None to leave it to moto. Only the
    output shape's own members are written, as the shape walk writes only those."""
    fast = FAST_ANSWERS.get(response.service_name)
    result = action_result.result
    if fast is None or not isinstance(result, dict):
        return None
    version, actions = fast
    action = response._get_action()
    if action not in actions:
        return None
    members = _output_members(response.boto3_service_name, action)
    try:
        body = json.dumps(_plain({key: value for key, value in result.items() if key in members}))
    except _NotPlain:
        return None
    headers = {"Content-Type": f"application/x-amz-json-{version}"}
    headers.update(response.response_headers)
    return 200, headers, body


_serialized = BaseResponse.serialized


# Filled by --self-test: (service, action) -> whether the fast answer matched moto's.
_COMPARED = None


def serialized(self, action_result):
    fast = _fast_answer(self, action_result)
    if fast is None:
        return _serialized(self, action_result)
    if _COMPARED is not None:
        status, headers, body = _serialized(self, action_result)
        same = (status, headers.get("Content-Type"), json.loads(body)) == (
            fast[0], fast[1]["Content-Type"], json.loads(fast[2])
        )
        if not same:
            print(f"{self.service_name} {self._get_action()}: moto {status} {body}\n  fast {fast[0]} {fast[2]}", flush=True)
        key = (self.service_name, self._get_action())
        _COMPARED[key] = _COMPARED.get(key, True) and same
    return fast


def _freeze_survivors(phase, info):
    """A gc callback: after a full collection, what survived is frozen (see the module's docstring)."""
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def gc_bench(count):
    """Stores `count` moto DynamoDB items in a fresh interpreter with moto's defaults, then with
    the survivors of each full collection frozen, and prints the full collections of each."""
    import subprocess

    for mode in ("default", "freeze"):
        subprocess.run([sys.executable, __file__, "--gc-bench-run", mode, str(count)], check=True)


def _gc_bench_run(mode, count):
    import time
    from moto.dynamodb.models.dynamo_type import Item

    pauses, started = [], [0.0]

    def timing(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        elif info["generation"] == 2:
            pauses.append(time.perf_counter() - started[0])

    gc.callbacks.append(timing)
    if mode == "freeze":
        gc.callbacks.append(_freeze_survivors)
    items, began = {}, time.perf_counter()
    for n in range(count):
        attrs = {"AggregateTypeAndId": {"S": f"Task#{n // 50}"}, "AggregateIdSequence": {"N": str(n % 50)},
                 "Payload": {"S": "x" * 200}, "Origin": {"S": "us-east-1"}, "EventId": {"S": f"{n:032x}"}}
        items[n] = Item(DynamoType(attrs["AggregateTypeAndId"]), DynamoType(attrs["AggregateIdSequence"]), attrs)
    took = time.perf_counter() - began
    print(f"{mode:>7}: {count} items stored in {took:.1f} s; {len(pauses)} full collections, "
          f"longest {max(pauses, default=0) * 1000:.0f} ms, together {sum(pauses):.2f} s", flush=True)


def _no_lambda_invocation(*_args, **_kwargs):
    return None


def patch():
    backends.list_of_moto_modules = functools.cache(lambda modules=backends.list_of_moto_modules: tuple(modules()))
    DomainDispatcherApplication.get_backend_for_host = _cached_per_host(DomainDispatcherApplication.get_backend_for_host)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    dynamodb_models.copy = _TablesStay
    Table.query = query
    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items
    DynamoHandler.call_action = _one_at_a_time(_DYNAMODB, DynamoHandler.call_action)
    DynamoDBStreamsHandler.call_action = _one_at_a_time(_DYNAMODB, DynamoDBStreamsHandler.call_action)
    KinesisResponse.call_action = _one_at_a_time(_KINESIS, KinesisResponse.call_action)
    KinesisShard.get_min_sequence_number = _first_sequence_number
    KinesisShard.get_max_sequence_number = _last_sequence_number
    KinesisShard.get_records = kinesis_get_records
    BaseResponse.serialized = serialized
    LambdaBackend.send_kinesis_message = _no_lambda_invocation
    LambdaBackend.send_dynamodb_items = _no_lambda_invocation
    gc.callbacks.append(_freeze_survivors)


def self_test():
    """Every operation of FAST_ANSWERS, through boto3 on moto in this process, with each fast
    answer compared to moto's own; the exit status says whether all matched."""
    global _COMPARED
    import boto3
    from moto import mock_aws

    _COMPARED = {}
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-west-1")
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        every_type = {
            "pk": {"S": "a"}, "sk": {"N": "1"}, "b": {"B": b"\x00\xffbin"}, "t": {"BOOL": True},
            "z": {"NULL": True}, "l": {"L": [{"S": "x"}, {"N": "2.5"}, {"M": {"k": {"B": b"\x01"}}}]},
            "ss": {"SS": ["p", "q"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"\x02", b"\x03"]},
        }
        key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
        ddb.put_item(TableName="t", Item=every_type, ReturnConsumedCapacity="TOTAL")
        ddb.put_item(TableName="t", Item={**every_type, "sk": {"N": "2"}}, ReturnValues="ALL_OLD")
        ddb.get_item(TableName="t", Key=key, ConsistentRead=True)
        ddb.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"N": "1"}})
        ddb.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}},
                  ScanIndexForward=False, Limit=1)
        ddb.scan(TableName="t")
        ddb.update_item(TableName="t", Key=key, UpdateExpression="SET v = :v",
                        ExpressionAttributeValues={":v": {"N": "7"}}, ReturnValues="ALL_NEW")
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {**every_type, "sk": {"N": "3"}},
                                                         "ConditionExpression": "attribute_not_exists(pk)"}}])
        try:
            ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": every_type,
                                                             "ConditionExpression": "attribute_not_exists(pk)"}}])
        except ddb.exceptions.TransactionCanceledException:
            pass
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}}])
        ddb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {**every_type, "sk": {"N": "4"}}}}]})
        ddb.batch_get_item(RequestItems={"t": {"Keys": [key]}})
        ddb.delete_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"N": "4"}}, ReturnValues="ALL_OLD")

        streams = boto3.client("dynamodbstreams", region_name="eu-west-1")
        arn = ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=100)

        kinesis = boto3.client("kinesis", region_name="eu-west-1")
        kinesis.create_stream(StreamName="s", ShardCount=1)
        kinesis.put_record(StreamName="s", Data=b"\x00one", PartitionKey="p")
        kinesis.put_records(StreamName="s", Records=[{"Data": b"two", "PartitionKey": "p"}, {"Data": b"\xff", "PartitionKey": "q"}])
        shard = kinesis.list_shards(StreamName="s")["Shards"][0]["ShardId"]
        iterator = kinesis.get_shard_iterator(StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=10)

    shard = KinesisShard(0, 0, 2**128 - 1)
    for number in range(7):
        shard.put_record("p", str(number), None)
    reads = [(after, limit) for after in range(-1, 10) for limit in (None, 1, 3, 7, 100)]
    differ = [read for read in reads if kinesis_get_records(shard, str(read[0]), read[1]) != _get_records(shard, str(read[0]), read[1])]
    for after, limit in differ:
        print(f"kinesis shard get_records after {after}, limit {limit}: differs from moto's")

    gc.unfreeze()
    gc.collect()
    frozen = gc.get_freeze_count() > 0
    if not frozen:
        print("gc: nothing frozen after a full collection")

    expected = {(service, action) for service, (_, actions) in FAST_ANSWERS.items() for action in actions}
    for key in sorted(expected - set(_COMPARED)):
        print(f"{key[0]} {key[1]}: not answered by the fast path")
    for key in sorted(k for k, same in _COMPARED.items() if not same):
        print(f"{key[0]} {key[1]}: the fast answer differs from moto's")
    ok = expected <= set(_COMPARED) and all(_COMPARED.values()) and not differ and frozen
    print(f"self-test: {len(_COMPARED)} operations compared, {'all the same' if ok else 'FAILED'}")
    return ok


# The fixes reach into moto's internals as they are in this version (.ci/requirements.txt pins it).
MOTO_VERSION = "5.2.5"

if __name__ == "__main__":
    if moto.__version__ != MOTO_VERSION:
        sys.exit(
            f"{__file__}: written against moto {MOTO_VERSION} (pinned in .ci/requirements.txt), found {moto.__version__}; "
            "run `bash .ci/setup` to install the pinned version"
        )
    patch()
    if os.environ.get("KIT_EMULATOR_COMPARE_ANSWERS") == "1":
        _COMPARED = {}
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(0 if self_test() else 1)
    if sys.argv[1:2] == ["--gc-bench"]:
        sys.exit(gc_bench(int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000))
    if sys.argv[1:2] == ["--gc-bench-run"]:
        gc.callbacks.remove(_freeze_survivors)
        sys.exit(_gc_bench_run(sys.argv[2], int(sys.argv[3])))
    sys.exit(main())
