-- tests/bench/preload.sql: functions that bulk-load historic declarations
-- into the benchmark's database, so that intake can be measured on a
-- declarations table that already holds millions of rows (issue #6:
-- "throughput does not fall as the declarations table grows").
--
-- Loaded by tests/bench/preload.sh into the throwaway database of
-- tests/bench/run.sh only (schema bench), never by a migration: nothing
-- here is part of the daemon.
--
-- The rows are those declared_store_batch() (sql/008_store_batch.sql)
-- writes for a green-lane declaration released automatically, the
-- benchmark's only kind (no risk rules, auto_release = yes):
--   declaration_keys  one row: (declarant, lrn) -> id, received_at
--   declarations      one row, status released, lane green
--   events            two rows: NULL -> accepted (by the submitter),
--                     accepted -> released (by 'declared')
--   acks              two rows: the receipt and the release
--                     acknowledgement, numbered densely per party
--   parties           one row per submitter, ack_seq = its last seq
-- Intake writes nothing else: requests and declaration_versions hold
-- amendment and cancellation requests, push_state and push_attempts push
-- delivery, which the benchmark does not use.
--
-- Every value that the daemon computes per declaration is made here the
-- way it makes it: ids from decl_block_seq in blocks of 4096
-- (daemon/ids.h), event ids from events_id_seq, MRNs as lib/mrn.c makes
-- them (year of receipt, country, id, ISO 6346 check character).  What
-- comes from the document and from signing (the raw document, its item
-- count, HS codes, origins, amount, the two signed acknowledgements, the
-- texts of the events) is copied from real declarations that the daemon
-- stored (bench.template), so row widths and the compression of the
-- TOASTed columns are those of production.  The digest is not the
-- SHA-256 of the copied document but of the row's id: like real digests,
-- each is different.

CREATE SCHEMA IF NOT EXISTS bench;

-- ---- the template: real declarations, as the daemon stored them -----------------

-- The LZ4 columns keep the compressed bytes of the daemon's rows: a copy
-- into declarations and acks (also LZ4) stores them as they are, without
-- compressing each copy again.
CREATE TABLE IF NOT EXISTS bench.template (
	tpl            integer PRIMARY KEY,     -- 0 .. count - 1
	profile        text NOT NULL,
	function_code  text,
	type_code      text,
	status         text NOT NULL,           -- the final state (released)
	lane           text,
	lane_reason    text,
	item_count     integer NOT NULL,
	hs_codes       text[] NOT NULL,
	origins        text[] NOT NULL,
	invoice_amount numeric,
	currency       text,
	raw            bytea COMPRESSION lz4 NOT NULL,
	status1        text NOT NULL,           -- first event: NULL -> status1
	reason1        text,
	actor2         text NOT NULL,           -- second event: status1 -> status
	reason2        text,
	ack1_kind      text NOT NULL,           -- the receipt
	ack1           bytea COMPRESSION lz4 NOT NULL,
	ack2_kind      text NOT NULL,           -- the release acknowledgement
	ack2           bytea COMPRESSION lz4 NOT NULL
);

