/* The per-declaration pipeline, on a worker thread: parse, pick the profile,
 * verify the signature, validate, extract, and build the signed receipt. */
#include "work.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libxml/tree.h>

#include <math.h>
#include <jansson.h>

#include "ack.h"
#include "config.h"
#include "dsig.h"
#include "lifecycle.h"
#include "mrn.h"
#include "profile.h"
#include "risk.h"
#include "rules.h"

/* A readable location from a profile XPath: prefixes and predicates
 * dropped, "/d:Declaration/d:InvoiceAmount/@currencyID" ->
 * "/Declaration/InvoiceAmount/@currencyID". */
static char *
work_pointer(const char *xpath)
{
	size_t n = strlen(xpath), i, o = 0, start = 0;
	int depth = 0;
	char *out = malloc(n + 1);

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		char c = xpath[i];

		if (c == '[') {
			depth++;
			continue;
		}
		if (c == ']') {
			depth--;
			continue;
		}
		if (depth > 0)
			continue;
		if (c == ':' && xpath[i + 1] != ':') {
			o = start; /* drop the prefix just copied */
			continue;
		}
		out[o++] = c;
		if (c == '/' || c == '@')
			start = o;
	}
	out[o] = '\0';
	return out;
}

struct work_env *
work_env_new(const struct config *cfg, struct errs *e)
{
	struct work_env *env;
	struct rules_opts ro;
	char cl[4096], cu[4096], *end;
	size_t i;

	if ((env = calloc(1, sizeof(*env))) == NULL) {
		err_add(e, "NOMEM", 0, "", "out of memory");
		return NULL;
	}
	env->limits = (struct xmlp_limits)XMLP_DEFAULT_LIMITS;
	env->limits.max_bytes = cfg->max_body;
	snprintf(env->country, sizeof(env->country), "%s", cfg->country);
	if ((env->profiles = profile_set_new()) == NULL)
		goto fail;
	for (i = 0; i < cfg->n_profiles; i++)
		if (profile_set_add(env->profiles, &cfg->profiles[i], e) != 0)
			goto fail;
	if ((env->trust = dsig_trust_new(cfg->trusted_ca,
	    cfg->signing_crl && *cfg->signing_crl ? cfg->signing_crl : NULL, e)) == NULL)
		goto fail;
	if ((env->signer = dsig_signer_new(cfg->sign_key, cfg->sign_cert, e)) == NULL)
		goto fail;
	snprintf(cl, sizeof(cl), "%s/countries.txt", cfg->data_dir);
	snprintf(cu, sizeof(cu), "%s/currencies.txt", cfg->data_dir);
	ro.countries = cl;
	ro.currencies = cu;
	ro.value_tolerance = strtod(cfg->value_tolerance, &end);
	ro.future_skew_s = cfg->future_skew_s;
	if (*end != '\0' || !isfinite(ro.value_tolerance) || ro.value_tolerance < 0) {
		err_add(e, "CONFIG_VALUE", 0, "customs.value_tolerance",
		    "value_tolerance must be a decimal >= 0");
		goto fail;
	}
	if ((env->rules = rules_new(&ro, e)) == NULL ||
	    (env->risk = risk_new(cfg->risk_rules, e)) == NULL)
		goto fail;
	env->auto_release = cfg->auto_release;
	for (i = 0; i < cfg->n_profiles; i++) {
		struct work_prof *wp = &env->prof[env->n_prof++];
		int f;

		if ((wp->name = strdup(cfg->profiles[i].name)) == NULL)
			goto fail;
		wp->apply_rules = cfg->profiles[i].apply_rules;
		for (f = 0; f < PF_COUNT; f++)
			if (cfg->profiles[i].xpath[f] != NULL &&
			    (wp->ptr[f] = work_pointer(cfg->profiles[i].xpath[f])) == NULL)
				goto fail;
	}
	return env;
fail:
	work_env_free(env);
	return NULL;
}

void
work_env_ref(struct work_env *env)
{
	env->refs++;
}

void
work_env_unref(struct work_env *env)
{
	if (env != NULL && --env->refs == 0 && env->retired)
		work_env_free(env);
}

void
work_env_retire(struct work_env *env)
{
	if (env == NULL)
		return;
	env->retired = 1;
	if (env->refs == 0)
		work_env_free(env);
}

