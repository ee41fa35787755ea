-- 004: officers: search indexes, the origin countries of a declaration,
-- decisions.  Applied by `declared --migrate` inside one transaction.
--
-- Every search the daemon offers (GET /v1/declarations) reads one page in
-- the order (received_at DESC, id DESC) with a keyset cursor, narrowed by
-- filters.  The btree filters (status, declarant, lane) have that order as
-- their trailing columns, so a page is read straight from the index and
-- stops after LIMIT rows; mrn and lrn find one row; HS codes and origins
-- have GIN indexes, and the planner picks between them and the
-- (received_at, id) index by frequency.  docs/officers.md has
-- the plans and times on one million declarations (tests/integration/
-- test_officers.sh measures them).

-- Origin countries of the items (Origin/CountryCode), distinct.  To be
-- filled at intake by the batcher; rows stored before stay '{}'.
ALTER TABLE declarations ADD COLUMN origins text[] NOT NULL DEFAULT '{}';

-- Each index costs intake time (docs/officers.md has the measures): the
-- btree indexes on status and lane leave out the value most rows have
-- (released, green), which the (received_at, id) index serves as well, so
-- a green declaration released at intake is not written to either.
CREATE INDEX declarations_received ON declarations (received_at, id);
CREATE INDEX declarations_status ON declarations (status, received_at, id)
	WHERE status <> 'released';
CREATE INDEX declarations_declarant ON declarations (declarant, received_at, id);
CREATE INDEX declarations_lane ON declarations (lane, received_at, id)
	WHERE lane <> 'green' OR lane IS NULL;
CREATE INDEX declarations_lrn ON declarations (lrn);
CREATE INDEX declarations_hs ON declarations USING gin (hs_codes);
CREATE INDEX declarations_origins ON declarations USING gin (origins);

-- Which decision, on the events written by officers (NULL otherwise), and
-- the decisions per minute of GET /v1/stats.
ALTER TABLE events ADD COLUMN action text;
CREATE INDEX events_decisions ON events (at) WHERE action IS NOT NULL;

-- An officer's decision: moves the declaration from one of p_from to p_to,
-- appends the event and queues the signed acknowledgement, in one
-- transaction.  The row is locked first, so of two officers deciding at
-- once the second sees the first one's state: 'conflict' with the current
-- state, nothing written.  Outcomes: 'done' (state = p_to, ack_seq),
-- 'conflict' (state = the current one), 'not_found'.
CREATE FUNCTION declared_decide(
	p_id bigint, p_from text[], p_to text, p_actor text, p_action text,
	p_reason text, p_ack_kind text, p_ack bytea)
RETURNS TABLE (outcome text, state text, ack_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_status    text;
	v_submitter text;
	v_seq       bigint;
BEGIN
	SELECT d.status, d.submitter INTO v_status, v_submitter
	  FROM declarations d WHERE d.id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::bigint;
		RETURN;
	END IF;
	IF NOT (v_status = ANY (p_from)) THEN
		RETURN QUERY SELECT 'conflict'::text, v_status, NULL::bigint;
		RETURN;
	END IF;
	UPDATE declarations SET status = p_to, updated_at = now() WHERE id = p_id;
	INSERT INTO events (declaration_id, actor, from_status, to_status, reason, action)
	VALUES (p_id, p_actor, v_status, p_to, p_reason, p_action);
	v_seq := declared_next_seq(v_submitter);
	INSERT INTO acks (party, seq, declaration_id, kind, body)
	VALUES (v_submitter, v_seq, p_id, p_ack_kind, p_ack);
	RETURN QUERY SELECT 'done'::text, p_to, v_seq;
END
$$;

GRANT EXECUTE ON FUNCTION declared_decide TO declared_writer;
