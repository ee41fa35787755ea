/* ceiling: what this machine could do at most with the daemon's own code,
 * measured on the benchmark's own documents.
 *
 *   ceiling run --profile-conf F --root DIR --trusted-ca CA --ack-cert C
 *               --ack-key K --dir DOCS [--count N] [--cores N]
 *               [--conninfo S --pg-pidfile F] [--batch 256]
 *               [--submitter ID] [--country CC] [--data DIR]
 *               [--risk-rules F] [--auto-release 0|1]
 *   ceiling sign --sign-cert C --sign-key K [--jobs N] [--prefix P] IN OUT
 *
 * run: (1) the worker's path on one core, per document: SHA-256 of the body,
 * hardened parse, profile match, strict XML-DSig verify, XSD validation,
 * extraction, business rules and risk lane, MRN, receipt built, signed and
 * serialized, and for a green lane with automatic release (the daemon's
 * default) the second, release acknowledgement, as daemon/work.c does it; thread CPU time, first per stage
 * (instrumented pass) and then in total (clean pass, the figure used).
 * (2) the database alone: the same declarations stored through the real
 * declared_store() function, --batch per transaction, libpq pipeline mode,
 * one connection; the CPU of every PostgreSQL process (postmaster, its
 * live children, and the children it reaped) before and after, per
 * declaration.  ceiling_per_s = cores * 1e6 / (daemon_us + pg_us).
 *
 * sign: signs every *.xml of IN into OUT/PREFIX+name with the daemon's
 * lib/dsig, in --jobs threads (declctl sign does the same for one file,
 * but one process per file costs ~19 ms each: far too slow for 10^5 files).
 *
 * The last stdout line of run is "ceiling: key=value ...". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "ack.h"
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

#define CEIL_FILES_MAX 1000000
#define CEIL_FILE_MAX (16u << 20)
#define CEIL_PROFILES 16
#define CEIL_STORE_PARAMS 64
#define CEIL_ID_BASE 9000000000000LL

enum { ST_SHA, ST_PARSE, ST_MATCH, ST_VERIFY, ST_VALIDATE, ST_EXTRACT,
	ST_RULES, ST_BUILD, ST_SIGN, ST_SERIALIZE, ST_RELEASE, ST_FREE, ST_N };
static const char *const ceil_stage[ST_N] = { "sha256", "parse", "match",
	"verify", "validate", "extract", "rules", "receipt_build",
	"receipt_sign", "serialize", "release_ack", "free" };

struct ceil_doc {
	char *buf;
	size_t len;
	struct decl d;
	char digest[65], mrn[24], signer[128], lane[16], lane_reason[128];
	char *resp, *resp2;
	size_t resp_len, resp2_len;
	int ok;
};

struct ceil_env {
	struct profile_set *ps;
	struct dsig_trust *trust;
	struct dsig_signer *signer;
	struct rules *rules;
	struct risk *risk;
	struct xmlp_limits lim;
	char *ptr[PF_COUNT];
	const char *country;
	int auto_release;
	unsigned rnd;
};

static double
ceil_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double
ceil_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
ceil_errs(const char *what, const struct errs *e)
{
	size_t i;

	for (i = 0; i < e->n && i < 5; i++)
		fprintf(stderr, "ceiling: %s: %s line %d %s: %s\n", what,
		    e->v[i].code, e->v[i].line, e->v[i].pointer, e->v[i].msg);
	if (e->n == 0)
		fprintf(stderr, "ceiling: %s: failed\n", what);
}

static int
ceil_read(const char *path, char **out, size_t *len)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	char *b;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_size < 0 || (size_t)st.st_size > CEIL_FILE_MAX ||
	    (b = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (n < (size_t)st.st_size && (r = read(fd, b + n, (size_t)st.st_size - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (n != (size_t)st.st_size) {
		free(b);
		return -1;
	}
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}

static int
ceil_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.xml names of dir, at most max. */
static char **
ceil_list(const char *dir, size_t max, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cap = 0, l;

	*n = 0;
	if (d == NULL) {
		fprintf(stderr, "ceiling: %s: %s\n", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL && *n < CEIL_FILES_MAX) {
		l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".xml") != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL)
			break;
		(*n)++;
	}
	closedir(d);
	if (v != NULL)
		qsort(v, *n, sizeof(*v), ceil_cmp);
	if (*n > max)
		*n = max;
	return v;
}

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
static int
ceil_one(struct ceil_env *env, struct ceil_doc *doc, int64_t id, double *st,
    int keep)
{
	const struct profile *p;
	struct dsig_policy pol = { 0, 0 };
	struct dsig_result sr;
	struct ack_info ai = { 0 };
	struct errs e;
	struct decl d;
	xmlDocPtr x = NULL, ack = NULL;
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
	if ((ack = ack_build(&ai)) == NULL)
		goto done;
	CEIL_T(ST_BUILD);
	if (dsig_sign(env->signer, ack, &e) != 0)
		goto done;
	CEIL_T(ST_SIGN);
	if (ack_serialize(ack, &resp, &resp_len) != 0)
		goto done;
	CEIL_T(ST_SERIALIZE);
	/* green lane, automatic release: a second signed acknowledgement */
	if (lane == LANE_GREEN && env->auto_release) {
		xmlFreeDoc(ack);
		ai.function_code = lifecycle_ack_code(LC_RELEASED, LC_RELEASE);
		ai.status = lifecycle_state_name(LC_RELEASED);
		ai.reason = "green lane: automatic release";
		if ((ack = ack_build(&ai)) == NULL || dsig_sign(env->signer, ack, &e) != 0 ||
		    ack_serialize(ack, &resp2, &resp2_len) != 0)
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
	xmlFreeDoc(ack);
	free(resp);
	free(resp2);
	decl_clear(&d);
	err_clear(&e);
	CEIL_T(ST_FREE);
	return rc;
}

/* ---- the database part ---- */

/* CPU ticks of every PostgreSQL process: the postmaster with its reaped
 * children, plus its live children. */
static long long
ceil_pg_ticks(pid_t pm)
{
	char path[64], buf[1024], *p;
	long long sum = 0, v[18];
	struct dirent *de;
	DIR *d;
	FILE *f;
	long pid;
	int i;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if ((pid = strtol(de->d_name, &p, 10)) <= 0 || *p != '\0')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (p == NULL || (p = strrchr(buf, ')')) == NULL)
			continue;
		/* fields 3.. after the command: state ppid ... utime(14) stime(15)
		 * cutime(16) cstime(17) */
		p += 2; /* at field 3, the state */
		for (i = 3; i <= 17; i++) {
			char *tok = p;

			while (*p != '\0' && *p != ' ')
				p++;
			v[i] = i == 3 ? 0 : strtoll(tok, NULL, 10);
			if (*p != ' ')
				break;
			p++;
		}
		if (i < 17)
			continue;
		if (pid == pm)
			sum += v[14] + v[15] + v[16] + v[17];
		else if (v[4] == pm)
			sum += v[14] + v[15];
	}
	closedir(d);
	return sum;
}

