-- 007: declarations, events and acknowledgements partitioned by month
-- (native range partitioning on received_at, at and created_at; months in
-- UTC), each with a DEFAULT partition so that no insert ever fails for
-- want of a partition.  docs/scaling.md (section 4) explains the design.
-- Applied by `declared --migrate` inside one transaction; the rows stored
-- before are copied into the partitions.
--
-- A unique key of a partitioned table must include the partition key, and
-- every key includes what a distribution by declarant (or, for the
-- acknowledgement streams, by party) needs:
--   (declarant, lrn): declaration_keys, an unpartitioned registry that
--       declared_store writes first (a conflict there is the 'duplicate' or
--       'conflict' answer, as before); it also finds a declaration's month
--       (and declarant) from its id;
--   declarations: (id, received_at, declarant); the id is unique by
--       construction (hi-lo blocks from one sequence), the MRN too (made
--       from the id): its index is no longer unique;
--   events: (id, at, declarant): the id comes from a sequence; events now
--       carry their declaration's declarant;
--   acks: (party, seq, created_at): the seq is taken under the party's row
--       lock, so (party, seq) is unique by construction.
--
-- declared_maintain() creates the partitions of the coming months and
-- detaches those older than the retention (their keys leave the registry
-- first: after the retention an LRN may be used again); a detached
-- partition stays in the database as a table until it is archived
-- (pg_dump) and dropped.

-- ---- partitions --------------------------------------------------------------

-- TABLE_YYYY_MM for the UTC month that holds p_month (a UTC wall-clock
-- time), unless a table of that name exists (attached, or detached and
-- awaiting its archive).  Returns whether it was created.  A new partition
-- is analysed at once, so that the planner knows it is empty (a table never
-- analysed is assumed to hold ten pages).
CREATE FUNCTION declared_month_partition(p_table text, p_month timestamp)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	v_m    timestamp := date_trunc('month', p_month);
	v_name text := p_table || '_' || to_char(v_m, 'YYYY_MM');
BEGIN
	IF to_regclass(v_name) IS NOT NULL THEN
		RETURN false;
	END IF;
	EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
		v_name, p_table, v_m AT TIME ZONE 'UTC',
		(v_m + interval '1 month') AT TIME ZONE 'UTC');
	EXECUTE format('ANALYZE %I', v_name);
	RETURN true;
END
$$;
REVOKE ALL ON FUNCTION declared_month_partition FROM PUBLIC;

-- ---- the registry of (declarant, lrn) ------------------------------------------

CREATE TABLE declaration_keys (
	declarant   text NOT NULL,
	lrn         text NOT NULL,
	id          bigint NOT NULL,
	received_at timestamptz NOT NULL,     -- = declarations.received_at
	PRIMARY KEY (declarant, lrn)
);
INSERT INTO declaration_keys (declarant, lrn, id, received_at)
SELECT declarant, lrn, id, received_at FROM declarations;
CREATE INDEX declaration_keys_id ON declaration_keys (id);

-- ---- the partitioned tables -----------------------------------------------------

ALTER TABLE declarations RENAME TO declarations_unpartitioned;
CREATE TABLE declarations (LIKE declarations_unpartitioned
	INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION)
	PARTITION BY RANGE (received_at);
CREATE TABLE declarations_default PARTITION OF declarations DEFAULT;

ALTER TABLE events RENAME TO events_unpartitioned;
ALTER SEQUENCE events_id_seq OWNED BY NONE;
CREATE TABLE events (LIKE events_unpartitioned INCLUDING DEFAULTS INCLUDING STORAGE)
	PARTITION BY RANGE (at);
ALTER TABLE events ADD COLUMN declarant text NOT NULL;
ALTER SEQUENCE events_id_seq OWNED BY events.id;
CREATE TABLE events_default PARTITION OF events DEFAULT;

ALTER TABLE acks RENAME TO acks_unpartitioned;
CREATE TABLE acks (LIKE acks_unpartitioned
	INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION)
	PARTITION BY RANGE (created_at);
CREATE TABLE acks_default PARTITION OF acks DEFAULT;

