-- 008: a whole batch of checked declarations stored by one call, set-based,
-- instead of one declared_store() call (eight statements) per declaration.
-- declared_store() stays for other callers; both give the same answers.

-- Stores the declarations of a batch, element k of every array being the
-- k-th declaration (the parameters of declared_store(), one array each;
-- p_hs and p_origins hold array literals such as '{0101,0202}', p_errors
-- JSON text).  One row per declaration, idx = k, with the outcome
-- declared_store() gives: 'new', 'duplicate' (the original receipt),
-- 'conflict', 'forbidden_submitter' or 'forbidden_signer'.  Two
-- declarations of one batch with the same declarant and LRN: the first is
-- decided as usual, the second is a duplicate or a conflict of it.
-- Acknowledgements are numbered densely per party in the batch's order
-- (a receipt before the release of the same declaration); each party's
-- ack_seq is taken once per call, the parties in the order of their ids
-- (two batches never wait for each other in opposite orders), after
-- everything else, so that its row lock is held as briefly as possible.
CREATE FUNCTION declared_store_batch(
	p_id bigint[], p_declarant text[], p_lrn text[], p_submitter text[],
	p_signer text[], p_profile text[], p_function text[], p_type text[],
	p_mrn text[], p_status text[], p_lane text[], p_lane_reason text[],
	p_items integer[], p_hs text[], p_origins text[], p_amount text[],
	p_currency text[], p_digest bytea[], p_raw bytea[], p_errors text[],
	p_ack_kind text[], p_ack bytea[],
	p_status2 text[], p_reason2 text[], p_ack2_kind text[], p_ack2 bytea[])
RETURNS TABLE (idx integer, outcome text, declaration_id bigint, ack_seq bigint,
	receipt bytea)
-- generic plans: custom ones are made again at every call (each batch has
-- its own length), which costs more than the plans save
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	v_n       integer := COALESCE(cardinality(p_id), 0);
	v_verdict text[];    -- forbidden_*, or NULL: may be stored
	v_new     boolean[]; -- its (declarant, lrn) was free: stored now
	v_seq1    bigint[];  -- sequence number of its receipt
	v_seq2    bigint[];  -- and of its release acknowledgement
