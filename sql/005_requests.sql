-- 005: amendment and cancellation requests.  A request names the MRN of a
-- declaration; it is granted or denied by the declaration's state (the
-- allowed states come from the daemon's one state machine), recorded with
-- its own signed acknowledgement, and idempotent by content.

CREATE TABLE requests (
	id             bigint PRIMARY KEY,
	submitter      text NOT NULL,
	signer         text,
	profile        text NOT NULL,
	kind           text NOT NULL CHECK (kind IN ('amend', 'cancel')),
	ref_mrn        text,
	lrn            text,
	declaration_id bigint,
	outcome        text NOT NULL,          -- granted | denied | unknown
	digest         bytea NOT NULL,
	raw            bytea NOT NULL,
	received_at    timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT requests_submitter_digest UNIQUE (submitter, digest)
);
ALTER TABLE requests ALTER COLUMN raw SET COMPRESSION lz4;
CREATE INDEX requests_declaration ON requests (declaration_id);

ALTER TABLE acks ADD COLUMN request_id bigint;
CREATE INDEX acks_request ON acks (request_id) WHERE request_id IS NOT NULL;

-- p_allowed: the states from which the request may be granted; p_to: the
-- state after a granted cancellation (NULL for an amendment: the state
-- stays and a new version replaces the document).  Three signed
-- acknowledgements are offered; the one that fits the outcome is queued.
CREATE FUNCTION declared_request(
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
			 WHERE id = v_decl.id;
			INSERT INTO events (declaration_id, actor, from_status, to_status, reason)
			VALUES (v_decl.id, p_submitter, v_decl.status, v_decl.status,
				'amendment granted: version ' || (v_decl.version + 1));
		ELSE
			UPDATE declarations SET status = p_to, updated_at = now()
			 WHERE id = v_decl.id;
			INSERT INTO events (declaration_id, actor, from_status, to_status, reason)
			VALUES (v_decl.id, p_submitter, v_decl.status, p_to, 'cancellation granted');
		END IF;
	ELSE
		v_outcome := 'denied';
		v_kind := p_ack_denied_kind;
		v_body := p_ack_denied;
		INSERT INTO events (declaration_id, actor, from_status, to_status, reason)
		VALUES (v_decl.id, p_submitter, v_decl.status, v_decl.status,
			v_what || ' denied in state ' || v_decl.status);
	END IF;
	UPDATE requests r SET outcome = v_outcome, declaration_id = v_decl.id
	 WHERE r.id = p_id;
	v_seq := declared_next_seq(p_submitter);
	INSERT INTO acks (party, seq, declaration_id, request_id, kind, body)
	VALUES (p_submitter, v_seq, v_decl.id, p_id, v_kind, v_body);
	RETURN QUERY SELECT v_outcome, v_decl.id, v_seq, NULL::bytea;
END
$$;

GRANT SELECT, INSERT, UPDATE ON requests TO declared_writer;
GRANT SELECT ON requests TO declared_reader;
GRANT EXECUTE ON FUNCTION declared_request TO declared_writer;