-- the months of the rows already stored, this month and the next three
DO $$
DECLARE
	v_now  timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
	v_from timestamp := LEAST(
		(SELECT min(received_at) FROM declarations_unpartitioned),
		(SELECT min(at) FROM events_unpartitioned),
		(SELECT min(created_at) FROM acks_unpartitioned),
		now()) AT TIME ZONE 'UTC';
	v_m    timestamp;
BEGIN
	FOR v_m IN SELECT generate_series(date_trunc('month', v_from),
		v_now + interval '3 months', interval '1 month')
	LOOP
		PERFORM declared_month_partition('declarations', v_m);
		PERFORM declared_month_partition('events', v_m);
		PERFORM declared_month_partition('acks', v_m);
	END LOOP;
END
$$;

INSERT INTO declarations SELECT * FROM declarations_unpartitioned;
INSERT INTO events (id, declaration_id, at, actor, from_status, to_status,
	reason, action, declarant)
SELECT e.id, e.declaration_id, e.at, e.actor, e.from_status, e.to_status,
	e.reason, e.action, COALESCE(k.declarant, '')
  FROM events_unpartitioned e LEFT JOIN declaration_keys k ON k.id = e.declaration_id;
INSERT INTO acks SELECT * FROM acks_unpartitioned;
DROP TABLE declarations_unpartitioned, events_unpartitioned, acks_unpartitioned;

-- the keys and indexes of 001, 004 and 005, now on every partition
ALTER TABLE declarations ADD PRIMARY KEY (id, received_at, declarant);
ALTER TABLE events ADD PRIMARY KEY (id, at, declarant);
ALTER TABLE acks ADD PRIMARY KEY (party, seq, created_at);
CREATE INDEX declarations_mrn ON declarations (mrn) WHERE mrn IS NOT NULL;
CREATE INDEX declarations_received ON declarations (received_at, id);
CREATE INDEX declarations_status ON declarations (status, received_at, id)
	WHERE status <> 'released';
CREATE INDEX declarations_declarant ON declarations (declarant, received_at, id);
CREATE INDEX declarations_lane ON declarations (lane, received_at, id)
	WHERE lane <> 'green' OR lane IS NULL;
CREATE INDEX declarations_lrn ON declarations (lrn);
CREATE INDEX declarations_hs ON declarations USING gin (hs_codes);
CREATE INDEX declarations_origins ON declarations USING gin (origins);
CREATE INDEX events_declaration ON events (declaration_id);
CREATE INDEX events_decisions ON events (at) WHERE action IS NOT NULL;
CREATE INDEX acks_declaration ON acks (declaration_id);
CREATE INDEX acks_request ON acks (request_id) WHERE request_id IS NOT NULL;
ANALYZE declaration_keys, declarations, events, acks;

-- the triggers of 001 and 003
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
	FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER acks_notify AFTER INSERT ON acks
	FOR EACH ROW EXECUTE FUNCTION acks_notify();

-- emptying the declarations (tests, benchmarks) empties their registry
CREATE FUNCTION declaration_keys_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE declaration_keys;
	RETURN NULL;
END
$$;
CREATE TRIGGER declarations_truncate AFTER TRUNCATE ON declarations
	FOR EACH STATEMENT EXECUTE FUNCTION declaration_keys_truncate();

-- the grants of 001
GRANT SELECT, INSERT, UPDATE ON declarations TO declared_writer;
GRANT SELECT, INSERT ON events, acks, declaration_keys TO declared_writer;
GRANT SELECT ON declarations, events, acks, declaration_keys TO declared_reader;

-- ---- declared_store: the registry first ---------------------------------------------

-- Stores one checked declaration with its first event and its receipt (and,
-- for an automatic release, the second event and acknowledgement), or says
-- why not: 'new', 'duplicate' (same declarant, LRN and bytes: the original
-- receipt is returned), 'conflict' (same LRN, other bytes),
-- 'forbidden_submitter' or 'forbidden_signer' (not the declarant nor its
-- authorised representative).  Same signature and answers as in 006.
CREATE OR REPLACE FUNCTION declared_store(
	p_id bigint, p_declarant text, p_lrn text, p_submitter text,
	p_signer text, p_profile text, p_function text, p_type text,
	p_mrn text, p_status text, p_lane text, p_lane_reason text,
	p_items integer, p_hs text[], p_origins text[], p_amount text, p_currency text,
	p_digest bytea, p_raw bytea, p_errors jsonb,
	p_ack_kind text, p_ack bytea,
	p_status2 text, p_reason2 text, p_ack2_kind text, p_ack2 bytea)