/* The parameters of declared_store(), by name, as daemon/batch.c fills
 * them; read from pg_proc so that a new migration that adds or reorders
 * parameters does not silently shift them (an unknown one is sent as NULL,
 * with a warning). */
struct ceil_store {
	int n;
	char name[CEIL_STORE_PARAMS][64];
	int binary[CEIL_STORE_PARAMS];
	int warned[CEIL_STORE_PARAMS];
};

/* One parameter of docs[i] for declared_store(); NULL for SQL NULL. */
static const char *
ceil_param(const char *name, const struct ceil_doc *dc, const char *id,
    const char *items, const char *hs, const char *origins,
    const unsigned char *dig, const char *submitter, int *len, int *warned)
{
	const struct decl *d = &dc->d;

	*len = 0;
	if (strcmp(name, "p_id") == 0) return id;
	if (strcmp(name, "p_declarant") == 0) return d->declarant;
	if (strcmp(name, "p_lrn") == 0) return d->lrn;
	if (strcmp(name, "p_submitter") == 0) return submitter;
	if (strcmp(name, "p_signer") == 0) return dc->signer[0] ? dc->signer : NULL;
	if (strcmp(name, "p_profile") == 0) return "wco";
	if (strcmp(name, "p_function") == 0) return d->function[0] ? d->function : NULL;
	if (strcmp(name, "p_type") == 0) return d->type[0] ? d->type : NULL;
	if (strcmp(name, "p_mrn") == 0) return dc->mrn;
	if (strcmp(name, "p_status") == 0) return lifecycle_state_name(LC_ACCEPTED);
	if (strcmp(name, "p_lane") == 0) return dc->lane;
	if (strcmp(name, "p_lane_reason") == 0) return dc->lane_reason[0] ? dc->lane_reason : NULL;
	if (strcmp(name, "p_items") == 0) return items;
	if (strcmp(name, "p_hs") == 0) return hs;
	if (strcmp(name, "p_origins") == 0) return origins;
	if (strcmp(name, "p_amount") == 0) return d->invoice_amount[0] ? d->invoice_amount : NULL;
	if (strcmp(name, "p_currency") == 0) return d->invoice_currency[0] ? d->invoice_currency : NULL;
	if (strcmp(name, "p_digest") == 0) {
		*len = 32;
		return (const char *)dig;
	}
	if (strcmp(name, "p_raw") == 0) {
		*len = (int)dc->len;
		return dc->buf;
	}
	if (strcmp(name, "p_errors") == 0) return NULL; /* valid documents */
	if (strcmp(name, "p_ack_kind") == 0) return lifecycle_ack_code(LC_ACCEPTED, LC_ACCEPT);
	if (strcmp(name, "p_ack") == 0) {
		*len = (int)dc->resp_len;
		return dc->resp;
	}
	if (strcmp(name, "p_status2") == 0)
		return dc->resp2 ? lifecycle_state_name(LC_RELEASED) : NULL;
	if (strcmp(name, "p_reason2") == 0)
		return dc->resp2 ? "green lane: automatic release" : NULL;
	if (strcmp(name, "p_ack2_kind") == 0)
		return dc->resp2 ? lifecycle_ack_code(LC_RELEASED, LC_RELEASE) : NULL;
	if (strcmp(name, "p_ack2") == 0) {
		*len = (int)dc->resp2_len;
		return dc->resp2;
	}
	if (!*warned) {
		fprintf(stderr, "ceiling: warning: declared_store parameter %s is "
		    "unknown here: sent as NULL (update tests/bench/ceiling.c)\n", name);
		*warned = 1;
	}
	return NULL;
}