void
work_env_free(struct work_env *env)
{
	size_t i;
	int f;

	if (env == NULL)
		return;
	for (i = 0; i < env->n_prof; i++) {
		free((char *)env->prof[i].name);
		for (f = 0; f < PF_COUNT; f++)
			free(env->prof[i].ptr[f]);
	}
	rules_free(env->rules);
	risk_free(env->risk);
	profile_set_free(env->profiles);
	dsig_trust_free(env->trust);
	dsig_signer_free(env->signer);
	free(env);
}

/* Writes and signs a Response into *out. */
static int
work_sign(const struct work_env *env, const struct ack_info *ai, char **out,
    size_t *len)
{
	struct errs se;
	int rc;

	err_init(&se);
	free(*out);
	rc = ack_sign(ai, env->signer, out, len, &se);
	err_clear(&se);
	return rc;
}

static int
work_respond(const struct work_env *env, struct job *j, const struct ack_info *ai)
{
	return work_sign(env, ai, &j->resp, &j->resp_len);
}

static const struct work_prof *
work_prof_of(const struct work_env *env, const char *name)
{
	size_t i;

	for (i = 0; i < env->n_prof; i++)
		if (strcmp(env->prof[i].name, name) == 0)
			return &env->prof[i];
	return NULL;
}

/* The rule failures as a JSON array for the declarations.errors column. */
static char *
work_errors_json(const struct errs *e)
{
	json_t *a = json_array();
	char *s;
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < e->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "code",
		    e->v[i].code, "message", e->v[i].msg, "pointer", e->v[i].pointer));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static void work_reject(const struct work_env *env, struct job *j, int status);

/* Amendment: FunctionCode 13 (CDS: 13 with TypeCode COR); cancellation:
 * FunctionCode 1, or 13 with TypeCode INV (CDS invalidation). */
static int
work_request_kind(const struct decl *d)
{
	if (strcmp(d->function, "1") == 0)
		return REQ_CANCEL;
	if (strcmp(d->function, "13") == 0)
		return strcmp(d->type, "INV") == 0 ? REQ_CANCEL : REQ_AMEND;
	return REQ_NONE;
}

/* An amendment or cancellation: three signed answers (granted, denied by
 * state, unknown MRN); the database picks the one that holds. */
static void
work_request(const struct work_env *env, struct job *j, const struct work_prof *wp,
    time_t now)
{
	enum lc_action act = j->req_kind == REQ_AMEND ? LC_AMEND : LC_CANCEL;
	const char *what = act == LC_AMEND ? "amendment" : "cancellation";
	struct ack_info ai = { 0 };
	struct errs e;
	char msg[200];

	err_init(&e);
	ai.lrn = j->decl.lrn[0] ? j->decl.lrn : NULL;
	ai.mrn = j->decl.ref_mrn[0] ? j->decl.ref_mrn : NULL;
	ai.digest_hex = j->digest;
	if (j->decl.ref_mrn[0] == '\0') {
		err_add(&j->errs, "FIELD_MISSING", 0, wp ? wp->ptr[PF_REF_MRN] : "",
		    "an %s must name the MRN of the declaration", what);
		work_reject(env, j, 400);
		return;
	}
	if (act == LC_AMEND && wp != NULL && wp->apply_rules &&
	    rules_check(env->rules, &j->decl, (const char *const *)wp->ptr, now,
	    &j->errs) > 0) {
		work_reject(env, j, 400);
		return;
	}
	/* granted */
	ai.function_code = j->ack_kind = act == LC_AMEND ?
	    lifecycle_ack_code(LC_ACCEPTED, LC_AMEND) :
	    lifecycle_ack_code(LC_CANCELLED, LC_CANCEL);
	ai.status = act == LC_AMEND ? NULL : lifecycle_state_name(LC_CANCELLED);
	snprintf(msg, sizeof(msg), "%s granted", what);
	ai.reason = msg;
	if (work_sign(env, &ai, &j->resp, &j->resp_len) != 0)
		goto fail;
	/* denied by the declaration's state */
	ai.function_code = j->ack2_kind_denied = lifecycle_ack_code(LC_ACCEPTED, LC_AMEND);
	ai.status = NULL;
	snprintf(msg, sizeof(msg), "%s denied", what);
	err_add(&e, act == LC_AMEND ? "AMENDMENT_DENIED" : "CANCELLATION_DENIED", 0,
	    "", "the declaration's state does not allow an %s", what);
	ai.errors = &e;
	if (work_sign(env, &ai, &j->resp2, &j->resp2_len) != 0)
		goto fail;
	/* unknown MRN (or not the submitter's) */
	err_clear(&e);
	err_add(&e, "UNKNOWN_MRN", 0, wp ? wp->ptr[PF_REF_MRN] : "",
	    "no declaration %s of yours is known", j->decl.ref_mrn);
	ai.function_code = j->ack3_kind = lifecycle_ack_code(LC_ACCEPTED, LC_AMEND);
	if (work_sign(env, &ai, &j->resp3, &j->resp3_len) != 0)
		goto fail;
	err_clear(&e);
	j->status = 0;
	return;
fail:
	err_clear(&e);
	j->status = 500;
}