RETURNS TABLE (outcome text, declaration_id bigint, ack_seq bigint, receipt bytea)
LANGUAGE plpgsql AS $$
DECLARE
	v_id     bigint;
	v_at     timestamptz;
	v_digest bytea;
	v_seq    bigint;
	v_status text := p_status;
BEGIN
	IF NOT declared_may_declare(p_submitter, p_declarant) THEN
		RETURN QUERY SELECT 'forbidden_submitter'::text, NULL::bigint, NULL::bigint, NULL::bytea;
		RETURN;
	END IF;
	IF p_signer IS NOT NULL AND p_signer <> p_submitter
	   AND NOT declared_may_declare(p_signer, p_declarant) THEN
		RETURN QUERY SELECT 'forbidden_signer'::text, NULL::bigint, NULL::bigint, NULL::bytea;
		RETURN;
	END IF;
	IF p_status2 IS NOT NULL THEN
		v_status := p_status2;
	END IF;
	INSERT INTO declaration_keys (declarant, lrn, id, received_at)
	VALUES (p_declarant, p_lrn, p_id, now())
	ON CONFLICT (declarant, lrn) DO NOTHING;
	IF NOT FOUND THEN
		SELECT k.id, k.received_at INTO v_id, v_at FROM declaration_keys k
		 WHERE k.declarant = p_declarant AND k.lrn = p_lrn;
		SELECT d.digest INTO v_digest FROM declarations d
		 WHERE d.id = v_id AND d.received_at = v_at AND d.declarant = p_declarant;
		IF v_digest = p_digest THEN
			RETURN QUERY SELECT 'duplicate'::text, v_id, a.seq, a.body
			  FROM acks a WHERE a.declaration_id = v_id AND a.created_at >= v_at
			 ORDER BY a.seq LIMIT 1;
		ELSE
			RETURN QUERY SELECT 'conflict'::text, v_id, NULL::bigint, NULL::bytea;
		END IF;
		RETURN;
	END IF;
	INSERT INTO declarations (id, declarant, lrn, submitter, signer, profile,
		function_code, type_code, mrn, status, lane, lane_reason, item_count,
		hs_codes, origins, invoice_amount, currency, digest, raw, errors, received_at)
	VALUES (p_id, p_declarant, p_lrn, p_submitter, p_signer, p_profile,
		p_function, p_type, p_mrn, v_status, p_lane, p_lane_reason, p_items, p_hs,
		COALESCE(p_origins, '{}'),
		CASE WHEN p_amount ~ '^-?[0-9]+(\.[0-9]+)?$' THEN p_amount::numeric END,
		p_currency, p_digest, p_raw, p_errors, now());
	INSERT INTO events (declaration_id, declarant, actor, from_status, to_status, reason)
	VALUES (p_id, p_declarant, p_submitter, NULL, p_status,
		CASE WHEN p_errors IS NOT NULL THEN 'rules failed'
		     WHEN p_lane IS NOT NULL THEN 'lane ' || p_lane ||
			 COALESCE(' (' || p_lane_reason || ')', '') END);
	v_seq := declared_next_seq(p_submitter);
	INSERT INTO acks (party, seq, declaration_id, kind, body)
	VALUES (p_submitter, v_seq, p_id, p_ack_kind, p_ack);
	IF p_status2 IS NOT NULL THEN
		INSERT INTO events (declaration_id, declarant, actor, from_status, to_status, reason)
		VALUES (p_id, p_declarant, 'declared', p_status, p_status2, p_reason2);
		INSERT INTO acks (party, seq, declaration_id, kind, body)
		VALUES (p_submitter, declared_next_seq(p_submitter), p_id, p_ack2_kind, p_ack2);
	END IF;
	RETURN QUERY SELECT 'new'::text, p_id, v_seq, NULL::bytea;
END
$$;

-- ---- declared_decide, declared_request: one partition ---------------------------------

-- As in 004; the registry gives the declaration's month, so that only its
-- partition is read and locked.
CREATE OR REPLACE FUNCTION declared_decide(
	p_id bigint, p_from text[], p_to text, p_actor text, p_action text,
	p_reason text, p_ack_kind text, p_ack bytea)
