-- 006: the origins of a declaration's items are stored at intake (the
-- officers' origin search reads declarations.origins, added by 004).

DROP FUNCTION declared_store(bigint, text, text, text, text, text, text, text,
	text, text, text, text, integer, text[], text, text, bytea, bytea, jsonb,
	text, bytea, text, text, text, bytea);

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
	p_items integer, p_hs text[], p_origins text[], p_amount text, p_currency text,
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
		hs_codes, origins, invoice_amount, currency, digest, raw, errors)
	VALUES (p_id, p_declarant, p_lrn, p_submitter, p_signer, p_profile,
		p_function, p_type, p_mrn, v_status, p_lane, p_lane_reason, p_items, p_hs,
		COALESCE(p_origins, '{}'),
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

GRANT EXECUTE ON FUNCTION declared_store TO declared_writer;

-- Receipts are about 2 KB with the embedded certificate, just over the
-- TOAST threshold: lz4 costs far less CPU than pglz there.
ALTER TABLE acks ALTER COLUMN body SET COMPRESSION lz4;
ALTER TABLE requests ALTER COLUMN raw SET COMPRESSION lz4;
