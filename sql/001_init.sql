-- 001: declarations, their events, the acknowledgement outbox, parties.
-- Applied by `declared --migrate` inside one transaction.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'declared_writer') THEN
		CREATE ROLE declared_writer NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'declared_reader') THEN
		CREATE ROLE declared_reader NOLOGIN;
	END IF;
END
$$;

-- Every party that has a queue of acknowledgements.  ack_seq is the last
-- sequence number given to one of its acknowledgements: taking the next one
-- locks the row until COMMIT, so per party, sequence order is commit order
-- and a reader following the cursor never skips a late commit.
CREATE TABLE parties (
	id           text PRIMARY KEY,
	ack_seq      bigint NOT NULL DEFAULT 0,
	callback_url text,
	created_at   timestamptz NOT NULL DEFAULT now()
);

-- Declaration ids are handed out by the daemon in blocks of 4096 (hi-lo):
-- one nextval() per block, so the id and the MRN are known before the
-- receipt is signed, and several daemons never collide.
CREATE SEQUENCE decl_block_seq;

CREATE TABLE declarations (
	id             bigint PRIMARY KEY,
	declarant      text NOT NULL,
	lrn            text NOT NULL,
	submitter      text NOT NULL,          -- TLS client party
	signer         text,                   -- party of the signing certificate
	profile        text NOT NULL,
	function_code  text,
	type_code      text,
	mrn            text,
	status         text NOT NULL,
	lane           text,
	version        integer NOT NULL DEFAULT 1,
	item_count     integer NOT NULL,
	hs_codes       text[] NOT NULL DEFAULT '{}',
	invoice_amount numeric,
	currency       text,
	digest         bytea NOT NULL,         -- SHA-256 of the submitted bytes
	raw            bytea NOT NULL,         -- the submitted, signed document
	received_at    timestamptz NOT NULL DEFAULT now(),
	updated_at     timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT declarations_declarant_lrn UNIQUE (declarant, lrn)
);
ALTER TABLE declarations ALTER COLUMN raw SET COMPRESSION lz4;
CREATE UNIQUE INDEX declarations_mrn ON declarations (mrn) WHERE mrn IS NOT NULL;

-- Append-only history: one row per transition.
CREATE TABLE events (
	id             bigserial PRIMARY KEY,
	declaration_id bigint NOT NULL,
	at             timestamptz NOT NULL DEFAULT now(),
	actor          text NOT NULL,
	from_status    text,
	to_status      text NOT NULL,
	reason         text
);
CREATE INDEX events_declaration ON events (declaration_id);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'events are append-only';
END
$$;
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
	FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- The acknowledgement outbox: every signed Response for a party, in order.
CREATE TABLE acks (
	party          text NOT NULL,
	seq            bigint NOT NULL,
	declaration_id bigint,
	kind           text NOT NULL,          -- Response FunctionCode
	created_at     timestamptz NOT NULL DEFAULT now(),
	body           bytea NOT NULL,         -- the signed Response document
	PRIMARY KEY (party, seq)
);
CREATE INDEX acks_declaration ON acks (declaration_id);

-- Stores one checked declaration with its first event and its receipt, or
-- tells why not: 'new', 'duplicate' (same declarant, LRN and bytes: the
-- original receipt is returned) or 'conflict' (same LRN, other bytes).
CREATE FUNCTION declared_store(
	p_id bigint, p_declarant text, p_lrn text, p_submitter text,
	p_signer text, p_profile text, p_function text, p_type text,
	p_mrn text, p_status text, p_lane text, p_items integer,
	p_hs text[], p_amount text, p_currency text, p_digest bytea,
	p_raw bytea, p_ack_kind text, p_ack bytea)
RETURNS TABLE (outcome text, declaration_id bigint, ack_seq bigint, receipt bytea)
LANGUAGE plpgsql AS $$
DECLARE
	v_id     bigint;
	v_digest bytea;
	v_seq    bigint;
BEGIN
	INSERT INTO declarations (id, declarant, lrn, submitter, signer, profile,
		function_code, type_code, mrn, status, lane, item_count, hs_codes,
		invoice_amount, currency, digest, raw)
	VALUES (p_id, p_declarant, p_lrn, p_submitter, p_signer, p_profile,
		p_function, p_type, p_mrn, p_status, p_lane, p_items, p_hs,
		CASE WHEN p_amount ~ '^-?[0-9]+(\.[0-9]+)?$' THEN p_amount::numeric END,
		p_currency, p_digest, p_raw)
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
	INSERT INTO events (declaration_id, actor, from_status, to_status)
	VALUES (p_id, p_submitter, NULL, p_status);
	INSERT INTO parties AS pt (id, ack_seq) VALUES (p_submitter, 1)
	ON CONFLICT (id) DO UPDATE SET ack_seq = pt.ack_seq + 1
	RETURNING pt.ack_seq INTO v_seq;
	INSERT INTO acks (party, seq, declaration_id, kind, body)
	VALUES (p_submitter, v_seq, p_id, p_ack_kind, p_ack);
	RETURN QUERY SELECT 'new'::text, p_id, v_seq, NULL::bytea;
END
$$;

GRANT SELECT, INSERT, UPDATE ON declarations, parties TO declared_writer;
GRANT SELECT, INSERT ON events, acks TO declared_writer;
GRANT USAGE, SELECT ON SEQUENCE decl_block_seq, events_id_seq TO declared_writer;
GRANT EXECUTE ON FUNCTION declared_store TO declared_writer;
GRANT SELECT ON declarations, parties, events, acks TO declared_reader;
