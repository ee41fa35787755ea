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
 * extraction, business rules and risk lane, MRN, the signed receipt, and
 * for a green lane with automatic release (the daemon's default) the
 * second, release acknowledgement, as daemon/work.c does it (ack_sign);
 * thread CPU time, first per stage
 * (instrumented pass) and then in total (clean passes: the fastest of
 * CEIL_PASSES is the figure used, so that a pass slowed by something else
 * on the machine, or by the hypervisor, does not lower the ceiling and
 * flatter the ratio).
 * (2) the database alone: the same declarations stored through the real
 * declared_store_batch() function as daemon/batch.c calls it, --batch
 * per call and transaction, libpq pipeline mode,
 * one connection; the CPU of every PostgreSQL process (postmaster, its
 * live children, and the children it reaped) before and after, per
 * declaration.  ceiling_per_s = cores * 1e6 / (daemon_us + pg_us).
 *
 * sign: signs every *.xml of IN into OUT/PREFIX+name with the daemon's
 * lib/dsig, in --jobs threads (declctl sign does the same for one file,
 * but one process per file costs ~19 ms each: far too slow for 10^5 files).
 *
 * The last stdout line of run is "ceiling: key=value ...".
 *
 * Files: ceiling.c (main, options, run), ceiling_work.c (the intake path
 * and its setup), ceiling_db.c (the store through libpq, PostgreSQL CPU),
 * ceiling_sign.c (bulk signing), ceiling.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceiling.h"
#include "decl.h"
#include "dsig.h"
#include "err.h"
#include "ini.h"

#define CEIL_FILE_MAX (16u << 20)
#define CEIL_ID_BASE 9000000000000LL
#define CEIL_PASSES 3 /* clean passes; the fastest counts */

static const char *const ceil_stage[ST_N] = { "sha256", "parse", "match",
	"verify", "validate", "extract", "rules", "receipt",
	"release_ack", "free" };

void
ceil_errs(const char *what, const struct errs *e)
{
	size_t i;

	for (i = 0; i < e->n && i < 5; i++)
		fprintf(stderr, "ceiling: %s: %s line %d %s: %s\n", what,
		    e->v[i].code, e->v[i].line, e->v[i].pointer, e->v[i].msg);
	if (e->n == 0)
		fprintf(stderr, "ceiling: %s: failed\n", what);
}

int
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
char **
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

/* ---- run ---- */

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
	/* clean passes: the fastest is the figure */
	daemon_us = wall_us = 0;
	for (k = 0; k < CEIL_PASSES; k++) {
		double cpu, wall;

		c0 = ceil_cpu();
		w0 = ceil_wall();
		for (i = 0; i < n; i++)
			ceil_one(&env, &docs[i], CEIL_ID_BASE + (int64_t)i, NULL, 0);
		cpu = (ceil_cpu() - c0) / (double)n;
		wall = (ceil_wall() - w0) / (double)n;
		if (k == 0 || cpu < daemon_us) {
			daemon_us = cpu;
			wall_us = wall;
		}
	}
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
	    "one core, fastest of %d passes = %.0f/s per core\n", daemon_us,
	    wall_us, CEIL_PASSES, 1e6 / daemon_us);
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
