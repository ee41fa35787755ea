/* ceiling: one document through the daemon's intake path (daemon/work.c),
 * timed per stage, and the profiles, trust, signer, rules and risk it needs. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>

#include "ack.h"
#include "ceiling.h"
#include "decl.h"
#include "dsig.h"
#include "err.h"
#include "ini.h"
#include "lifecycle.h"
#include "mrn.h"
#include "profile.h"
#include "risk.h"
#include "rules.h"
#include "xmlp.h"

#define CEIL_PROFILES 16

/* ---- profiles from the [profile.NAME] sections of an INI file ---- */

/* A readable location from a profile XPath, as daemon/work.c makes it for
 * the rules: prefixes and predicates dropped. */
static char *
ceil_pointer(const char *xpath)
{
	size_t n = strlen(xpath), i, o = 0, start = 0;
	char *out = malloc(n + 1);
	int depth = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		char c = xpath[i];

		if (c == '[' || c == ']') {
			depth += c == '[' ? 1 : -1;
			continue;
		}
		if (depth > 0)
			continue;
		if (c == ':' && xpath[i + 1] != ':') {
			o = start;
			continue;
		}
		out[o++] = c;
		if (c == '/' || c == '@')
			start = o;
	}
	out[o] = '\0';
	return out;
}

static int
ceil_bool(const char *v)
{
	return strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0 || strcmp(v, "on") == 0;
}

static int
ceil_profiles(struct ceil_env *env, const char *path, const char *root,
    struct ini *ini)
{
	struct profile_def defs[CEIL_PROFILES];
	char *text = NULL, *sub = NULL, *p, *q, *w;
	size_t len, i, nd = 0, k, rl = strlen(root);
	struct errs e;
	int f, rc = -1;

	err_init(&e);
	memset(defs, 0, sizeof(defs));
	if (ceil_read(path, &text, &len) != 0) {
		fprintf(stderr, "ceiling: cannot read %s\n", path);
		goto done;
	}
	/* @ROOT@ -> root, as tests/integration/lib.sh does */
	if ((sub = malloc(len * (rl + 1) + 1)) == NULL)
		goto done;
	for (p = text, w = sub; (q = strstr(p, "@ROOT@")) != NULL; p = q + 6) {
		memcpy(w, p, (size_t)(q - p));
		w += q - p;
		memcpy(w, root, rl);
		w += rl;
	}
	strcpy(w, p);
	if (ini_parse(sub, strlen(sub), ini, &e) != 0) {
		ceil_errs(path, &e);
		goto done;
	}
	for (i = 0; i < ini->n; i++) {
		const struct ini_entry *en = &ini->v[i];
		struct profile_def *d;
		const char *key = en->key, *v = en->value;

		if (strncmp(en->section, "profile.", 8) != 0)
			continue;
		for (k = 0; k < nd; k++)
			if (strcmp(defs[k].name, en->section + 8) == 0)
				break;
		if (k == nd) {
			if (nd == CEIL_PROFILES)
				continue;
			defs[nd++].name = en->section + 8;
		}
		d = &defs[k];
		if (strcmp(key, "root") == 0) {
			if (v[0] == '{' && (q = strchr(v, '}')) != NULL) {
				*q = '\0'; /* the entry's own storage */
				d->root_ns = v + 1;
				d->root_name = q + 1;
			} else {
				d->root_ns = "";
				d->root_name = v;
			}
		} else if (strcmp(key, "schema") == 0) {
			d->schema = v;
		} else if (strcmp(key, "signature_in_schema") == 0) {
			d->signature_in_schema = ceil_bool(v);
		} else if (strcmp(key, "signature") == 0) {
			d->signature_required = strcmp(v, "required") == 0;
		} else if (strcmp(key, "allow_rsa_sha1") == 0) {
			d->allow_rsa_sha1 = ceil_bool(v);
		} else if (strncmp(key, "ns.", 3) == 0 && d->n_ns < PROFILE_NS_MAX) {
			d->ns_prefix[d->n_ns] = key + 3;
			d->ns_uri[d->n_ns++] = v;
		} else if (strncmp(key, "xpath.", 6) == 0 &&
		    (f = profile_field_by_name(key + 6)) >= 0 && f < PF_COUNT) {
			d->xpath[f] = v;
		}
	}
	for (k = 0; k < nd; k++) {
		if (profile_set_add(env->ps, &defs[k], &e) != 0) {
			ceil_errs(defs[k].name, &e);
			goto done;
		}
		/* the rules get the first profile's locations (the bench
		 * documents are all of one profile) */
		for (f = 0; f < PF_COUNT && k == 0; f++)
			if ((env->ptr[f] = ceil_pointer(defs[k].xpath[f] ?
			    defs[k].xpath[f] : "")) == NULL)
				goto done;
	}
	rc = nd > 0 ? 0 : -1;
	if (nd == 0)
		fprintf(stderr, "ceiling: no [profile.NAME] in %s\n", path);
done:
	free(text);
	free(sub);
	err_clear(&e);
	return rc;
}

