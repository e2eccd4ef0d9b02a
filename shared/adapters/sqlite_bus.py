"""SqliteBus: the embedded twin of Service Bus, one SQLite file shared by threads and processes."""
from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from shared.adapters.sqlite_bus_schema import NEXT_VISIBLE, SCHEMA
from shared.domain.errors import Conflict, NotFound, PermanentError
from shared.domain.messages import Envelope
from shared.domain.settlement import (COMPLETE, DEAD_LETTER, RetryPolicy, Settlement,
                                      failure_reason)
from shared.ports import Received
from shared.private_files import private_file

_POLL_S = 0.025  # other processes cannot wake us, so a waiting receive re-checks this often


class SqliteBus:
    """Service Bus semantics on one SQLite file: peek-lock delivery, duplicate detection
    on the envelope id (kept forever), scheduled messages, retries with exponential
    backoff, a dead-letter queue per queue and a journal of every published envelope.

    Safe for many threads (one connection each) and several processes at once: WAL lets
    readers run beside the single writer, and every state change happens in a
    `BEGIN IMMEDIATE` transaction, so two receivers can never claim the same message.

    `now` is the clock for visibility, locks and backoff (seconds since the epoch); tests
    pass a fake one. Waiting in `receive(max_wait_s=...)` uses real time.
    """

    def __init__(self, path: Path, *, max_deliveries: int = 5, lock_timeout_s: float = 300.0,
                 backoff_s: float = 1.0, max_backoff_s: float = 60.0,
                 now: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.max_deliveries = max_deliveries
        self.lock_timeout_s = lock_timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._now = now
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._generation = 0
        self._schema_ready = False
        self._arrived = threading.Condition()

    # --- sending -----------------------------------------------------------------------

    def publish(self, envelope: Envelope, *, delay_s: float = 0.0) -> None:
        """Journal the envelope and send it to its message type's queue.

        Parameters: delay_s > 0 schedules it: invisible until now + delay_s.
        An id seen before (delivered, completed or journaled) is ignored silently.
        """
        now = self._now()
        body = envelope.to_json()
        with self._transaction() as db:
            if not db.execute("INSERT OR IGNORE INTO seen_ids (id) VALUES (?)",
                              (envelope.id,)).rowcount:
                return
            db.execute("INSERT INTO events (id, type, correlation_id, causation_id, created_at,"
                       " body) VALUES (?, ?, ?, ?, ?, ?)",
                       (envelope.id, envelope.type, envelope.correlation_id,
                        envelope.causation_id, envelope.created_at, body))
            if envelope.queue is not None:
                db.execute("INSERT INTO messages (queue, id, type, correlation_id, body, "
                           "visible_at) VALUES (?, ?, ?, ?, ?, ?)",
                           (envelope.queue, envelope.id, envelope.type,
                            envelope.correlation_id, body, now + max(delay_s, 0.0)))
        self._wake_receivers()

    # --- receiving and settling --------------------------------------------------------

    def receive(self, queue: str, *, max_wait_s: float = 0.0) -> Received | None:
        """Claim the oldest visible message of queue under a lock of lock_timeout_s.

        Returns None if none arrives within max_wait_s. Messages past their maximum
        delivery count, or whose body is not a valid envelope, are dead-lettered on the
        way rather than blocking the queue.
        """
        deadline = time.monotonic() + max_wait_s
        while True:
            received = self._claim(queue)
            if received is not None:
                return received
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with self._arrived:
                self._arrived.wait(min(remaining, _POLL_S))

    def complete(self, received: Received) -> None:
        """Delete the message. Raises Conflict if its lock was lost."""
        with self._transaction() as db:
            # The token alone decides: a lock that expired but that nobody re-took is still
            # ours, and completing it spares the queue a pointless redelivery.
            if not db.execute("DELETE FROM messages WHERE lock_token = ?",
                              (received.lock_token,)).rowcount:
                raise _lock_lost(received)

    def renew_lock(self, received: Received) -> None:
        """Extend the lock by lock_timeout_s from now. Raises Conflict if it was lost."""
        with self._transaction() as db:
            if not db.execute("UPDATE messages SET locked_until = ? WHERE lock_token = ?",
                              (self._now() + self.lock_timeout_s,
                               received.lock_token)).rowcount:
                raise _lock_lost(received)

    @property
    def policy(self) -> RetryPolicy:
        """The retry policy of every queue of this bus (see shared.domain.settlement)."""
        return RetryPolicy(self.max_deliveries, self.backoff_s, self.max_backoff_s)

    def abandon(self, received: Received, reason: str) -> None:
        """Settle a failure as the policy says: back after its backoff, or dead-lettered
        on the max_deliveries-th delivery. Raises Conflict if the lock was lost."""
        self.settle(received, self.policy.after_failure(reason, received.delivery_count))

    def settle(self, received: Received, settlement: Settlement) -> None:
        """Carry out a decision of the policy: complete, give the message back visible
        after settlement.delay_s, or dead-letter it with settlement.reason. Raises
        Conflict if the lock was lost."""
        if settlement.action == COMPLETE:
            self.complete(received)
            return
        if settlement.action == DEAD_LETTER:
            self.dead_letter(received, settlement.reason)
            return
        with self._transaction() as db:
            row = self._locked_row(db, received)
            db.execute("UPDATE messages SET lock_token = NULL, locked_until = NULL, "
                       "visible_at = ?, last_reason = ? WHERE seq = ?",
                       (self._now() + settlement.delay_s, settlement.reason, row["seq"]))

    def dead_letter(self, received: Received, reason: str) -> None:
        """Move the message to its queue's dead-letter queue at once (permanent errors).
        Raises Conflict if the lock was lost."""
        with self._transaction() as db:
            self._move_to_dead_letters(db, self._locked_row(db, received), reason, self._now())

    # --- dead letters, journal, counts -------------------------------------------------

    def dead_letters(self, queue: str) -> list[dict]:
        """The dead-lettered messages of queue, oldest first; body is the envelope JSON."""
        rows = self._conn().execute(
            "SELECT id, type, correlation_id, body, reason, delivery_count, dead_lettered_at "
            "FROM dead_letters WHERE queue = ? ORDER BY seq", (queue,)).fetchall()
        return [dict(row) for row in rows]

    def replay_dead_letter(self, queue: str, message_id: str) -> None:
        """Send a dead-lettered message back to its queue, visible now, with a fresh
        delivery count. Raises NotFound if queue has no such dead letter."""
        with self._transaction() as db:
            row = db.execute("SELECT * FROM dead_letters WHERE queue = ? AND id = ? "
                             "ORDER BY seq LIMIT 1", (queue, message_id)).fetchone()
            if row is None:
                raise NotFound(f"no dead letter {message_id} on queue {queue}")
            db.execute("INSERT INTO messages (queue, id, type, correlation_id, body, "
                       "visible_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (queue, row["id"], row["type"], row["correlation_id"], row["body"],
                        self._now()))
            db.execute("DELETE FROM dead_letters WHERE seq = ?", (row["seq"],))
        self._wake_receivers()

    def events(self, correlation_id: str | None = None) -> list[Envelope]:
        """Every published envelope (of one correlation, if given), in publish order."""
        sql, args = "SELECT body FROM events", ()
        if correlation_id is not None:
            sql, args = sql + " WHERE correlation_id = ?", (correlation_id,)
        rows = self._conn().execute(sql + " ORDER BY seq", args).fetchall()
        return [Envelope.from_json(row["body"]) for row in rows]

    def pending(self, queue: str | None = None) -> int:
        """Messages not yet completed or dead-lettered: visible, scheduled or locked."""
        sql, args = "SELECT COUNT(*) FROM messages", ()
        if queue is not None:
            sql, args = sql + " WHERE queue = ?", (queue,)
        return self._conn().execute(sql, args).fetchone()[0]

    def close(self) -> None:
        """Close every connection this bus opened; a later call opens new ones."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
            self._generation += 1
        for db in connections:
            db.close()

    # --- internals ---------------------------------------------------------------------

    def _claim(self, queue: str) -> Received | None:
        now = self._now()
        with self._transaction() as db:
            while True:
                row = db.execute(NEXT_VISIBLE, (queue, now, now)).fetchone()
                if row is None:
                    return None
                # Only an expired lock gets a message here with its deliveries used up:
                # abandon dead-letters it itself.
                expired = self.policy.after_failure("lock expired", row["delivery_count"])
                if expired.gave_up:
                    self._move_to_dead_letters(db, row, expired.reason, now)
                    continue
                try:
                    envelope = Envelope.from_json(row["body"])
                except PermanentError as exc:
                    self._move_to_dead_letters(db, row, failure_reason(exc), now)
                    continue
                token, count = uuid.uuid4().hex, row["delivery_count"] + 1
                db.execute("UPDATE messages SET delivery_count = ?, lock_token = ?, "
                           "locked_until = ? WHERE seq = ?",
                           (count, token, now + self.lock_timeout_s, row["seq"]))
                return Received(envelope, token, count, queue)

    @staticmethod
    def _locked_row(db: sqlite3.Connection, received: Received) -> sqlite3.Row:
        row = db.execute("SELECT * FROM messages WHERE lock_token = ?",
                         (received.lock_token,)).fetchone()
        if row is None:
            raise _lock_lost(received)
        return row

    @staticmethod
    def _move_to_dead_letters(db: sqlite3.Connection, row: sqlite3.Row, reason: str,
                              now: float) -> None:
        db.execute("INSERT INTO dead_letters (queue, id, type, correlation_id, body, reason, "
                   "delivery_count, dead_lettered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (row["queue"], row["id"], row["type"], row["correlation_id"], row["body"],
                    reason, row["delivery_count"],
                    datetime.fromtimestamp(now, timezone.utc).isoformat()))
        db.execute("DELETE FROM messages WHERE seq = ?", (row["seq"],))

    def _wake_receivers(self) -> None:
        # Only receivers in this process hear it; the others find the message on their
        # next poll.
        with self._arrived:
            self._arrived.notify_all()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _conn(self) -> sqlite3.Connection:
        # A forked child inherits the parent's thread-locals; sharing an open SQLite
        # connection across a fork corrupts locks, so the pid is part of the key.
        key = (os.getpid(), self._generation)
        if getattr(self._local, "key", None) != key:
            self._local.db, self._local.key = self._connect(), key
        return self._local.db

    def _connect(self) -> sqlite3.Connection:
        if not self._schema_ready:
            private_file(self.path)
        # check_same_thread=False only so close() may close it from another thread; each
        # connection is otherwise used by the thread that opened it.
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                             check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout = 30000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # durable enough in WAL, far fewer fsyncs
        if not self._schema_ready:
            db.executescript(SCHEMA)
            self._schema_ready = True
        with self._connections_lock:
            self._connections.append(db)
        return db


def _lock_lost(received: Received) -> Conflict:
    return Conflict(f"message lock lost: {received.envelope.id} on queue {received.queue}")
