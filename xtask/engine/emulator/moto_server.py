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

Usage (as moto_server): python moto_server.py -H 127.0.0.1 -p PORT
"""

import copy
import functools
import logging
import sys
import threading

import moto
from moto import backends
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main

# One request at a time across DynamoDB and DynamoDB Streams (moto runs on one core anyway).
_DYNAMODB = threading.RLock()


def _one_at_a_time(call_action):
    def serialized(self, *args, **kwargs):
        with _DYNAMODB:
            return call_action(self, *args, **kwargs)

    return serialized


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


def patch():
    backends.list_of_moto_modules = functools.cache(lambda modules=backends.list_of_moto_modules: tuple(modules()))
    DomainDispatcherApplication.get_backend_for_host = _cached_per_host(DomainDispatcherApplication.get_backend_for_host)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    dynamodb_models.copy = _TablesStay
    Table.query = query
    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items
    DynamoHandler.call_action = _one_at_a_time(DynamoHandler.call_action)
    DynamoDBStreamsHandler.call_action = _one_at_a_time(DynamoDBStreamsHandler.call_action)


# The fixes reach into moto's internals as they are in this version (.ci/requirements.txt pins it).
MOTO_VERSION = "5.2.5"

if __name__ == "__main__":
    if moto.__version__ != MOTO_VERSION:
        sys.exit(
            f"{__file__}: written against moto {MOTO_VERSION} (pinned in .ci/requirements.txt), found {moto.__version__}; "
            "run `bash .ci/setup` to install the pinned version"
        )
    patch()
    sys.exit(main())