/* ---- the worker's path ---- */

#define CEIL_T(stage) do { if (st != NULL) { double t_ = ceil_cpu(); \
	st[stage] += t_ - t0; t0 = t_; } } while (0)

/* One document through daemon/work.c's intake path.  st: per-stage CPU
 * microseconds added (NULL: not instrumented).  keep: leave the results in
 * doc for the database part.  Returns 0 if the document was accepted. */
int
ceil_one(struct ceil_env *env, struct ceil_doc *doc, int64_t id, double *st,
    int keep)
{
	const struct profile *p;
	struct dsig_policy pol = { 0 };
	struct dsig_result sr;
	struct ack_info ai = { 0 };
	struct errs e;
	struct decl d;
	xmlDocPtr x = NULL;
	xmlNodePtr n;
	char digest[65], mrn[24], idtxt[24], why[128], *resp = NULL, *resp2 = NULL;
	size_t resp_len = 0, resp2_len = 0;
	int rc = -1, has_sig = 0;
	double t0 = st != NULL ? ceil_cpu() : 0;
	struct tm tm;
	time_t now;
	enum lane lane;

	err_init(&e);
	decl_init(&d);
	ack_sha256_hex(doc->buf, doc->len, digest);
	CEIL_T(ST_SHA);
	if ((x = xmlp_parse(doc->buf, doc->len, &env->lim, &e)) == NULL)
		goto done;
	CEIL_T(ST_PARSE);
	if ((p = profile_match(env->ps, x, &e)) == NULL)
		goto done;
	for (n = xmlDocGetRootElement(x)->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && n->ns != NULL &&
		    strcmp((const char *)n->name, "Signature") == 0 &&
		    strcmp((const char *)n->ns->href,
		    "http://www.w3.org/2000/09/xmldsig#") == 0)
			has_sig = 1;
	CEIL_T(ST_MATCH);
	if (has_sig || profile_signature_required(p)) {
		pol.allow_rsa_sha1 = profile_allow_rsa_sha1(p);
		if (dsig_verify(env->trust, &pol, x, &sr, &e) != 0)
			goto done;
		if (!profile_signature_in_schema(p))
			dsig_remove_signature(x);
	}
	CEIL_T(ST_VERIFY);
	if (profile_validate(p, x, &e) != 0)
		goto done;
	CEIL_T(ST_VALIDATE);
	if (profile_extract(p, x, &d, &e) != 0)
		goto done;
	CEIL_T(ST_EXTRACT);
	now = time(NULL);
	if (rules_check(env->rules, &d, (const char *const *)env->ptr, now, &e) != 0)
		goto done;
	gmtime_r(&now, &tm);
	if (mrn_make(tm.tm_year % 100, env->country, id, mrn) != 0)
		goto done;
	env->rnd = env->rnd * 1103515245u + 12345u;
	why[0] = '\0';
	lane = risk_assess(env->risk, &d, (double)(env->rnd >> 8) / 16777216.0,
	    why, sizeof(why));
	CEIL_T(ST_RULES);
	snprintf(idtxt, sizeof(idtxt), "%lld", (long long)id);
	ai.function_code = lifecycle_ack_code(LC_ACCEPTED, LC_ACCEPT);
	ai.lrn = d.lrn;
	ai.declaration_id = idtxt;
	ai.mrn = mrn;
	ai.status = lifecycle_state_name(LC_ACCEPTED);
	ai.lane = risk_lane_name(lane);
	ai.digest_hex = digest;
	if (ack_sign(&ai, env->signer, &resp, &resp_len, &e) != 0)
		goto done;
	CEIL_T(ST_SIGN);
	/* green lane, automatic release: a second signed acknowledgement */
	if (lane == LANE_GREEN && env->auto_release) {
		ai.function_code = lifecycle_ack_code(LC_RELEASED, LC_RELEASE);
		ai.status = lifecycle_state_name(LC_RELEASED);
		ai.reason = "green lane: automatic release";
		if (ack_sign(&ai, env->signer, &resp2, &resp2_len, &e) != 0)
			goto done;
	}
	CEIL_T(ST_RELEASE);
	rc = 0;
	if (keep) {
		decl_clear(&doc->d);
		doc->d = d;
		decl_init(&d);
		memcpy(doc->digest, digest, sizeof(digest));
		memcpy(doc->mrn, mrn, sizeof(mrn));
		snprintf(doc->signer, sizeof(doc->signer), "%s", has_sig ? sr.party : "");
		snprintf(doc->lane, sizeof(doc->lane), "%s", risk_lane_name(lane));
		snprintf(doc->lane_reason, sizeof(doc->lane_reason), "%s", why);
		free(doc->resp);
		free(doc->resp2);
		doc->resp = resp;
		doc->resp_len = resp_len;
		doc->resp2 = resp2;
		doc->resp2_len = resp2_len;
		resp = resp2 = NULL;
		doc->ok = 1;
	}
done:
	if (rc != 0 && keep)
		ceil_errs("document rejected", &e);
	xmlFreeDoc(x);
	free(resp);
	free(resp2);
	decl_clear(&d);
	err_clear(&e);
	CEIL_T(ST_FREE);
	return rc;
}