static int
ceil_send(PGconn *c, struct ceil_store *cs, struct ceil_doc *docs,
    size_t from, size_t n, int64_t base, const char *submitter)
{
	const char *v[CEIL_STORE_PARAMS];
	int len[CEIL_STORE_PARAMS], fmt[CEIL_STORE_PARAMS], k;
	char id[24], items[16], hs[DECL_ITEMS_MAX * (DECL_CODE_MAX + 3) + 4];
	char origins[DECL_ITEMS_MAX * (DECL_CODE_MAX + 3) + 4];
	unsigned char dig[32];
	size_t i;

	if (!PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
		return -1;
	for (i = from; i < from + n; i++) {
		struct ceil_doc *dc = &docs[i];

		snprintf(id, sizeof(id), "%lld", (long long)(base + (int64_t)i));
		snprintf(items, sizeof(items), "%zu", dc->d.n_items);
		if (decl_hs_array(&dc->d, hs, sizeof(hs)) < 0)
			snprintf(hs, sizeof(hs), "{}");
		if (decl_origin_array(&dc->d, origins, sizeof(origins)) < 0)
			snprintf(origins, sizeof(origins), "{}");
		for (k = 0; k < 32; k++)
			sscanf(dc->digest + 2 * k, "%2hhx", &dig[k]);
		for (k = 0; k < cs->n; k++) {
			v[k] = ceil_param(cs->name[k], dc, id, items, hs, origins, dig,
			    submitter, &len[k], &cs->warned[k]);
			fmt[k] = cs->binary[k];
		}
		if (!PQsendQueryPrepared(c, "store", cs->n, v, len, fmt, 1))
			return -1;
	}
	if (!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
		return -1;
	return PQpipelineSync(c) ? 0 : -1;
}

/* Reads declared_store()'s input parameters and prepares the call. */
static int
ceil_prepare(PGconn *c, struct ceil_store *cs)
{
	PGresult *r;
	char sql[2048];
	size_t o;
	int k, rc = -1;

	r = PQexec(c, "SELECT a.name, a.type = 'bytea'::regtype FROM pg_proc p, "
	    "unnest(p.proargnames[1:p.pronargs], p.proargtypes::oid[]) "
	    "WITH ORDINALITY AS a(name, type, ord) "
	    "WHERE p.proname = 'declared_store' ORDER BY a.ord");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1 ||
	    PQntuples(r) > CEIL_STORE_PARAMS) {
		fprintf(stderr, "ceiling: cannot read declared_store's parameters: %s",
		    PQresultStatus(r) == PGRES_TUPLES_OK ? "none, or too many\n" :
		    PQerrorMessage(c));
		goto done;
	}
	memset(cs, 0, sizeof(*cs));
	cs->n = PQntuples(r);
	o = (size_t)snprintf(sql, sizeof(sql), "SELECT outcome, declaration_id, "
	    "ack_seq, receipt FROM declared_store(");
	for (k = 0; k < cs->n; k++) {
		snprintf(cs->name[k], sizeof(cs->name[k]), "%s", PQgetvalue(r, k, 0));
		cs->binary[k] = strcmp(PQgetvalue(r, k, 1), "t") == 0;
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s$%d",
		    k ? "," : "", k + 1);
	}
	snprintf(sql + o, sizeof(sql) - o, ")");
	PQclear(r);
	r = PQprepare(c, "store", sql, cs->n, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "ceiling: prepare: %s", PQerrorMessage(c));
		goto done;
	}
	rc = 0;
