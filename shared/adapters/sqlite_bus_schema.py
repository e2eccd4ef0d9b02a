"""The tables of SqliteBus: envelope ids seen (duplicate detection), the journal of
every published envelope, the messages waiting on their queues, and dead letters."""

SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS seen_ids (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, type TEXT NOT NULL,
    correlation_id TEXT NOT NULL, causation_id TEXT NOT NULL, created_at TEXT NOT NULL,
    body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_correlation ON events (correlation_id, seq);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, id TEXT NOT NULL,
    type TEXT NOT NULL, correlation_id TEXT NOT NULL, body TEXT NOT NULL,
    visible_at REAL NOT NULL, delivery_count INTEGER NOT NULL DEFAULT 0,
    lock_token TEXT UNIQUE, locked_until REAL, last_reason TEXT);
CREATE INDEX IF NOT EXISTS messages_by_queue ON messages (queue, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, id TEXT NOT NULL,
    type TEXT NOT NULL, correlation_id TEXT NOT NULL, body TEXT NOT NULL,
    reason TEXT NOT NULL, delivery_count INTEGER NOT NULL, dead_lettered_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dead_letters_by_queue ON dead_letters (queue, seq);
COMMIT;
"""

NEXT_VISIBLE = """
SELECT * FROM messages
WHERE queue = ? AND visible_at <= ? AND (locked_until IS NULL OR locked_until <= ?)
ORDER BY seq LIMIT 1
"""
