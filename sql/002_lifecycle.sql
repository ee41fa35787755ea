-- 002: rules and lanes at intake, representation (agent may declare for
-- principal), rejected declarations stored with their errors, automatic
-- release of green-lane declarations in the same transaction.

-- Who may declare for whom: an agent (customs broker) for a principal.
CREATE TABLE representations (
	agent      text NOT NULL,
	principal  text NOT NULL,
	valid_from timestamptz NOT NULL DEFAULT now(),
	valid_to   timestamptz,
	PRIMARY KEY (agent, principal)
);

ALTER TABLE declarations ADD COLUMN errors jsonb;
ALTER TABLE declarations ADD COLUMN lane_reason text;

-- Versions replaced by granted amendments, kept whole.
CREATE TABLE declaration_versions (
	declaration_id bigint NOT NULL,
	version        integer NOT NULL,
	digest         bytea NOT NULL,
	raw            bytea NOT NULL,
	replaced_at    timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (declaration_id, version)
);
ALTER TABLE declaration_versions ALTER COLUMN raw SET COMPRESSION lz4;

CREATE FUNCTION declared_may_declare(p_party text, p_declarant text)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT p_party = p_declarant OR EXISTS (
		SELECT 1 FROM representations r
		 WHERE r.agent = p_party AND r.principal = p_declarant
		   AND r.valid_from <= now()
		   AND (r.valid_to IS NULL OR r.valid_to > now()))
$$;

-- Takes the next acknowledgement sequence number of a party (row lock
-- until COMMIT: per party, sequence order is commit order).
CREATE FUNCTION declared_next_seq(p_party text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_seq bigint;
BEGIN
	INSERT INTO parties AS pt (id, ack_seq) VALUES (p_party, 1)
	ON CONFLICT (id) DO UPDATE SET ack_seq = pt.ack_seq + 1
	RETURNING pt.ack_seq INTO v_seq;
	RETURN v_seq;
END
$$;

DROP FUNCTION declared_store(bigint, text, text, text, text, text, text, text,
	text, text, text, integer, text[], text, text, bytea, bytea, text, bytea);

-- Stores one checked declaration with its first event and its receipt (and,
-- for an automatic release, the second event and acknowledgement), or says
-- why not: 'new', 'duplicate' (same declarant, LRN and bytes: the original
-- receipt is returned), 'conflict' (same LRN, other bytes),
-- 'forbidden_submitter' or 'forbidden_signer' (not the declarant nor its
-- authorised representative).
CREATE FUNCTION declared_store(
	p_id bigint, p_declarant text, p_lrn text, p_submitter text,
	p_signer text, p_profile text, p_function text, p_type text,
	p_mrn text, p_status text, p_lane text, p_lane_reason text,
	p_items integer, p_hs text[], p_amount text, p_currency text,
	p_digest bytea, p_raw bytea, p_errors jsonb,
	p_ack_kind text, p_ack bytea,
	p_status2 text, p_reason2 text, p_ack2_kind text, p_ack2 bytea)
RETURNS TABLE (outcome text, declaration_id bigint, ack_seq bigint, receipt bytea)
LANGUAGE plpgsql AS $$
DECLARE
	v_id     bigint;
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
	INSERT INTO declarations (id, declarant, lrn, submitter, signer, profile,
		function_code, type_code, mrn, status, lane, lane_reason, item_count,
		hs_codes, invoice_amount, currency, digest, raw, errors)
	VALUES (p_id, p_declarant, p_lrn, p_submitter, p_signer, p_profile,
		p_function, p_type, p_mrn, v_status, p_lane, p_lane_reason, p_items, p_hs,
		CASE WHEN p_amount ~ '^-?[0-9]+(\.[0-9]+)?$' THEN p_amount::numeric END,
		p_currency, p_digest, p_raw, p_errors)
	ON CONFLICT ON CONSTRAINT declarations_declarant_lrn DO NOTHING;
	IF NOT FOUND THEN
		SELECT d.id, d.digest INTO v_id, v_digest FROM declarations d
		 WHERE d.declarant = p_declarant AND d.lrn = p_lrn;
		IF v_digest = p_digest THEN
			RETURN QUERY SELECT 'duplicate'::text, v_id, a.seq, a.body
			  FROM acks a WHERE a.declaration_id = v_id
			 ORDER BY a.seq LIMIT 1;
		ELSE
			RETURN QUERY SELECT 'conflict'::text, v_id, NULL::bigint, NULL::bytea;
		END IF;
		RETURN;
	END IF;
	INSERT INTO events (declaration_id, actor, from_status, to_status, reason)
	VALUES (p_id, p_submitter, NULL, p_status,
		CASE WHEN p_errors IS NOT NULL THEN 'rules failed'
		     WHEN p_lane IS NOT NULL THEN 'lane ' || p_lane ||
			 COALESCE(' (' || p_lane_reason || ')', '') END);
	v_seq := declared_next_seq(p_submitter);
	INSERT INTO acks (party, seq, declaration_id, kind, body)
	VALUES (p_submitter, v_seq, p_id, p_ack_kind, p_ack);
	IF p_status2 IS NOT NULL THEN
		INSERT INTO events (declaration_id, actor, from_status, to_status, reason)
		VALUES (p_id, 'declared', p_status, p_status2, p_reason2);
		INSERT INTO acks (party, seq, declaration_id, kind, body)
		VALUES (p_submitter, declared_next_seq(p_submitter), p_id, p_ack2_kind, p_ack2);
	END IF;
	RETURN QUERY SELECT 'new'::text, p_id, v_seq, NULL::bytea;
END
$$;

GRANT SELECT ON representations TO declared_writer, declared_reader;
GRANT SELECT, INSERT ON declaration_versions TO declared_writer;
GRANT SELECT ON declaration_versions TO declared_reader;
GRANT EXECUTE ON FUNCTION declared_store, declared_may_declare, declared_next_seq
	TO declared_writer;