done:
	PQclear(r);
	return rc;
}

/* Reads the n + 2 results and the sync of one batch; counts 'new'. */
static int
ceil_recv(PGconn *c, size_t n, size_t *n_new)
{
	PGresult *r;
	size_t i;
	int bad = 0;

	for (i = 0; i < n + 2; i++) {
		if ((r = PQgetResult(c)) == NULL)
			return -1;
		if (i == 0 || i == n + 1) {
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
				bad = 1;
		} else if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
			bad = 1;
		} else if (strcmp(PQgetvalue(r, 0, 0), "new") == 0) {
			(*n_new)++;
		}
		if (bad && i < 3)
			fprintf(stderr, "ceiling: store: %s", PQresultErrorMessage(r));
		PQclear(r);
		if ((r = PQgetResult(c)) != NULL) { /* the NULL after each query */
			PQclear(r);
			return -1;
		}
	}
	if ((r = PQgetResult(c)) == NULL)
		return -1;
	if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
		bad = 1;
	PQclear(r);
	return bad ? -1 : 0;
}


/* Stores docs[0..n) in batches; fills *pg_us, *client_us, *wall_per_s. */
static int
ceil_db(const char *conninfo, const char *pidfile, struct ceil_doc *docs,
    size_t n, size_t batch, const char *submitter, double *pg_us,
    double *client_us, double *wall_per_s)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r = NULL;
	struct ceil_store cs;
	long long t0, t1;
	size_t i, m, n_new = 0;
	double c0, w0;
	int64_t base;
	char buf[64];
	FILE *f;
	pid_t pm = 0;
	int rc = -1;

	if ((f = fopen(pidfile, "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL)
			pm = (pid_t)atol(buf);
		fclose(f);
	}
	if (pm <= 0) {
		fprintf(stderr, "ceiling: no postmaster pid in %s\n", pidfile);
		goto done;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "ceiling: %s", PQerrorMessage(c));
		goto done;
	}
	if (ceil_prepare(c, &cs) != 0)
		goto done;
	r = PQexec(c, "SELECT greatest(9000000000000, coalesce(max(id), 0) + 1) "
	    "FROM declarations");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		fprintf(stderr, "ceiling: %s", PQerrorMessage(c));
		goto done;
	}
	base = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	r = NULL;
	usleep(300000);
	t0 = ceil_pg_ticks(pm);
	c0 = ceil_cpu();
	w0 = ceil_wall();
	if (PQenterPipelineMode(c) != 1)
		goto done;
	for (i = 0; i < n; i += m) {
		m = n - i < batch ? n - i : batch;
		if (ceil_send(c, &cs, docs, i, m, base, submitter) != 0 ||
		    ceil_recv(c, m, &n_new) != 0) {
			fprintf(stderr, "ceiling: batch at %zu failed: %s", i,
			    PQerrorMessage(c));
			goto done;
		}
	}
	*wall_per_s = (double)n / ((ceil_wall() - w0) / 1e6);
	*client_us = (ceil_cpu() - c0) / (double)n;
	usleep(300000); /* let the WAL writer finish what the commits started */
	t1 = ceil_pg_ticks(pm);
	*pg_us = (double)(t1 - t0) * 1e6 / (double)sysconf(_SC_CLK_TCK) / (double)n;
	if (n_new != n) {
		fprintf(stderr, "ceiling: only %zu of %zu stored as new (already "
		    "in the database?)\n", n_new, n);
		goto done;
	}
	rc = 0;