RETURNS TABLE (outcome text, state text, ack_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_at        timestamptz;
	v_declarant text;
	v_status    text;
	v_submitter text;
	v_seq       bigint;
BEGIN
	SELECT k.received_at, k.declarant INTO v_at, v_declarant
	  FROM declaration_keys k WHERE k.id = p_id;
	SELECT d.status, d.submitter INTO v_status, v_submitter
	  FROM declarations d
	 WHERE d.id = p_id AND d.received_at = v_at AND d.declarant = v_declarant
	   FOR UPDATE;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::bigint;
		RETURN;
	END IF;
	IF NOT (v_status = ANY (p_from)) THEN
		RETURN QUERY SELECT 'conflict'::text, v_status, NULL::bigint;
		RETURN;
	END IF;
	UPDATE declarations SET status = p_to, updated_at = now()
	 WHERE id = p_id AND received_at = v_at AND declarant = v_declarant;
	INSERT INTO events (declaration_id, declarant, actor, from_status, to_status,
		reason, action)
	VALUES (p_id, v_declarant, p_actor, v_status, p_to, p_reason, p_action);
	v_seq := declared_next_seq(v_submitter);
	INSERT INTO acks (party, seq, declaration_id, kind, body)
	VALUES (v_submitter, v_seq, p_id, p_ack_kind, p_ack);
	RETURN QUERY SELECT 'done'::text, p_to, v_seq;
END
$$;

-- As in 005; the declaration is found by its MRN (every partition's MRN
-- index), then updated in its partition; events carry the declarant.
CREATE OR REPLACE FUNCTION declared_request(
	p_id bigint, p_submitter text, p_signer text, p_profile text,
	p_kind text, p_ref_mrn text, p_lrn text, p_digest bytea, p_raw bytea,
	p_allowed text[], p_to text,
	p_items integer, p_hs text[], p_amount text, p_currency text, p_type text,
	p_ack_granted_kind text, p_ack_granted bytea,
	p_ack_denied_kind text, p_ack_denied bytea,
	p_ack_unknown_kind text, p_ack_unknown bytea)
RETURNS TABLE (outcome text, declaration_id bigint, ack_seq bigint, receipt bytea)
LANGUAGE plpgsql AS $$
DECLARE
	v_rid     bigint;
	v_decl    declarations%ROWTYPE;
	v_outcome text;
	v_seq     bigint;
	v_kind    text;
	v_body    bytea;
	v_what    text := CASE p_kind WHEN 'amend' THEN 'amendment' ELSE 'cancellation' END;
BEGIN
	INSERT INTO requests (id, submitter, signer, profile, kind, ref_mrn, lrn,
		outcome, digest, raw)
	VALUES (p_id, p_submitter, p_signer, p_profile, p_kind, p_ref_mrn, p_lrn,
		'pending', p_digest, p_raw)
	ON CONFLICT ON CONSTRAINT requests_submitter_digest DO NOTHING;
	IF NOT FOUND THEN
		SELECT r.id INTO v_rid FROM requests r
		 WHERE r.submitter = p_submitter AND r.digest = p_digest;
		RETURN QUERY SELECT 'duplicate'::text, r.declaration_id, a.seq, a.body
		  FROM requests r JOIN acks a ON a.request_id = r.id
		 WHERE r.id = v_rid ORDER BY a.seq LIMIT 1;
		RETURN;
	END IF;
	SELECT d.* INTO v_decl FROM declarations d WHERE d.mrn = p_ref_mrn FOR UPDATE;
	IF NOT FOUND OR NOT declared_may_declare(p_submitter, v_decl.declarant) THEN
		v_outcome := 'unknown';
		v_kind := p_ack_unknown_kind;
		v_body := p_ack_unknown;
		v_decl.id := NULL;
	ELSIF v_decl.status = ANY (p_allowed) THEN
		v_outcome := 'granted';
		v_kind := p_ack_granted_kind;
		v_body := p_ack_granted;
		IF p_kind = 'amend' THEN
			INSERT INTO declaration_versions (declaration_id, version, digest, raw)
			VALUES (v_decl.id, v_decl.version, v_decl.digest, v_decl.raw);
			UPDATE declarations SET version = version + 1, digest = p_digest,
				raw = p_raw, item_count = COALESCE(p_items, item_count),
				hs_codes = COALESCE(p_hs, hs_codes),
				invoice_amount = CASE WHEN p_amount ~ '^-?[0-9]+(\.[0-9]+)?$'
					THEN p_amount::numeric ELSE invoice_amount END,
				currency = COALESCE(p_currency, currency),
				updated_at = now()
			 WHERE id = v_decl.id AND received_at = v_decl.received_at
			   AND declarant = v_decl.declarant;
			INSERT INTO events (declaration_id, declarant, actor, from_status,
				to_status, reason)
			VALUES (v_decl.id, v_decl.declarant, p_submitter, v_decl.status,
				v_decl.status, 'amendment granted: version ' || (v_decl.version + 1));
		ELSE
			UPDATE declarations SET status = p_to, updated_at = now()
			 WHERE id = v_decl.id AND received_at = v_decl.received_at
			   AND declarant = v_decl.declarant;
			INSERT INTO events (declaration_id, declarant, actor, from_status,
				to_status, reason)
			VALUES (v_decl.id, v_decl.declarant, p_submitter, v_decl.status, p_to,
				'cancellation granted');
		END IF;
	ELSE
		v_outcome := 'denied';
		v_kind := p_ack_denied_kind;
		v_body := p_ack_denied;
		INSERT INTO events (declaration_id, declarant, actor, from_status,
			to_status, reason)
		VALUES (v_decl.id, v_decl.declarant, p_submitter, v_decl.status,
			v_decl.status, v_what || ' denied in state ' || v_decl.status);
	END IF;
	UPDATE requests r SET outcome = v_outcome, declaration_id = v_decl.id
	 WHERE r.id = p_id;
	v_seq := declared_next_seq(p_submitter);
	INSERT INTO acks (party, seq, declaration_id, request_id, kind, body)
	VALUES (p_submitter, v_seq, v_decl.id, p_id, v_kind, v_body);
	RETURN QUERY SELECT v_outcome, v_decl.id, v_seq, NULL::bytea;
END
$$;

-- ---- maintenance: partitions ahead, retention -------------------------------------------

-- Called periodically by the daemon ([database] retention_months,
-- maintain_interval); one caller at a time (an advisory lock: another
-- caller gets one row 'locked' and nothing done).  In this order:
--  1. with p_retention_months > 0, the registry forgets the keys of the
--     declarations of each month that ended more than p_retention_months
--     months before the current one (in chunks of 10,000, until
--     p_budget_ms have passed: then a row 'pending' says to call again);
--  2. the partitions of this month and the next p_ahead months are created
--     ('created');
--  3. the monthly partitions of the three tables past the retention are
--     detached ('detached'), once the registry holds none of their keys.
-- Steps 2 and 3 take a table lock on a parent for a moment (until the
-- commit of the caller's transaction); they wait for it at most
-- lock_timeout and then give up for this call ('lock_timeout': retried at
-- the next call).  A month whose rows went to the DEFAULT partition (no
-- call for months) cannot be created: 'blocked' (the rows stay readable).
-- Rows: (action, relation, n), n the number of keys forgotten, else NULL.
CREATE FUNCTION declared_maintain(p_ahead integer, p_retention_months integer,
	p_budget_ms integer DEFAULT 1000)
RETURNS TABLE (action text, relation text, n bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET lock_timeout = '1s' AS $$
DECLARE
	v_month    timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
	v_deadline timestamptz := clock_timestamp()
		+ make_interval(secs => GREATEST(p_budget_ms, 0) / 1000.0);
	v_cut      timestamp;
	v_m        timestamp;
	v_t        text;
	v_part     record;
	v_lo       bigint;
	v_hi       bigint;
	v_n        bigint;
	v_chunk    bigint;
BEGIN
	IF NOT pg_try_advisory_xact_lock(hashtext('declared_maintain')) THEN
		RETURN QUERY SELECT 'locked'::text, NULL::text, NULL::bigint;
		RETURN;
	END IF;
	IF p_retention_months > 0 THEN
		v_cut := v_month - make_interval(months => p_retention_months);
	END IF;
	-- 1. the keys of the declarations past the retention, in chunks
	FOR v_part IN
		SELECT x.relname, x.m FROM (
			SELECT c.relname::text AS relname,
			       CASE WHEN c.relname ~ '^declarations_[0-9]{4}_[0-9]{2}$'
			            THEN to_date(right(c.relname, 7), 'YYYY_MM')::timestamp END AS m
			  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			 WHERE i.inhparent = 'declarations'::regclass) x
		 WHERE x.m IS NOT NULL
		 ORDER BY x.m
	LOOP
		EXIT WHEN v_cut IS NULL OR v_part.m + interval '1 month' > v_cut;
		EXECUTE format('SELECT min(id), max(id) FROM %I', v_part.relname)
		   INTO v_lo, v_hi;
		v_n := 0;
		LOOP
			EXIT WHEN v_lo IS NULL;
			DELETE FROM declaration_keys k USING (
				SELECT x.declarant, x.lrn FROM declaration_keys x
				 WHERE x.id BETWEEN v_lo AND v_hi
				   AND x.received_at >= v_part.m AT TIME ZONE 'UTC'
				   AND x.received_at < (v_part.m + interval '1 month') AT TIME ZONE 'UTC'
				 LIMIT 10000) s
			 WHERE k.declarant = s.declarant AND k.lrn = s.lrn;
			GET DIAGNOSTICS v_chunk = ROW_COUNT;
			v_n := v_n + v_chunk;
			EXIT WHEN v_chunk < 10000;
			IF clock_timestamp() > v_deadline THEN
				RETURN QUERY SELECT 'forgot'::text, v_part.relname, v_n;
				RETURN QUERY SELECT 'pending'::text, v_part.relname, NULL::bigint;
				RETURN;
			END IF;
		END LOOP;
		IF v_n > 0 THEN
			RETURN QUERY SELECT 'forgot'::text, v_part.relname, v_n;
		END IF;
	END LOOP;
	-- 2. this month and the next p_ahead
	FOR v_m IN SELECT generate_series(v_month,
		v_month + make_interval(months => GREATEST(p_ahead, 0)), interval '1 month')
	LOOP
		FOREACH v_t IN ARRAY ARRAY['declarations', 'events', 'acks'] LOOP
			BEGIN
				IF declared_month_partition(v_t, v_m) THEN
					RETURN QUERY SELECT 'created'::text,
						v_t || '_' || to_char(v_m, 'YYYY_MM'), NULL::bigint;
				END IF;
			EXCEPTION
				WHEN lock_not_available THEN
					RETURN QUERY SELECT 'lock_timeout'::text,
						v_t || '_' || to_char(v_m, 'YYYY_MM'), NULL::bigint;
					RETURN;
				WHEN check_violation THEN
					RETURN QUERY SELECT 'blocked'::text,
						v_t || '_' || to_char(v_m, 'YYYY_MM'), NULL::bigint;
			END;
		END LOOP;
	END LOOP;
	IF v_cut IS NULL THEN
		RETURN;
	END IF;
	-- 3. detach the months past the retention
	FOR v_part IN
		SELECT x.relname, x.parent FROM (
			SELECT c.relname::text AS relname, p.relname::text AS parent,
			       CASE WHEN c.relname ~ ('^' || p.relname || '_[0-9]{4}_[0-9]{2}$')
			            THEN to_date(right(c.relname, 7), 'YYYY_MM') END AS m
			  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			  JOIN pg_class p ON p.oid = i.inhparent
			 WHERE i.inhparent IN ('declarations'::regclass, 'events'::regclass,
			       'acks'::regclass)) x
		 WHERE x.m + interval '1 month' <= v_cut
		 ORDER BY x.m, x.relname
	LOOP
		BEGIN
			EXECUTE format('ALTER TABLE %I DETACH PARTITION %I',
				v_part.parent, v_part.relname);
			RETURN QUERY SELECT 'detached'::text, v_part.relname, NULL::bigint;
		EXCEPTION WHEN lock_not_available THEN
			RETURN QUERY SELECT 'lock_timeout'::text, v_part.relname, NULL::bigint;
			RETURN;
		END;
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION declared_maintain FROM PUBLIC;
GRANT EXECUTE ON FUNCTION declared_maintain TO declared_writer;