/* ---- its environment ---- */

int
ceil_env_new(struct ceil_env *env, const struct ceil_opts *o, struct ini *ini)
{
	struct rules_opts ro;
	char cpath[4224], kpath[4224];
	struct errs e;
	int rc = -1;

	err_init(&e);
	memset(env, 0, sizeof(*env));
	env->lim = (struct xmlp_limits)XMLP_DEFAULT_LIMITS;
	env->lim.max_bytes = 10u << 20;
	env->country = o->country;
	env->auto_release = o->auto_release;
	env->rnd = 12345;
	snprintf(cpath, sizeof(cpath), "%s/countries.txt", o->data);
	snprintf(kpath, sizeof(kpath), "%s/currencies.txt", o->data);
	ro.countries = cpath;
	ro.currencies = kpath;
	ro.value_tolerance = 0.01;
	ro.future_skew_s = 300;
	if ((env->ps = profile_set_new()) == NULL ||
	    ceil_profiles(env, o->profile_conf, o->root, ini) != 0)
		goto done;
	if ((env->trust = dsig_trust_new(o->trusted_ca, NULL, &e)) == NULL ||
	    (env->signer = dsig_signer_new(o->ack_key, o->ack_cert, &e)) == NULL ||
	    (env->rules = rules_new(&ro, &e)) == NULL ||
	    (env->risk = risk_new(o->risk_rules, &e)) == NULL) {
		ceil_errs("setup", &e);
		goto done;
	}
	rc = 0;
done:
	err_clear(&e);
	return rc;
}

void
ceil_env_free(struct ceil_env *env)
{
	int f;

	for (f = 0; f < PF_COUNT; f++)
		free(env->ptr[f]);
	profile_set_free(env->ps);
	dsig_trust_free(env->trust);
	dsig_signer_free(env->signer);
	rules_free(env->rules);
	risk_free(env->risk);
}
