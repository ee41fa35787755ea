-- 004: officers: search indexes, the origin countries of a declaration,
-- decisions.  Applied by `declared --migrate` inside one transaction.
--
-- Every search the daemon offers (GET /v1/declarations) is a keyset scan in
-- the order (received_at DESC, id DESC), optionally narrowed by one or more
-- filters.  Each filter has an index whose trailing columns are that order,
-- so a page is read straight from the index and stops after LIMIT rows:
-- status, declarant and lane (btree), mrn and lrn (unique / btree), HS code
-- (GIN over the codes, and over their 4- and 6-digit prefixes) and origin country
-- (GIN).  docs/officers.md shows the plans on one million declarations.

-- Origin countries of the items (Origin/CountryCode), distinct.  The
-- batcher fills it at intake; rows stored before it did stay '{}'.
ALTER TABLE declarations ADD COLUMN origins text[] NOT NULL DEFAULT '{}';

-- The HS headings (4 digits) and subheadings (6 digits) of the codes, for
-- "hs=8471" or "hs=847130": kept by PostgreSQL itself from hs_codes.
-- Measured cost at intake, 20 distinct 10-digit codes: ~4 us for the
-- function and ~45 us for the ~25 extra GIN keys (docs/officers.md).
CREATE FUNCTION declared_hs_prefixes(p_codes text[]) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	v_keys text[] := '{}';
	v_code text;
	v_key  text;
BEGIN
	FOREACH v_code IN ARRAY p_codes LOOP
		v_key := left(v_code, 4);
		IF NOT v_key = ANY (v_keys) THEN
			v_keys := v_keys || v_key;
		END IF;
		v_key := left(v_code, 6);
		IF length(v_code) >= 6 AND NOT v_key = ANY (v_keys) THEN
			v_keys := v_keys || v_key;
		END IF;
	END LOOP;
	RETURN v_keys;
END
$$;
ALTER TABLE declarations ADD COLUMN hs_prefixes text[]
	GENERATED ALWAYS AS (declared_hs_prefixes(hs_codes)) STORED;

CREATE INDEX declarations_received ON declarations (received_at, id);
CREATE INDEX declarations_status ON declarations (status, received_at, id);
CREATE INDEX declarations_declarant ON declarations (declarant, received_at, id);
CREATE INDEX declarations_lane ON declarations (lane, received_at, id);
CREATE INDEX declarations_lrn ON declarations (lrn);
CREATE INDEX declarations_hs ON declarations USING gin (hs_codes);
CREATE INDEX declarations_hs_prefixes ON declarations USING gin (hs_prefixes);
CREATE INDEX declarations_origins ON declarations USING gin (origins);

-- Which decision, on the events written by officers (NULL otherwise).
ALTER TABLE events ADD COLUMN action text;

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

GRANT EXECUTE ON FUNCTION declared_decide, declared_hs_prefixes TO declared_writer;
GRANT EXECUTE ON FUNCTION declared_hs_prefixes TO declared_reader;