done:
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* ---- run ---- */

struct ceil_opts {
	const char *profile_conf, *root, *trusted_ca, *ack_cert, *ack_key, *dir;
	const char *conninfo, *pidfile, *submitter, *country, *data;
	const char *risk_rules;
	long count, batch, cores, auto_release;
};

static int
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

static void
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

static int
ceil_run(const struct ceil_opts *o)
{
	struct ceil_env env;
	struct ceil_doc *docs = NULL;
	struct ini ini = { 0 };
	char **names = NULL, path[4096];
	size_t n = 0, i, bytes = 0, rbytes = 0, warm;
	double st[ST_N] = { 0 }, c0, w0, daemon_us, wall_us, inst = 0;
	double pg_us = 0, client_us = 0, db_rate = 0, ceil_s;
	int k, rc = 1;

	if (ceil_env_new(&env, o, &ini) != 0)
		goto done;
	if ((names = ceil_list(o->dir, (size_t)o->count, &n)) == NULL || n == 0) {
		fprintf(stderr, "ceiling: no *.xml in %s\n", o->dir);
		goto done;
	}
	if ((docs = calloc(n, sizeof(*docs))) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", o->dir, names[i]);
		if (ceil_read(path, &docs[i].buf, &docs[i].len) != 0) {
			fprintf(stderr, "ceiling: cannot read %s\n", path);
			goto done;
		}
		decl_init(&docs[i].d);
		bytes += docs[i].len;
	}
	/* warm-up: first-use costs (schema structures, caches) are not per
	 * document */
	warm = n < 64 ? n : 64;
	for (i = 0; i < warm; i++)
		ceil_one(&env, &docs[i], CEIL_ID_BASE + (int64_t)i, NULL, 0);
	/* instrumented pass: per stage, and keeps what the database part needs */
	for (i = 0; i < n; i++)
		if (ceil_one(&env, &docs[i], CEIL_ID_BASE + (int64_t)i, st, 1) != 0) {
			fprintf(stderr, "ceiling: %s was not accepted\n", names[i]);
			goto done;
		}
	/* clean pass: the figure */
	c0 = ceil_cpu();
	w0 = ceil_wall();
	for (i = 0; i < n; i++)
		ceil_one(&env, &docs[i], CEIL_ID_BASE + (int64_t)i, NULL, 0);
	daemon_us = (ceil_cpu() - c0) / (double)n;
	wall_us = (ceil_wall() - w0) / (double)n;
	for (i = 0; i < n; i++)
		rbytes += docs[i].resp_len + docs[i].resp2_len;
	printf("ceiling: %zu documents, %.0f bytes on average; their receipts "
	    "(accepted%s) %.0f bytes\n", n, (double)bytes / (double)n,
	    o->auto_release ? " + released" : "", (double)rbytes / (double)n);
	printf("ceiling: per document, one core, us:");
	for (k = 0; k < ST_N; k++) {
		printf(" %s=%.1f", ceil_stage[k], st[k] / (double)n);
		inst += st[k];
	}
	printf(" (instrumented total %.1f)\n", inst / (double)n);
	printf("ceiling: daemon path %.1f us CPU (%.1f us wall) per document on "
	    "one core = %.0f/s per core\n", daemon_us, wall_us, 1e6 / daemon_us);
	fflush(stdout);
	if (o->conninfo != NULL) {
		if (ceil_db(o->conninfo, o->pidfile, docs, n, (size_t)o->batch,
		    o->submitter, &pg_us, &client_us, &db_rate) != 0)
			goto done;
		printf("ceiling: database alone: %.1f us PostgreSQL CPU per "
		    "declaration (batches of %ld, pipeline, one connection), "
		    "client %.1f us, %.0f/s wall on one connection\n", pg_us,
		    o->batch, client_us, db_rate);
	}
	ceil_s = (double)o->cores * 1e6 / (daemon_us + pg_us);
	printf("ceiling: docs=%zu daemon_us=%.1f pg_us=%.1f client_us=%.1f "
	    "cores=%ld ceiling_per_s=%.0f\n", n, daemon_us, pg_us, client_us,
	    o->cores, ceil_s);
	rc = 0;
done:
	for (i = 0; docs != NULL && i < n; i++) {
		free(docs[i].buf);
		free(docs[i].resp);
		free(docs[i].resp2);
		decl_clear(&docs[i].d);
	}
	free(docs);
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	ceil_env_free(&env);
	ini_free(&ini);
	return rc;
}