BEGIN
	IF v_n = 0 THEN
		RETURN;
	END IF;
	IF cardinality(p_declarant) IS DISTINCT FROM v_n
	   OR cardinality(p_lrn) IS DISTINCT FROM v_n
	   OR cardinality(p_submitter) IS DISTINCT FROM v_n
	   OR cardinality(p_signer) IS DISTINCT FROM v_n
	   OR cardinality(p_profile) IS DISTINCT FROM v_n
	   OR cardinality(p_function) IS DISTINCT FROM v_n
	   OR cardinality(p_type) IS DISTINCT FROM v_n
	   OR cardinality(p_mrn) IS DISTINCT FROM v_n
	   OR cardinality(p_status) IS DISTINCT FROM v_n
	   OR cardinality(p_lane) IS DISTINCT FROM v_n
	   OR cardinality(p_lane_reason) IS DISTINCT FROM v_n
	   OR cardinality(p_items) IS DISTINCT FROM v_n
	   OR cardinality(p_hs) IS DISTINCT FROM v_n
	   OR cardinality(p_origins) IS DISTINCT FROM v_n
	   OR cardinality(p_amount) IS DISTINCT FROM v_n
	   OR cardinality(p_currency) IS DISTINCT FROM v_n
	   OR cardinality(p_digest) IS DISTINCT FROM v_n
	   OR cardinality(p_raw) IS DISTINCT FROM v_n
	   OR cardinality(p_errors) IS DISTINCT FROM v_n
	   OR cardinality(p_ack_kind) IS DISTINCT FROM v_n
	   OR cardinality(p_ack) IS DISTINCT FROM v_n
	   OR cardinality(p_status2) IS DISTINCT FROM v_n
	   OR cardinality(p_reason2) IS DISTINCT FROM v_n
	   OR cardinality(p_ack2_kind) IS DISTINCT FROM v_n
	   OR cardinality(p_ack2) IS DISTINCT FROM v_n THEN
		RAISE EXCEPTION 'declared_store_batch: arrays of different lengths';
	END IF;

	-- who may declare for whom, all at once; declared_may_declare() (an SQL
	-- function planned at each call of this statement that calls it) only
	-- for a party other than the declarant
	SELECT array_agg(CASE
		WHEN u.sub <> u.decl AND NOT declared_may_declare(u.sub, u.decl)
		THEN 'forbidden_submitter'
		WHEN u.sig IS NOT NULL AND u.sig <> u.sub AND u.sig <> u.decl
		     AND NOT declared_may_declare(u.sig, u.decl) THEN 'forbidden_signer'
		END ORDER BY u.i)
	  INTO v_verdict
	  FROM unnest(p_submitter, p_declarant, p_signer) WITH ORDINALITY
	       AS u(sub, decl, sig, i);

	-- the registry first, in the batch's order: a key taken earlier (in
	-- this batch or before) makes the declaration a duplicate or conflict
	WITH k AS (
		INSERT INTO declaration_keys AS dk (declarant, lrn, id, received_at)
		SELECT u.decl, u.lrn, u.id, now()
		  FROM unnest(p_declarant, p_lrn, p_id, v_verdict) WITH ORDINALITY
		       AS u(decl, lrn, id, verdict, i)
		 WHERE u.verdict IS NULL
		 ORDER BY u.i
		ON CONFLICT (declarant, lrn) DO NOTHING
		RETURNING dk.id)
	SELECT array_agg(k.id IS NOT NULL ORDER BY u.i)
	  INTO v_new
	  FROM unnest(p_id) WITH ORDINALITY AS u(id, i)
	  LEFT JOIN k ON k.id = u.id;

	INSERT INTO declarations (id, declarant, lrn, submitter, signer, profile,
		function_code, type_code, mrn, status, lane, lane_reason, item_count,
		hs_codes, origins, invoice_amount, currency, digest, raw, errors,
		received_at)
	SELECT u.id, u.decl, u.lrn, u.sub, u.sig, u.prof, u.func, u.typ, u.mrn,
		COALESCE(u.st2, u.st), u.lane, u.lr, u.items, u.hs::text[],
		COALESCE(u.orig::text[], '{}'),
		CASE WHEN u.amt ~ '^-?[0-9]+(\.[0-9]+)?$' THEN u.amt::numeric END,
		u.cur, u.dig, u.raw, u.err::jsonb, now()
	  FROM unnest(p_id, p_declarant, p_lrn, p_submitter, p_signer, p_profile,
		p_function, p_type, p_mrn, p_status, p_status2, p_lane, p_lane_reason,
		p_items, p_hs, p_origins, p_amount, p_currency, p_digest, p_raw,
		p_errors, v_new) WITH ORDINALITY
	       AS u(id, decl, lrn, sub, sig, prof, func, typ, mrn, st, st2, lane, lr,
		items, hs, orig, amt, cur, dig, raw, err, nw, i)
	 WHERE u.nw
	 ORDER BY u.i;

	-- first event, and the automatic release's, in the batch's order
	INSERT INTO events (declaration_id, declarant, actor, from_status, to_status,
		reason)
	SELECT u.id, u.decl, e.actor, e.from_status, e.to_status, e.reason
	  FROM unnest(p_id, p_declarant, p_submitter, p_status, p_status2, p_reason2,
		p_lane, p_lane_reason, p_errors, v_new) WITH ORDINALITY
	       AS u(id, decl, sub, st, st2, r2, lane, lr, err, nw, i)
	 CROSS JOIN LATERAL (VALUES
		(1, u.sub, NULL::text, u.st,
		 CASE WHEN u.err IS NOT NULL THEN 'rules failed'
		      WHEN u.lane IS NOT NULL THEN 'lane ' || u.lane ||
			  COALESCE(' (' || u.lr || ')', '') END),
		(2, 'declared', u.st, u.st2, u.r2))
	       AS e(k, actor, from_status, to_status, reason)
	 WHERE u.nw AND (e.k = 1 OR u.st2 IS NOT NULL)
	 ORDER BY u.i, e.k;

	-- the sequence numbers: one upsert per party, in the order of the ids
	WITH a AS (
		SELECT u.i, u.sub, u.st2 IS NOT NULL AS two,
			sum(1 + (u.st2 IS NOT NULL)::int)
			    OVER (PARTITION BY u.sub ORDER BY u.i) AS upto,
			sum(1 + (u.st2 IS NOT NULL)::int)
			    OVER (PARTITION BY u.sub) AS n
		  FROM unnest(p_submitter, p_status2, v_new) WITH ORDINALITY
		       AS u(sub, st2, nw, i)
		 WHERE u.nw),
	p AS (
		INSERT INTO parties AS pt (id, ack_seq)
		SELECT DISTINCT a.sub, a.n FROM a ORDER BY a.sub
		ON CONFLICT (id) DO UPDATE SET ack_seq = pt.ack_seq + excluded.ack_seq
		RETURNING pt.id, pt.ack_seq)
	SELECT array_agg(p.ack_seq - a.n + a.upto - a.two::int ORDER BY x.i),
	       array_agg(CASE WHEN a.two THEN p.ack_seq - a.n + a.upto END ORDER BY x.i)
	  INTO v_seq1, v_seq2
	  FROM generate_series(1, v_n) AS x(i)
	  LEFT JOIN a ON a.i = x.i
	  LEFT JOIN p ON p.id = a.sub;

	INSERT INTO acks (party, seq, declaration_id, kind, body)
	SELECT u.sub, e.seq, u.id, e.kind, e.body
	  FROM unnest(p_submitter, p_id, p_ack_kind, p_ack, p_status2, p_ack2_kind,
		p_ack2, v_seq1, v_seq2, v_new) WITH ORDINALITY
	       AS u(sub, id, k1, b1, st2, k2, b2, q1, q2, nw, i)
	 CROSS JOIN LATERAL (VALUES (1, u.q1, u.k1, u.b1), (2, u.q2, u.k2, u.b2))
	       AS e(k, seq, kind, body)
	 WHERE u.nw AND (e.k = 1 OR u.st2 IS NOT NULL)
	 ORDER BY u.i, e.k;

	IF true = ALL (v_new) THEN
		RETURN QUERY
		SELECT u.i::integer, 'new'::text, u.id, u.q1, NULL::bytea
		  FROM unnest(p_id, v_seq1) WITH ORDINALITY AS u(id, q1, i)
		 ORDER BY u.i;
		RETURN;
	END IF;
	-- the others: what their key points to (stored before, or above)
	RETURN QUERY
	SELECT u.i::integer,
		COALESCE(u.verdict, CASE WHEN u.nw THEN 'new'
			WHEN d.digest = u.dig THEN 'duplicate' ELSE 'conflict' END),
		CASE WHEN u.nw THEN u.id WHEN u.verdict IS NULL THEN k.id END,
		CASE WHEN u.nw THEN u.q1 ELSE r.seq END,
		r.body
	  FROM unnest(p_id, p_declarant, p_lrn, p_digest, v_verdict, v_new, v_seq1)
	       WITH ORDINALITY AS u(id, decl, lrn, dig, verdict, nw, q1, i)
	  LEFT JOIN declaration_keys k
	         ON NOT u.nw AND u.verdict IS NULL
	        AND k.declarant = u.decl AND k.lrn = u.lrn
	  LEFT JOIN declarations d ON d.id = k.id AND d.received_at = k.received_at
	        AND d.declarant = k.declarant
	  LEFT JOIN LATERAL (
		SELECT a.seq, a.body FROM acks a
		 WHERE a.declaration_id = k.id AND a.created_at >= k.received_at
		 ORDER BY a.seq LIMIT 1) r ON d.digest = u.dig
	 ORDER BY u.i;
END
$$;

GRANT EXECUTE ON FUNCTION declared_store_batch TO declared_writer;
