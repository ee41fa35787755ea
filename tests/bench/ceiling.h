/* ceiling: what its files share (ceiling.c, ceiling_work.c, ceiling_db.c,
 * ceiling_sign.c); see ceiling.c for what it does. */
#ifndef CEILING_H
#define CEILING_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "decl.h"
#include "err.h"
#include "ini.h"
#include "profile.h"
#include "xmlp.h"

#define CEIL_FILES_MAX 1000000

enum { ST_SHA, ST_PARSE, ST_MATCH, ST_VERIFY, ST_VALIDATE, ST_EXTRACT,
	ST_RULES, ST_SIGN, ST_RELEASE, ST_FREE, ST_N };

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

struct ceil_opts {
	const char *profile_conf, *root, *trusted_ca, *ack_cert, *ack_key, *dir;
	const char *conninfo, *pidfile, *submitter, *country, *data;
	const char *risk_rules;
	long count, batch, cores, auto_release;
};

/* CPU time of the calling thread, microseconds */
static inline double
ceil_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* monotonic wall clock, microseconds */
static inline double
ceil_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ceiling.c */
/* Prints the first errors of e (or "failed") on stderr. */
void ceil_errs(const char *what, const struct errs *e);
/* Reads a whole file (at most 16 MB) into a NUL-terminated *out. */
int ceil_read(const char *path, char **out, size_t *len);
/* Sorted *.xml names of dir, at most max; *n of them. */
char **ceil_list(const char *dir, size_t max, size_t *n);

/* ceiling_work.c: the intake path */
int ceil_env_new(struct ceil_env *env, const struct ceil_opts *o, struct ini *ini);
void ceil_env_free(struct ceil_env *env);
int ceil_one(struct ceil_env *env, struct ceil_doc *doc, int64_t id, double *st,
    int keep);

/* ceiling_db.c: the store */
int ceil_db(const char *conninfo, const char *pidfile, struct ceil_doc *docs,
    size_t n, size_t batch, const char *submitter, double *pg_us,
    double *client_us, double *wall_per_s);

/* ceiling_sign.c: bulk signing */
int ceil_sign(const char *cert, const char *key, long jobs, const char *prefix,
    const char *in, const char *out);

#endif