/* ---- sign ---- */

struct ceil_signjob {
	const struct dsig_signer *s;
	const char *in, *out, *prefix;
	char **names;
	size_t n, next;
	pthread_mutex_t mu;
	int failed;
};

static int
ceil_sign_one(struct ceil_signjob *j, const char *name)
{
	char path[4096], tmp[4096], dst[4096], *buf = NULL;
	xmlChar *mem = NULL;
	xmlDocPtr doc = NULL;
	struct errs e;
	size_t len;
	int sz = 0, fd = -1, rc = -1;

	err_init(&e);
	snprintf(path, sizeof(path), "%s/%s", j->in, name);
	snprintf(dst, sizeof(dst), "%s/%s%s", j->out, j->prefix, name);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s%s", j->out, j->prefix, name);
	if (ceil_read(path, &buf, &len) != 0 || len > (size_t)INT32_MAX)
		goto done;
	if ((doc = xmlReadMemory(buf, (int)len, NULL, NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING)) == NULL)
		goto done;
	if (dsig_sign(j->s, doc, &e) != 0) {
		ceil_errs(name, &e);
		goto done;
	}
	xmlDocDumpMemoryEnc(doc, &mem, &sz, "UTF-8");
	if (mem == NULL || sz <= 0)
		goto done;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    write(fd, mem, (size_t)sz) != (ssize_t)sz || close(fd) != 0) {
		fd = -1;
		goto done;
	}
	fd = -1;
	if (rename(tmp, dst) != 0)
		goto done;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		fprintf(stderr, "ceiling: cannot sign %s\n", path);
	xmlFree(mem);
	xmlFreeDoc(doc);
	free(buf);
	err_clear(&e);
	return rc;
}

static void *
ceil_sign_thread(void *arg)
{
	struct ceil_signjob *j = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&j->mu);
		i = j->next < j->n && !j->failed ? j->next++ : j->n;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			return NULL;
		if (ceil_sign_one(j, j->names[i]) != 0) {
			pthread_mutex_lock(&j->mu);
			j->failed = 1;
			pthread_mutex_unlock(&j->mu);
		}
	}
}

