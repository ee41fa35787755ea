-- 003: delivery of acknowledgements: the NOTIFY that wakes long-polls and
-- push delivery in every daemon instance, and the push delivery state.
-- Applied by `declared --migrate` inside one transaction.

-- Every committed acknowledgement wakes the listeners of its party.
-- PostgreSQL collapses notifications with the same channel and payload
-- inside one transaction, so a batch costs one message per party.
CREATE FUNCTION acks_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('declared_acks', NEW.party);
	RETURN NULL;
END
$$;
CREATE TRIGGER acks_notify AFTER INSERT ON acks
	FOR EACH ROW EXECUTE FUNCTION acks_notify();

-- Push delivery, one row per party with a callback (parties.callback_url).
-- delivered_seq: every acknowledgement up to it is done (delivered,
-- rejected by the receiver or expired).  The next one, delivered_seq + 1,
-- is delivered by the instance holding the lease (locked_by, until
-- locked_until); leases are taken with FOR UPDATE SKIP LOCKED, so two
-- instances never work on the same party at once.  attempts and
-- next_attempt_at hold the backoff of the acknowledgement that failed.
CREATE TABLE push_state (
	party           text PRIMARY KEY REFERENCES parties (id),
	delivered_seq   bigint NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	attempts        integer NOT NULL DEFAULT 0,
	last_error      text,
	locked_by       text,
	locked_until    timestamptz,
	created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_state_due ON push_state (next_attempt_at);

-- Every attempt and its outcome: delivered (2xx), rejected (4xx: skipped),
-- failed (timeout, connection error, 5xx: retried), expired (older than the
-- retention: skipped without an attempt).
CREATE TABLE push_attempts (
	id          bigserial PRIMARY KEY,
	party       text NOT NULL,
	seq         bigint NOT NULL,
	at          timestamptz NOT NULL DEFAULT now(),
	outcome     text NOT NULL CHECK (outcome IN
	                ('delivered', 'rejected', 'failed', 'expired')),
	http_status integer,
	error       text,
	instance    text NOT NULL
);
CREATE INDEX push_attempts_party_seq ON push_attempts (party, seq);

GRANT SELECT, INSERT, UPDATE, DELETE ON push_state TO declared_writer;
GRANT SELECT, INSERT ON push_attempts TO declared_writer;
GRANT USAGE, SELECT ON SEQUENCE push_attempts_id_seq TO declared_writer;
GRANT SELECT ON push_state, push_attempts TO declared_reader;