-- Fills bench.template with the newest p_max declarations of p_declarant
-- that were released at intake (two events, two acknowledgements);
-- returns how many.
CREATE OR REPLACE FUNCTION bench.make_template(p_declarant text, p_max integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	v_n integer;
BEGIN
	TRUNCATE bench.template;
	INSERT INTO bench.template
	SELECT (row_number() OVER (ORDER BY d.id) - 1)::integer,
		d.profile, d.function_code, d.type_code, d.status, d.lane,
		d.lane_reason, d.item_count, d.hs_codes, d.origins,
		d.invoice_amount, d.currency, d.raw,
		e1.to_status, e1.reason, e2.actor, e2.reason,
		a1.kind, a1.body, a2.kind, a2.body
	  FROM (SELECT * FROM declarations x
	         WHERE x.declarant = p_declarant AND x.status = 'released'
	         ORDER BY x.id DESC LIMIT p_max) d
	  -- its events, in order: exactly two
	  JOIN LATERAL (SELECT e.* FROM events e WHERE e.declaration_id = d.id
	                 ORDER BY e.id LIMIT 1) e1 ON e1.from_status IS NULL
	  JOIN LATERAL (SELECT e.* FROM events e WHERE e.declaration_id = d.id
	                 ORDER BY e.id OFFSET 1 LIMIT 1) e2
	    ON e2.from_status = e1.to_status AND e2.to_status = d.status
	  -- and its acknowledgements, in order: exactly two
	  JOIN LATERAL (SELECT a.* FROM acks a WHERE a.declaration_id = d.id
	                 ORDER BY a.seq LIMIT 1) a1 ON true
	  JOIN LATERAL (SELECT a.* FROM acks a WHERE a.declaration_id = d.id
	                 ORDER BY a.seq OFFSET 1 LIMIT 1) a2 ON true
	 WHERE (SELECT count(*) FROM events e WHERE e.declaration_id = d.id) = 2
	   AND (SELECT count(*) FROM acks a WHERE a.declaration_id = d.id) = 2;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	ANALYZE bench.template;
	RETURN v_n;
END
$$;

-- ---- the generated values ----------------------------------------------------------

-- The MRN of lib/mrn.c: 2-digit year, country, the id on 13 digits, and
-- the ISO 6346 check character of these 17 characters (value of the
-- character at position i, shifted left by i, summed, mod 11, mod 10;
-- letters count from 10 upwards skipping 11, 22 and 33).  One expression,
-- so that the planner inlines it.
CREATE OR REPLACE FUNCTION bench.mrn(p_year2 integer, p_country text, p_id bigint)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT lpad(p_year2::text, 2, '0') || p_country || lpad(p_id::text, 13, '0') ||
	(((p_year2 / 10)
	  + (p_year2 % 10) * 2
	  + ((ascii(substr(p_country, 1, 1)) - 55) + (ascii(substr(p_country, 1, 1)) - 56) / 10) * 4
	  + ((ascii(substr(p_country, 2, 1)) - 55) + (ascii(substr(p_country, 2, 1)) - 56) / 10) * 8
	  + (p_id / 1000000000000 % 10) * 16
	  + (p_id / 100000000000 % 10) * 32
	  + (p_id / 10000000000 % 10) * 64
	  + (p_id / 1000000000 % 10) * 128
	  + (p_id / 100000000 % 10) * 256
	  + (p_id / 10000000 % 10) * 512
	  + (p_id / 1000000 % 10) * 1024
	  + (p_id / 100000 % 10) * 2048
	  + (p_id / 10000 % 10) * 4096
	  + (p_id / 1000 % 10) * 8192
	  + (p_id / 100 % 10) * 16384
	  + (p_id / 10 % 10) * 32768
	  + (p_id % 10) * 65536) % 11 % 10)::text
$$;

-- The declarations p_first .. p_first + p_count - 1 of a load of p_total:
--   i            the declaration's number in the whole load, 0-based;
--   id           taken in order from p_blocks, the blocks of 4096 ids
--                reserved for this chunk (the daemon's hi-lo ids);
--   declarant    party i mod p_parties, GB1 and 11 digits (the benchmark's
--                own declarant, GB000000000001, is never one of them);
--   k            the declaration's number among its declarant's, from 1:
--                its acknowledgements are seq 2k - 1 and 2k;
--   at           received_at, spread evenly from p_from to p_to, in the
--                order of i (so per party, seq order is time order);
--   lrn          unique per declarant: H, the day, the number k;
--   tpl          the template it copies.
CREATE OR REPLACE FUNCTION bench.rows(p_first bigint, p_count bigint,
	p_total bigint, p_from timestamptz, p_to timestamptz, p_parties integer,
	p_blocks bigint[], p_templates integer)
RETURNS TABLE (i bigint, id bigint, declarant text, k bigint,
	at timestamptz, lrn text, tpl integer)
LANGUAGE sql STABLE AS $$
	SELECT g.i,
		p_blocks[(g.i - p_first) / 4096 + 1] * 4096 + (g.i - p_first) % 4096,
		'GB1' || lpad((g.i % p_parties)::text, 11, '0'),
		g.i / p_parties + 1,
		t.at,
		'H' || to_char(t.at AT TIME ZONE 'UTC', 'YYMMDD') || '-' ||
			lpad((g.i / p_parties + 1)::text, 7, '0'),
		(g.i % p_templates)::integer
	  FROM generate_series(p_first, p_first + p_count - 1) AS g(i)
	 CROSS JOIN LATERAL (SELECT p_from + (p_to - p_from) *
		((g.i + 0.5) / p_total)::float8 AS at) t
$$;

-- The monthly partitions (sql/007_partitions.sql) of declarations, events
-- and acks for every month from p_from to p_to, as declared_maintain()
-- would have made them month after month; returns how many were made.
CREATE OR REPLACE FUNCTION bench.make_partitions(p_from timestamptz,
	p_to timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	v_m timestamp;
	v_t text;
	v_n integer := 0;
BEGIN
	FOR v_m IN SELECT generate_series(
		date_trunc('month', p_from AT TIME ZONE 'UTC'),
		p_to AT TIME ZONE 'UTC', interval '1 month')
	LOOP
		FOREACH v_t IN ARRAY ARRAY['declarations', 'events', 'acks'] LOOP
			IF declared_month_partition(v_t, v_m) THEN
				v_n := v_n + 1;
			END IF;
		END LOOP;
	END LOOP;
	RETURN v_n;
END
$$;

-- ---- the ids and the registry of a chunk ---------------------------------------------

-- The blocks of 4096 ids for p_count declarations, taken as the daemon
-- takes them: one nextval() per block (daemon/ids.h).
CREATE OR REPLACE FUNCTION bench.id_blocks(p_count bigint)
RETURNS bigint[] LANGUAGE sql AS $$
	SELECT array_agg(nextval('decl_block_seq') ORDER BY x)
	  FROM generate_series(1, (p_count + 4095) / 4096) AS x
$$;

-- The declaration_keys rows of declarations p_first .. p_first + p_count
-- - 1 of a load of p_total (see bench.rows), ids from p_blocks; returns
-- p_count.
CREATE OR REPLACE FUNCTION bench.insert_keys(p_first bigint, p_count bigint,
	p_total bigint, p_from timestamptz, p_to timestamptz, p_parties integer,
	p_blocks bigint[], p_templates integer)
RETURNS bigint LANGUAGE sql AS $$
	INSERT INTO declaration_keys (declarant, lrn, id, received_at)
	SELECT r.declarant, r.lrn, r.id, r.at
	  FROM bench.rows(p_first, p_count, p_total, p_from, p_to, p_parties,
		p_blocks, p_templates) r;
	SELECT p_count
$$;

-- ---- the registry alone ---------------------------------------------------------------

-- Adds the declaration_keys rows of declarations p_first .. p_first +
-- p_count - 1 of a load of p_total (see bench.rows), and nothing else;
-- returns p_count.  For preload.sh's history "keys": the months before the
-- current one then exist only in the registry, the one table that intake
-- writes and that grows with the whole history (their partitions of
-- declarations, events and acks are neither read nor written by intake:
-- sql/008_store_batch.sql reaches an older declaration only through its
-- key, received_at included, and only for a duplicate).
CREATE OR REPLACE FUNCTION bench.load_keys(p_first bigint, p_count bigint,
	p_total bigint, p_from timestamptz, p_to timestamptz, p_parties integer)
RETURNS bigint LANGUAGE sql AS $$
	SELECT bench.insert_keys(p_first, p_count, p_total, p_from, p_to,
		p_parties, bench.id_blocks(p_count), 1)
$$;

-- ---- one chunk ----------------------------------------------------------------------

-- Loads declarations p_first .. p_first + p_count - 1 of a load of p_total
-- (see bench.rows) in the caller's transaction, each table in the order
-- of i; returns p_count.  The monthly partitions of p_from .. p_to must
-- exist (else the rows land in the DEFAULT partitions).  The caller sets
-- session_replication_role = replica: acks_notify would send a NOTIFY per
-- acknowledgement, which nobody needs for historic ones.
CREATE OR REPLACE FUNCTION bench.load_chunk(p_first bigint, p_count bigint,
	p_total bigint, p_from timestamptz, p_to timestamptz, p_parties integer,
	p_country text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_t      integer;
	v_blocks bigint[];
	v_e      bench.template%ROWTYPE;
BEGIN
	SELECT count(*) INTO v_t FROM bench.template;
	IF v_t = 0 THEN
		RAISE EXCEPTION 'bench.template is empty: run bench.make_template() first';
	END IF;
	-- the texts of the events are the same for every declaration
	SELECT * INTO v_e FROM bench.template WHERE tpl = 0;

	v_blocks := bench.id_blocks(p_count);
	-- the registry of (declarant, lrn)
	PERFORM bench.insert_keys(p_first, p_count, p_total, p_from, p_to,
		p_parties, v_blocks, v_t);

	-- the declarations; the template row is looked up per row (OFFSET 0
	-- keeps the subquery a nested loop), which keeps the order of i
	INSERT INTO declarations (id, declarant, lrn, submitter, signer, profile,
		function_code, type_code, mrn, status, lane, lane_reason, version,
		item_count, hs_codes, origins, invoice_amount, currency, digest, raw,
		errors, received_at, updated_at)
	SELECT r.id, r.declarant, r.lrn, r.declarant, r.declarant, t.profile,
		t.function_code, t.type_code,
		bench.mrn((extract(year FROM r.at AT TIME ZONE 'UTC'))::integer % 100,
			p_country, r.id),
		t.status, t.lane, t.lane_reason, 1, t.item_count, t.hs_codes,
		t.origins, t.invoice_amount, t.currency, sha256(int8send(r.id)), t.raw,
		NULL, r.at, r.at
	  FROM bench.rows(p_first, p_count, p_total, p_from, p_to, p_parties,
		v_blocks, v_t) r
	 CROSS JOIN LATERAL (SELECT * FROM bench.template x WHERE x.tpl = r.tpl
		OFFSET 0) t;

	-- two events each (ids from events_id_seq, the column's default)
	INSERT INTO events (declaration_id, declarant, at, actor, from_status,
		to_status, reason)
	SELECT r.id, r.declarant, r.at, e.actor, e.from_status, e.to_status, e.reason
	  FROM bench.rows(p_first, p_count, p_total, p_from, p_to, p_parties,
		v_blocks, v_t) r
	 CROSS JOIN LATERAL (VALUES
		(1, r.declarant, NULL::text, v_e.status1, v_e.reason1),
		(2, v_e.actor2, v_e.status1, v_e.status, v_e.reason2))
	       AS e(n, actor, from_status, to_status, reason);

	-- two acknowledgements each, seq 2k - 1 and 2k of the submitter
	INSERT INTO acks (party, seq, declaration_id, kind, created_at, body)
	SELECT r.declarant, 2 * r.k - 2 + a.n, r.id, a.kind, r.at, a.body
	  FROM bench.rows(p_first, p_count, p_total, p_from, p_to, p_parties,
		v_blocks, v_t) r
	 CROSS JOIN LATERAL (SELECT 1 AS n, x.ack1_kind AS kind, x.ack1 AS body
	                       FROM bench.template x WHERE x.tpl = r.tpl
	                     UNION ALL
	                     SELECT 2, x.ack2_kind, x.ack2
	                       FROM bench.template x WHERE x.tpl = r.tpl
	                     OFFSET 0) a;

	-- the parties: ack_seq is twice the number of their declarations so
	-- far (those with i < p_first + p_count); created with their first
	INSERT INTO parties AS pt (id, ack_seq, created_at)
	SELECT 'GB1' || lpad(d::text, 11, '0'),
		2 * ((p_first + p_count - 1 - d) / p_parties + 1),
		p_from + (p_to - p_from) * ((d + 0.5) / p_total)::float8
	  FROM generate_series(0, LEAST(p_parties, p_first + p_count) - 1) AS d
	ON CONFLICT (id) DO UPDATE SET ack_seq = excluded.ack_seq;
	RETURN p_count;
END
$$;
