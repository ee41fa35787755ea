/* fuzz_intake: the worker's path over one request body, as daemon/work.c
 * runs it: hardened parse, profile match, (signature checking switched off
 * in this fuzz build: a signature is only removed where the schema has no
 * place for it), XSD validation, extraction, business rules, the HS array
 * for the database, and the rejection Response built and serialized.
 *
 * The profiles are the shipped ones (tests/data/conf/profile-*.conf) and
 * the code lists those of data/; FUZZ_ROOT (compile-time, or the
 * environment) is the repository root, CORPUS_DIR the shared corpus (for
 * the CDS schema; without it only the project's own format is fuzzed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "ack.h"
#include "decl.h"
#include "dsig.h"
#include "err.h"
#include "ini.h"
#include "profile.h"
#include "rules.h"
#include "xmlp.h"

#ifndef FUZZ_ROOT
#define FUZZ_ROOT "."
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct profile_set *fz_ps;
static struct rules *fz_rules;
static char *fz_ptr[PF_COUNT];
static char fz_text[2][8192];
static struct ini fz_ini[2];

/* Reads one profile file, "@ROOT@" and "@CORPUS@" replaced, into a
 * profile_def and compiles it. */
static void
fz_profile(const char *root, const char *corpus, const char *name, int k)
{
	struct profile_def def;
	struct errs e;
	char path[4096], raw[8192];
	const char *rep;
	size_t n, i, o = 0, cap = sizeof(fz_text[k]);
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/data/conf/%s", root, name);
	if ((f = fopen(path, "r")) == NULL)
		return;
	n = fread(raw, 1, sizeof(raw) - 1, f);
	fclose(f);
	raw[n] = '\0';
	for (i = 0; i < n && o + 1 < cap; ) {
		rep = strncmp(raw + i, "@ROOT@", 6) == 0 ? root :
		    strncmp(raw + i, "@CORPUS@", 8) == 0 ? corpus : NULL;
		if (rep != NULL) {
			o += (size_t)snprintf(fz_text[k] + o, cap - o, "%s", rep);
			if (o >= cap)
				o = cap - 1;
			i += raw[i + 1] == 'R' ? 6 : 8;
		} else {
			fz_text[k][o++] = raw[i++];
		}
	}
	fz_text[k][o] = '\0';
	err_init(&e);
	if (ini_parse(fz_text[k], o, &fz_ini[k], &e) != 0)
		goto done;
	memset(&def, 0, sizeof(def));
	def.signature_required = 1;
	def.apply_rules = 1;
	for (i = 0; i < fz_ini[k].n; i++) {
		const struct ini_entry *en = &fz_ini[k].v[i];
		int fld;

		def.name = en->section + strlen("profile.");
		if (strcmp(en->key, "root") == 0 && en->value[0] == '{') {
			char *rb = strchr(en->value, '}');

			if (rb != NULL) {
				*rb = '\0';
				def.root_ns = en->value + 1;
				def.root_name = rb + 1;
			}
		} else if (strcmp(en->key, "schema") == 0) {
			def.schema = en->value;
		} else if (strcmp(en->key, "signature_in_schema") == 0) {
			def.signature_in_schema = strcmp(en->value, "yes") == 0;
		} else if (strncmp(en->key, "ns.", 3) == 0 && def.n_ns < PROFILE_NS_MAX) {
			def.ns_prefix[def.n_ns] = en->key + 3;
			def.ns_uri[def.n_ns++] = en->value;
		} else if (strncmp(en->key, "xpath.", 6) == 0 &&
		    (fld = profile_field_by_name(en->key + 6)) >= 0) {
			def.xpath[fld] = en->value;
		}
	}
	if (def.schema != NULL && profile_set_add(fz_ps, &def, &e) != 0)
		fprintf(stderr, "fuzz_intake: profile %s: %s\n", name,
		    e.n ? e.v[0].msg : "?");
done:
	err_clear(&e);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *root = getenv("FUZZ_ROOT") ? getenv("FUZZ_ROOT") : FUZZ_ROOT;
	const char *corpus = getenv("CORPUS_DIR");
	char cdir[4096];
	struct rules_opts ro;
	struct errs e;
	char cl[4096], cu[4096];
	int f;

	xmlInitParser();
	if (dsig_global_init() != 0)
		abort();
	err_init(&e);
	if ((fz_ps = profile_set_new()) == NULL)
		abort();
	if (corpus == NULL) {
		snprintf(cdir, sizeof(cdir), "%s/../shared/corpus", root);
		corpus = cdir;
	}
	fz_profile(root, corpus, "profile-wco.conf", 0);
	fz_profile(root, corpus, "profile-cds.conf", 1); /* skipped if absent */
	if (profile_set_count(fz_ps) == 0) {
		fprintf(stderr, "fuzz_intake: no profile under %s (set FUZZ_ROOT)\n", root);
		abort();
	}
	snprintf(cl, sizeof(cl), "%s/data/countries.txt", root);
	snprintf(cu, sizeof(cu), "%s/data/currencies.txt", root);
	ro.countries = cl;
	ro.currencies = cu;
	ro.value_tolerance = 0.01;
	ro.future_skew_s = 300;
	if ((fz_rules = rules_new(&ro, &e)) == NULL)
		abort();
	for (f = 0; f < PF_COUNT; f++)
		fz_ptr[f] = (char *)profile_field_name((enum profile_field)f);
	err_clear(&e);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xmlp_limits lim = XMLP_DEFAULT_LIMITS;
	struct ack_info ai;
	const struct profile *p;
	struct decl d;
	struct errs e;
	xmlDocPtr doc, ack;
	char digest[65], hs[DECL_ITEMS_MAX * (DECL_CODE_MAX + 3) + 4], *out = NULL;
	size_t olen;

	lim.max_bytes = 1 << 20;
	err_init(&e);
	decl_init(&d);
	ack_sha256_hex(data, size, digest);
	if ((doc = xmlp_parse((const char *)data, size, &lim, &e)) == NULL)
		goto respond;
	if ((p = profile_match(fz_ps, doc, &e)) == NULL)
		goto respond;
	/* no dsig_verify here: the fuzz build checks no signature */
	if (!profile_signature_in_schema(p))
		dsig_remove_signature(doc);
	if (profile_validate(p, doc, &e) != 0 || profile_extract(p, doc, &d, &e) != 0)
		goto respond;
	rules_check(fz_rules, &d, (const char *const *)fz_ptr, 1790000000, &e);
	decl_hs_array(&d, hs, sizeof(hs));
respond:
	memset(&ai, 0, sizeof(ai));
	ai.function_code = ACK_REJECTED;
	ai.lrn = d.lrn[0] ? d.lrn : NULL;
	ai.digest_hex = digest;
	ai.issued = "2026-11-22T10:00:00Z";
	ai.errors = &e;
	if ((ack = ack_build(&ai)) != NULL) {
		if (ack_serialize(ack, &out, &olen) == 0)
			free(out);
		xmlFreeDoc(ack);
	}
	xmlFreeDoc(doc);
	decl_clear(&d);
	err_clear(&e);
	return 0;
}