static int
ceil_sign(const char *cert, const char *key, long jobs, const char *prefix,
    const char *in, const char *out)
{
	struct ceil_signjob j;
	pthread_t th[64];
	struct errs e;
	long t, started = 0;
	size_t i;
	int rc = 1;

	memset(&j, 0, sizeof(j));
	err_init(&e);
	pthread_mutex_init(&j.mu, NULL);
	j.in = in;
	j.out = out;
	j.prefix = prefix;
	if ((j.s = dsig_signer_new(key, cert, &e)) == NULL) {
		ceil_errs(key, &e);
		goto done;
	}
	if ((j.names = ceil_list(in, CEIL_FILES_MAX, &j.n)) == NULL)
		goto done;
	for (t = 0; t < jobs && t < 64; t++)
		if (pthread_create(&th[t], NULL, ceil_sign_thread, &j) == 0)
			started++;
	for (t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	if (started == 0 || j.failed)
		goto done;
	printf("ceiling: signed %zu files into %s\n", j.n, out);
	rc = 0;
done:
	for (i = 0; j.names != NULL && i < j.n; i++)
		free(j.names[i]);
	free(j.names);
	dsig_signer_free((struct dsig_signer *)j.s);
	pthread_mutex_destroy(&j.mu);
	err_clear(&e);
	return rc;
}

/* ---- main ---- */

static void
ceil_usage(void)
{
	fprintf(stderr,
	    "usage: ceiling run --profile-conf F --root DIR --trusted-ca CA --ack-cert C\n"
	    "                   --ack-key K --dir DOCS [--count 4096] [--cores N]\n"
	    "                   [--conninfo S --pg-pidfile F] [--batch 256]\n"
	    "                   [--submitter ID] [--country GB] [--data DIR]\n"
	    "                   [--risk-rules F] [--auto-release 1]\n"
	    "       ceiling sign --sign-cert C --sign-key K [--jobs N] [--prefix P] IN OUT\n");
	exit(2);
}

static long
ceil_num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "ceiling: bad number '%s' (%ld..%ld)\n", s, lo, hi);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	enum { OPT_PCONF = 256, OPT_ROOT, OPT_TCA, OPT_ACERT, OPT_AKEY, OPT_DIR,
		OPT_COUNT, OPT_CORES, OPT_CONNINFO, OPT_PIDFILE, OPT_BATCH, OPT_SUBM,
		OPT_COUNTRY, OPT_DATA, OPT_SCERT, OPT_SKEY, OPT_JOBS, OPT_PREFIX, OPT_RISK, OPT_AUTOREL };
	static const struct option lo[] = {
		{ "profile-conf", required_argument, NULL, OPT_PCONF },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "trusted-ca", required_argument, NULL, OPT_TCA },
		{ "ack-cert", required_argument, NULL, OPT_ACERT },
		{ "ack-key", required_argument, NULL, OPT_AKEY },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "cores", required_argument, NULL, OPT_CORES },
		{ "conninfo", required_argument, NULL, OPT_CONNINFO },
		{ "pg-pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "submitter", required_argument, NULL, OPT_SUBM },
		{ "country", required_argument, NULL, OPT_COUNTRY },
		{ "data", required_argument, NULL, OPT_DATA },
		{ "sign-cert", required_argument, NULL, OPT_SCERT },
		{ "sign-key", required_argument, NULL, OPT_SKEY },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ "prefix", required_argument, NULL, OPT_PREFIX },
		{ "risk-rules", required_argument, NULL, OPT_RISK },
		{ "auto-release", required_argument, NULL, OPT_AUTOREL },
		{ NULL, 0, NULL, 0 }
	};
	struct ceil_opts o = { 0 };
	const char *scert = NULL, *skey = NULL, *prefix = "";
	char data[4096];
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	int ch, rc, sign;

	if (argc < 2 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "sign") != 0))
		ceil_usage();
	sign = strcmp(argv[1], "sign") == 0;
	o.count = 4096;
	o.auto_release = 1;
	o.batch = 256;
	o.cores = sysconf(_SC_NPROCESSORS_ONLN);
	o.submitter = "GB000000000001";
	o.country = "GB";
	o.root = ".";
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case OPT_PCONF: o.profile_conf = optarg; break;
		case OPT_ROOT: o.root = optarg; break;
		case OPT_TCA: o.trusted_ca = optarg; break;
		case OPT_ACERT: o.ack_cert = optarg; break;
		case OPT_AKEY: o.ack_key = optarg; break;
		case OPT_DIR: o.dir = optarg; break;
		case OPT_COUNT: o.count = ceil_num(optarg, 1, CEIL_FILES_MAX); break;
		case OPT_CORES: o.cores = ceil_num(optarg, 1, 1024); break;
		case OPT_CONNINFO: o.conninfo = optarg; break;
		case OPT_PIDFILE: o.pidfile = optarg; break;
		case OPT_BATCH: o.batch = ceil_num(optarg, 1, 100000); break;
		case OPT_SUBM: o.submitter = optarg; break;
		case OPT_COUNTRY: o.country = optarg; break;
		case OPT_DATA: o.data = optarg; break;
		case OPT_SCERT: scert = optarg; break;
		case OPT_SKEY: skey = optarg; break;
		case OPT_JOBS: jobs = ceil_num(optarg, 1, 64); break;
		case OPT_PREFIX: prefix = optarg; break;
		case OPT_RISK: o.risk_rules = optarg; break;
		case OPT_AUTOREL: o.auto_release = ceil_num(optarg, 0, 1); break;
		default: ceil_usage();
		}
	}
	if (sign ? (scert == NULL || skey == NULL || optind + 2 != argc) :
	    (optind != argc || o.profile_conf == NULL || o.trusted_ca == NULL ||
	    o.ack_cert == NULL || o.ack_key == NULL || o.dir == NULL ||
	    (o.conninfo != NULL && o.pidfile == NULL)))
		ceil_usage();
	if (o.data == NULL) {
		snprintf(data, sizeof(data), "%s/data", o.root);
		o.data = data;
	}
	if (dsig_global_init() != 0) {
		fprintf(stderr, "ceiling: cannot initialise xmlsec\n");
		return 1;
	}
	rc = sign ? ceil_sign(scert, skey, jobs, prefix, argv[optind],
	    argv[optind + 1]) : ceil_run(&o);
	dsig_global_shutdown();
	return rc;
}