/* Which HTTP status a failed signature check gets. */
static int
work_sig_status(const char *code)
{
	if (code != NULL && (strncmp(code, "SIG_CERT_", 9) == 0 ||
	    strcmp(code, "SIG_PARTY") == 0))
		return 403;
	return 400;
}

static void
work_reject(const struct work_env *env, struct job *j, int status)
{
	struct ack_info ai = { 0 };

	j->status = status;
	ai.function_code = ACK_REJECTED;
	ai.lrn = j->decl.lrn[0] ? j->decl.lrn : NULL;
	ai.digest_hex = j->digest;
	ai.errors = &j->errs;
	if (work_respond(env, j, &ai) != 0)
		j->status = 500;
}

static void
work_intake(const struct work_env *env, struct job *j)
{
	const struct profile *p;
	struct dsig_policy pol = { 0 };
	struct dsig_result sr;
	struct ack_info ai = { 0 };
	xmlDocPtr doc = NULL;
	xmlNodePtr root, n;
	const struct work_prof *wp;
	enum lane lane;
	char idtxt[24];
	int has_sig = 0;
	struct tm tm;
	time_t now;

	ack_sha256_hex(j->body, j->len, j->digest);
	if ((doc = xmlp_parse(j->body, j->len, &env->limits, &j->errs)) == NULL) {
		work_reject(env, j, 400);
		goto done;
	}
	if ((p = profile_match(env->profiles, doc, &j->errs)) == NULL) {
		work_reject(env, j, 400);
		goto done;
	}
	j->profile = profile_name(p);
	root = xmlDocGetRootElement(doc);
	for (n = root->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && n->ns != NULL &&
		    strcmp((const char *)n->name, "Signature") == 0 &&
		    strcmp((const char *)n->ns->href,
		    "http://www.w3.org/2000/09/xmldsig#") == 0)
			has_sig = 1;
	if (has_sig || profile_signature_required(p)) {
		pol.allow_rsa_sha1 = profile_allow_rsa_sha1(p);
		if (dsig_verify(env->trust, &pol, doc, &sr, &j->errs) != 0) {
			work_reject(env, j, work_sig_status(err_first_code(&j->errs)));
			goto done;
		}
		snprintf(j->signer, sizeof(j->signer), "%s", sr.party);
		if (!profile_signature_in_schema(p))
			dsig_remove_signature(doc);
	}
	if (profile_validate(p, doc, &j->errs) != 0 ||
	    profile_extract(p, doc, &j->decl, &j->errs) != 0) {
		work_reject(env, j, 400);
		goto done;
	}
	now = time(NULL);
	snprintf(idtxt, sizeof(idtxt), "%lld", (long long)j->id);
	wp = work_prof_of(env, j->profile);
	if ((j->req_kind = work_request_kind(&j->decl)) != REQ_NONE) {
		work_request(env, j, wp, now);
		goto done;
	}
	if (j->decl.declarant[0] == '\0') {
		err_add(&j->errs, "FIELD_MISSING", 0, wp ? wp->ptr[PF_DECLARANT] : "",
		    "a declaration must name its declarant");
		work_reject(env, j, 400);
		goto done;
	}
	if (wp != NULL && wp->apply_rules &&
	    rules_check(env->rules, &j->decl, (const char *const *)wp->ptr, now,
	    &j->errs) > 0) {
		/* a rejected declaration is stored, with its errors */
		snprintf(j->state, sizeof(j->state), "%s",
		    lifecycle_state_name(LC_REJECTED));
		j->errors_json = work_errors_json(&j->errs);
		ai.function_code = j->ack_kind = lifecycle_ack_code(LC_REJECTED, LC_REJECT);
		ai.lrn = j->decl.lrn;
		ai.declaration_id = idtxt;
		ai.status = j->state;
		ai.digest_hex = j->digest;
		ai.errors = &j->errs;
		j->status = work_respond(env, j, &ai) == 0 && j->errors_json ? 0 : 500;
		goto done;
	}
	gmtime_r(&now, &tm);
	if (mrn_make(tm.tm_year % 100, env->country, j->id, j->mrn) != 0) {
		err_add(&j->errs, "INTERNAL", 0, "", "cannot make an MRN");
		j->status = 500;
		goto done;
	}
	lane = risk_assess(env->risk, &j->decl, arc4random() / 4294967296.0,
	    j->lane_reason, sizeof(j->lane_reason));
	snprintf(j->lane, sizeof(j->lane), "%s", risk_lane_name(lane));
	snprintf(j->state, sizeof(j->state), "%s", lifecycle_state_name(LC_ACCEPTED));
	ai.function_code = j->ack_kind = lifecycle_ack_code(LC_ACCEPTED, LC_ACCEPT);
	ai.lrn = j->decl.lrn;
	ai.declaration_id = idtxt;
	ai.mrn = j->mrn;
	ai.status = j->state;
	ai.lane = j->lane;
	ai.digest_hex = j->digest;
	if (work_respond(env, j, &ai) != 0) {
		j->status = 500;
		goto done;
	}
	if (lane == LANE_GREEN && env->auto_release &&
	    lifecycle_next(LC_ACCEPTED, LC_RELEASE) == LC_RELEASED) {
		snprintf(j->state2, sizeof(j->state2), "%s",
		    lifecycle_state_name(LC_RELEASED));
		snprintf(j->reason2, sizeof(j->reason2), "green lane: automatic release");
		j->ack2_kind = lifecycle_ack_code(LC_RELEASED, LC_RELEASE);
		ai.function_code = j->ack2_kind;
		ai.status = j->state2;
		ai.reason = j->reason2;
		if (work_sign(env, &ai, &j->resp2, &j->resp2_len) != 0) {
			j->status = 500;
			goto done;
		}
	}
	j->status = 0; /* to be stored */
done:
	xmlFreeDoc(doc);
}

