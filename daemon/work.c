/* The per-declaration pipeline, on a worker thread: parse, pick the profile,
 * verify the signature, validate, extract, and build the signed receipt. */
#include "work.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libxml/tree.h>

#include "ack.h"
#include "config.h"
#include "dsig.h"
#include "mrn.h"
#include "profile.h"

struct work_env *
work_env_new(const struct config *cfg, struct errs *e)
{
	struct work_env *env;
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
	return env;
fail:
	work_env_free(env);
	return NULL;
}

void
work_env_free(struct work_env *env)
{
	if (env == NULL)
		return;
	profile_set_free(env->profiles);
	dsig_trust_free(env->trust);
	dsig_signer_free(env->signer);
	free(env);
}

/* Builds, signs and serializes a Response into j->resp. */
static int
work_respond(const struct work_env *env, struct job *j, const struct ack_info *ai)
{
	xmlDocPtr doc;
	struct errs se;
	int rc = -1;

	err_init(&se);
	if ((doc = ack_build(ai)) == NULL)
		goto done;
	if (dsig_sign(env->signer, doc, &se) != 0)
		goto done;
	free(j->resp);
	j->resp = NULL;
	if (ack_serialize(doc, &j->resp, &j->resp_len) != 0)
		goto done;
	rc = 0;
done:
	xmlFreeDoc(doc);
	err_clear(&se);
	return rc;
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
	struct dsig_policy pol = { 0, 0 };
	struct dsig_result sr;
	struct ack_info ai = { 0 };
	xmlDocPtr doc = NULL;
	xmlNodePtr root, n;
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
	gmtime_r(&now, &tm);
	if (mrn_make(tm.tm_year % 100, env->country, j->id, j->mrn) != 0) {
		err_add(&j->errs, "INTERNAL", 0, "", "cannot make an MRN");
		j->status = 500;
		goto done;
	}
	snprintf(j->state, sizeof(j->state), "accepted");
	snprintf(idtxt, sizeof(idtxt), "%lld", (long long)j->id);
	ai.function_code = ACK_ACCEPTED;
	ai.lrn = j->decl.lrn;
	ai.declaration_id = idtxt;
	ai.mrn = j->mrn;
	ai.status = j->state;
	ai.digest_hex = j->digest;
	if (work_respond(env, j, &ai) != 0) {
		j->status = 500;
		goto done;
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

void
work_run(const struct work_env *env, struct job *j)
{
	switch (j->kind) {
	case JOB_INTAKE:
		work_intake(env, j);
		break;
	case JOB_RESPONSE:
		work_response(env, j);
		break;
	}
}