static void
work_response(const struct work_env *env, struct job *j)
{
	struct ack_info ai = { 0 };
	char idtxt[24];

	err_clear(&j->errs);
	err_add(&j->errs, j->want_code, 0, "", "%s", j->want_msg);
	ai.function_code = ACK_ERROR;
	ai.lrn = j->decl.lrn[0] ? j->decl.lrn : NULL;
	if (j->db_id > 0) {
		snprintf(idtxt, sizeof(idtxt), "%lld", (long long)j->db_id);
		ai.declaration_id = idtxt;
	}
	ai.digest_hex = j->digest[0] ? j->digest : NULL;
	ai.errors = &j->errs;
	j->status = work_respond(env, j, &ai) == 0 ? j->want_status : 500;
}

static void
work_ack(const struct work_env *env, struct job *j)
{
	struct ack_info ai = { 0 };
	char idtxt[24];

	snprintf(idtxt, sizeof(idtxt), "%lld", (long long)j->db_id);
	ai.function_code = j->ack_fc;
	ai.lrn = j->decl.lrn[0] ? j->decl.lrn : NULL;
	ai.declaration_id = j->db_id > 0 ? idtxt : NULL;
	ai.mrn = j->mrn[0] ? j->mrn : NULL;
	ai.status = j->state[0] ? j->state : NULL;
	ai.lane = j->lane[0] ? j->lane : NULL;
	ai.reason = j->reason2[0] ? j->reason2 : NULL;
	ai.errors = j->errs.n > 0 ? &j->errs : NULL;
	j->status = work_respond(env, j, &ai) == 0 ? 0 : 500;
}

void
work_run(const struct work_env *env, struct job *j)
{
	switch (j->kind) {
	case JOB_ACK:
		work_ack(env, j);
		break;
	case JOB_INTAKE:
		work_intake(env, j);
		break;
	case JOB_RESPONSE:
		work_response(env, j);
		break;
	}
}
