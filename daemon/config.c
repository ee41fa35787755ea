/* config: declared.conf as a declarative table of keys over lib/ini.
 *
 * One row per key of the fixed sections ([server], [tls], [signing],
 * [database], [customs], [limits], [push]): its type, where it lands in struct
 * config, its default and whether a reload may change it.  [profile.NAME]
 * sections are parsed by hand into struct profile_def.  config_load
 * collects every error it finds (unknown keys, bad values, missing keys,
 * unreadable files) before failing, so one `declared -t` run shows them
 * all.  Every string of the struct is owned by it (the pool in priv) and is
 * never NULL: "" means "not set / off". */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"
#include "ini.h"

enum cfg_type {
	CT_STRING,   /* any text */
	CT_INT,      /* decimal integer in [min, max] -> int */
	CT_SIZE,     /* integer with optional K/M/G suffix in [min, max] -> size_t */
	CT_BOOL,     /* yes/no/true/false/1/0 -> int */
	CT_HOSTPORT, /* host:port or [v6]:port */
	CT_FILE,     /* readable regular file, relative to the config's dir */
	CT_DIR,      /* readable directory, relative to the config's dir */
	CT_COUNTRY   /* ISO 3166 alpha-2, upper case */
};

#define CF_REQUIRED 0x01 /* no default: CONFIG_MISSING when absent */
#define CF_RELOAD   0x02 /* SIGHUP may change it */
#define CF_EMPTY_OK 0x04 /* "" is allowed and means off / none */
#define CF_SECRET   0x08 /* private key: refuse group/world access */

struct cfg_row {
	const char *section;
	const char *key;
	enum cfg_type type;
	size_t off;
	long long min, max;
	const char *def; /* parsed like a value; NULL for required keys */
	unsigned flags;
};

#define OFF(f) offsetof(struct config, f)
#define KB 1024LL
#define MB (1024LL * 1024)
#define GB (1024LL * 1024 * 1024)

static const struct cfg_row cfg_rows[] = {
	{ "server", "listen", CT_HOSTPORT, OFF(listen), 0, 0, "127.0.0.1:8443", 0 },
	{ "server", "admin_listen", CT_HOSTPORT, OFF(admin_listen), 0, 0,
	    "127.0.0.1:8080", CF_EMPTY_OK },
	{ "server", "workers", CT_INT, OFF(workers), 0, 256, "0", 0 },
	{ "server", "max_body", CT_SIZE, OFF(max_body), 1 * KB, 1 * GB, "10M",
	    CF_RELOAD },
	{ "server", "max_headers", CT_SIZE, OFF(max_headers), 1 * KB, 1 * MB, "16K",
	    CF_RELOAD },
	{ "server", "read_timeout", CT_INT, OFF(read_timeout_s), 1, 3600, "30",
	    CF_RELOAD },
	{ "server", "write_timeout", CT_INT, OFF(write_timeout_s), 1, 3600, "30",
	    CF_RELOAD },
	{ "server", "queue_max", CT_INT, OFF(queue_max), 1, 1000000, "4096", 0 },
	{ "server", "max_connections", CT_INT, OFF(max_connections), 1, 1000000,
	    "20000", CF_RELOAD },
	{ "server", "web_root", CT_DIR, OFF(web_root), 0, 0, "",
	    CF_EMPTY_OK | CF_RELOAD },
	{ "tls", "cert", CT_FILE, OFF(tls_cert), 0, 0, NULL, CF_REQUIRED | CF_RELOAD },
	{ "tls", "key", CT_FILE, OFF(tls_key), 0, 0, NULL,
	    CF_REQUIRED | CF_RELOAD | CF_SECRET },
	{ "tls", "enterprise_ca", CT_FILE, OFF(enterprise_ca), 0, 0, NULL,
	    CF_REQUIRED | CF_RELOAD },
	{ "tls", "officer_ca", CT_FILE, OFF(officer_ca), 0, 0, "",
	    CF_EMPTY_OK | CF_RELOAD },
	{ "tls", "crl", CT_FILE, OFF(tls_crl), 0, 0, "", CF_EMPTY_OK | CF_RELOAD },
	{ "signing", "cert", CT_FILE, OFF(sign_cert), 0, 0, NULL,
	    CF_REQUIRED | CF_RELOAD },
	{ "signing", "key", CT_FILE, OFF(sign_key), 0, 0, NULL,
	    CF_REQUIRED | CF_RELOAD | CF_SECRET },
	{ "signing", "trusted_ca", CT_FILE, OFF(trusted_ca), 0, 0, NULL,
	    CF_REQUIRED | CF_RELOAD },
	{ "signing", "crl", CT_FILE, OFF(signing_crl), 0, 0, "",
	    CF_EMPTY_OK | CF_RELOAD },
	{ "database", "conninfo", CT_STRING, OFF(conninfo), 0, 0, NULL, CF_REQUIRED },
	{ "database", "replica_conninfo", CT_STRING, OFF(replica_conninfo), 0, 0, "",
	    CF_EMPTY_OK },
	{ "database", "connections", CT_INT, OFF(db_connections), 1, 64, "2", 0 },
	{ "database", "batch_max", CT_INT, OFF(batch_max), 1, 10000, "256", 0 },
	{ "database", "batch_delay_ms", CT_INT, OFF(batch_delay_ms), 0, 10000, "2",
	    CF_RELOAD },
	{ "database", "timeout", CT_INT, OFF(db_timeout_s), 1, 3600, "10", CF_RELOAD },
	{ "database", "sql_dir", CT_DIR, OFF(sql_dir), 0, 0, "/usr/share/declared/sql",
	    CF_RELOAD },
	{ "database", "retention_months", CT_INT, OFF(retention_months), 0, 1200, "0",
	    CF_RELOAD },
	{ "database", "maintain_interval", CT_INT, OFF(maintain_interval_s), 1, 86400,
	    "3600", CF_RELOAD },
	{ "customs", "country", CT_COUNTRY, OFF(country), 0, 0, "XX", CF_RELOAD },
	{ "customs", "data_dir", CT_DIR, OFF(data_dir), 0, 0,
	    "/usr/share/declared/data", CF_RELOAD },
	{ "customs", "risk_rules", CT_FILE, OFF(risk_rules), 0, 0, "",
	    CF_EMPTY_OK | CF_RELOAD },
	{ "customs", "auto_release", CT_BOOL, OFF(auto_release), 0, 0, "yes", CF_RELOAD },
	{ "customs", "value_tolerance", CT_STRING, OFF(value_tolerance), 0, 0, "0.01",
	    CF_RELOAD },
	{ "customs", "future_skew", CT_INT, OFF(future_skew_s), 0, 86400, "300",
	    CF_RELOAD },
	{ "limits", "rate", CT_INT, OFF(limit_rate), 0, 1000000, "0", CF_RELOAD },
	{ "limits", "burst", CT_INT, OFF(limit_burst), 0, 1000000, "0", CF_RELOAD },
	{ "limits", "connections", CT_INT, OFF(limit_connections), 0, 1000000, "0",
	    CF_RELOAD },
	{ "push", "ca", CT_FILE, OFF(push_ca), 0, 0, "", CF_EMPTY_OK | CF_RELOAD },
	{ "push", "timeout", CT_INT, OFF(push_timeout_s), 1, 300, "10", CF_RELOAD },
	{ "push", "retention", CT_INT, OFF(push_retention_s), 1, 315360000,
	    "604800", CF_RELOAD },
};

#define CFG_NROWS (sizeof(cfg_rows) / sizeof(cfg_rows[0]))
_Static_assert(CFG_NROWS <= CFG_MAX_ROWS, "raise CFG_MAX_ROWS");

static int
cfg_failed(const struct cfg_ctx *x)
{
	return x->e->n + x->e->dropped > x->errs_before;
}

static char *
cfg_keep(struct cfg_ctx *x, char *p)
{
	struct cfg_pool *pl = x->pool;

	if (p != NULL && pl->n == pl->cap) {
		size_t ncap = pl->cap ? pl->cap * 2 : 64;
		char **nv = realloc(pl->v, ncap * sizeof(*nv));

		if (nv == NULL) {
			free(p);
			p = NULL;
		} else {
			pl->v = nv;
			pl->cap = ncap;
		}
	}
	if (p == NULL) {
		err_add(x->e, "CONFIG_NOMEM", 0, "", "out of memory");
		return NULL;
	}
	pl->v[pl->n++] = p;
	return p;
}

char *
config_strndup(struct cfg_ctx *x, const char *s, size_t n)
{
	return cfg_keep(x, strndup(s, n));
}

char *
config_strdup(struct cfg_ctx *x, const char *s)
{
	return config_strndup(x, s, strlen(s));
}

static char *
cfg_join(struct cfg_ctx *x, const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s%s%s", dir,
		    dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	return cfg_keep(x, p);
}

/* A relative path names a file next to the config file. */
char *
config_resolve(struct cfg_ctx *x, const char *v)
{
	if (v[0] == '\0' || v[0] == '/')
		return config_strdup(x, v);
	return cfg_join(x, x->dir, v);
}

/* Opens path to prove it is readable and of the right kind; for private
 * keys also refuses group or world access (as OpenSMTPD does). */
void
config_check_path(struct cfg_ctx *x, const char *path, int is_dir, int secret,
    int line, const char *ptr)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    (is_dir ? O_DIRECTORY : 0));
	if (fd < 0) {
		err_add(x->e, "CONFIG_VALUE", line, ptr, "cannot read %s: %s", path,
		    strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0)
		err_add(x->e, "CONFIG_VALUE", line, ptr, "cannot read %s: %s", path,
		    strerror(errno));
	else if (!is_dir && !S_ISREG(st.st_mode))
		err_add(x->e, "CONFIG_VALUE", line, ptr,
		    "cannot read %s: not a regular file", path);
	else if (secret && (st.st_mode & 077) != 0 && !x->loose_keys)
		err_add(x->e, "CONFIG_VALUE", line, ptr,
		    "key file %s is readable by others (mode %04o): chmod 0600 it, "
		    "or set DECLARED_ALLOW_LOOSE_KEYS=1", path,
		    (unsigned)(st.st_mode & 07777));
	close(fd);
}

static int
cfg_parse_ll(const char *v, long long *out)
{
	char *end;

	if (!(isdigit((unsigned char)v[0]) ||
	    (v[0] == '-' && isdigit((unsigned char)v[1]))))
		return -1;
	errno = 0;
	*out = strtoll(v, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* "10M", "16k", "1048576"; binary multiples. */
static int
cfg_parse_size(const char *v, unsigned long long *out)
{
	unsigned long long n, mult = 1;
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		switch (toupper((unsigned char)*end)) {
		case 'K': mult = 1ULL << 10; break;
		case 'M': mult = 1ULL << 20; break;
		case 'G': mult = 1ULL << 30; break;
		default: return -1;
		}
		if (end[1] != '\0')
			return -1;
	}
	if (n > ULLONG_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

static const char *
cfg_size_str(char *buf, size_t cap, long long n)
{
	if (n % GB == 0)
		snprintf(buf, cap, "%lldG", n / GB);
	else if (n % MB == 0)
		snprintf(buf, cap, "%lldM", n / MB);
	else if (n % KB == 0)
		snprintf(buf, cap, "%lldK", n / KB);
	else
		snprintf(buf, cap, "%lld", n);
	return buf;
}

int
config_parse_bool(const char *v)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0)
		return 1;
	if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0)
		return 0;
	return -1;
}

int
config_hostchar(int ch)
{
	return isalnum(ch) || ch == '.' || ch == '-' || ch == '_';
}

/* host:port with host a name, an IPv4 literal or [IPv6]; port 1..65535.
 * Returns NULL when valid, else why not. */
static const char *
cfg_check_hostport(const char *v)
{
	const char *colon, *p;
	long long port;

	if (strlen(v) > 255)
		return "too long";
	if (v[0] == '[') {
		const char *rb = strchr(v, ']');

		if (rb == NULL || rb == v + 1 || rb[1] != ':')
			return "expected [IPv6]:port";
		for (p = v + 1; p < rb; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return "bad IPv6 address";
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL)
			return "expected host:port";
		if (colon == v)
			return "missing host (use 0.0.0.0 or [::] for all addresses)";
		for (p = v; p < colon; p++)
			if (!config_hostchar((unsigned char)*p))
				return *p == ':' ? "IPv6 addresses go in brackets: [::1]:port"
				    : "bad character in host";
	}
	if (strlen(colon + 1) > 5 || cfg_parse_ll(colon + 1, &port) != 0 ||
	    colon[1] == '-' || port < 1 || port > 65535)
		return "port must be 1..65535";
	return NULL;
}

/* XML NCName, ASCII rules plus any non-ASCII byte. */
int
config_ncname(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' ||
	    (unsigned char)s[0] >= 0x80))
		return 0;
	for (i = 1; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!(isalnum(ch) || ch == '.' || ch == '-' || ch == '_' || ch >= 0x80))
			return 0;
	}
	return 1;
}

/* Parses v for row r and stores it; a value from the file (line > 0) that
 * names a path is also checked on disk. */
static void
cfg_set(struct cfg_ctx *x, const struct cfg_row *r, const char *v, int line,
    const char *ptr)
{
	char *base = (char *)x->c + r->off;
	const char *why;
	unsigned long long sz;
	long long n;
	char *s;
	int b;

	if (v[0] == '\0' && r->type != CT_INT && r->type != CT_SIZE &&
	    r->type != CT_BOOL) {
		if (!(r->flags & CF_EMPTY_OK)) {
			err_add(x->e, "CONFIG_VALUE", line, ptr, "%s must not be empty",
			    ptr);
			return;
		}
		if ((s = config_strdup(x, "")) != NULL)
			*(char **)(void *)base = s;
		return;
	}
	switch (r->type) {
	case CT_INT:
		if (cfg_parse_ll(v, &n) != 0 || n < r->min || n > r->max) {
			err_add(x->e, "CONFIG_VALUE", line, ptr,
			    "%s = \"%s\": expected an integer from %lld to %lld", ptr, v,
			    r->min, r->max);
			return;
		}
		*(int *)(void *)base = (int)n;
		return;
	case CT_SIZE:
		if (cfg_parse_size(v, &sz) != 0 || sz < (unsigned long long)r->min ||
		    sz > (unsigned long long)r->max) {
			char lo[32], hi[32];

			err_add(x->e, "CONFIG_VALUE", line, ptr,
			    "%s = \"%s\": expected a size from %s to %s "
			    "(suffix K, M or G)", ptr, v, cfg_size_str(lo, sizeof(lo),
			    r->min), cfg_size_str(hi, sizeof(hi), r->max));
			return;
		}
		*(size_t *)(void *)base = (size_t)sz;
		return;
	case CT_BOOL:
		if ((b = config_parse_bool(v)) < 0) {
			err_add(x->e, "CONFIG_VALUE", line, ptr,
			    "%s = \"%s\": expected yes or no", ptr, v);
			return;
		}
		*(int *)(void *)base = b;
		return;
	case CT_HOSTPORT:
		if ((why = cfg_check_hostport(v)) != NULL) {
			err_add(x->e, "CONFIG_VALUE", line, ptr, "%s = \"%s\": %s", ptr,
			    v, why);
			return;
		}
		break;
	case CT_COUNTRY:
		if (strlen(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' ||
		    v[1] > 'Z') {
			err_add(x->e, "CONFIG_VALUE", line, ptr,
			    "%s = \"%s\": expected an ISO 3166 alpha-2 code such as GB",
			    ptr, v);
			return;
		}
		break;
	case CT_FILE:
	case CT_DIR:
		if ((s = config_resolve(x, v)) == NULL)
			return;
		if (line > 0)
			config_check_path(x, s, r->type == CT_DIR,
			    (r->flags & CF_SECRET) != 0, line, ptr);
		*(char **)(void *)base = s;
		return;
	case CT_STRING:
		break;
	}
	if ((s = config_strdup(x, v)) != NULL)
		*(char **)(void *)base = s;
}

void
config_missing(struct cfg_ctx *x, int line, const char *ptr, const char *what)
{
	err_add(x->e, "CONFIG_MISSING", line, ptr, "%s is required%s", ptr, what);
}

/* ---- the fixed sections ---- */

static const struct cfg_row *
cfg_row_find(const char *section, const char *key, int *section_known)
{
	size_t i;

	*section_known = 0;
	for (i = 0; i < CFG_NROWS; i++) {
		if (strcmp(cfg_rows[i].section, section) != 0)
			continue;
		*section_known = 1;
		if (strcmp(cfg_rows[i].key, key) == 0)
			return &cfg_rows[i];
	}
	return NULL;
}

static void
cfg_entry(struct cfg_ctx *x, const struct ini_entry *en)
{
	const struct cfg_row *r;
	char ptr[CFG_PTR_MAX];
	int known;
	size_t i;

	snprintf(ptr, sizeof(ptr), "%s.%s", en->section, en->key);
	if (strncmp(en->section, "profile.", 8) == 0) {
		config_profile_entry(x, en, ptr);
		return;
	}
	r = cfg_row_find(en->section, en->key, &known);
	for (i = 0; known && i < CFG_NROWS; i++)
		if (strcmp(cfg_rows[i].section, en->section) == 0 &&
		    x->section_line[i] == 0)
			x->section_line[i] = en->line;
	if (r == NULL) {
		if (en->section[0] == '\0')
			err_add(x->e, "CONFIG_KEY", en->line, ptr,
			    "key %s outside any section", en->key);
		else if (!known)
			err_add(x->e, "CONFIG_KEY", en->line, ptr,
			    "unknown section [%s]", en->section);
		else
			err_add(x->e, "CONFIG_KEY", en->line, ptr, "unknown key %s", ptr);
		return;
	}
	x->row_line[r - cfg_rows] = en->line;
	cfg_set(x, r, en->value, en->line, ptr);
}

/* Absolute path of the config file, and its directory. */
static int
cfg_locate(struct cfg_ctx *x, const char *path)
{
	char cwd[PATH_MAX], *abs, *slash;

	if (path[0] == '/')
		abs = config_strdup(x, path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL) {
		err_add(x->e, "CONFIG_VALUE", 0, "", "cannot resolve %s: %s", path,
		    strerror(errno));
		return -1;
	} else
		abs = cfg_join(x, cwd, path);
	if (abs == NULL)
		return -1;
	x->c->path = abs;
	slash = strrchr(abs, '/');
	x->dir = config_strndup(x, abs, slash == abs ? 1 : (size_t)(slash - abs));
	return x->dir != NULL ? 0 : -1;
}

struct config *
config_load(const char *path, struct errs *e)
{
	struct cfg_ctx x;
	struct ini ini;
	struct config *c = NULL;
	const char *env;
	char ptr[CFG_PTR_MAX];
	size_t i;

	memset(&x, 0, sizeof(x));
	memset(&ini, 0, sizeof(ini));
	x.e = e;
	x.errs_before = e->n + e->dropped;
	env = getenv("DECLARED_ALLOW_LOOSE_KEYS");
	x.loose_keys = env != NULL && strcmp(env, "1") == 0;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (x.pool = calloc(1, sizeof(*x.pool))) == NULL) {
		free(c);
		err_add(e, "CONFIG_NOMEM", 0, "", "out of memory");
		return NULL;
	}
	c->priv = x.pool;
	x.c = c;
	if (cfg_locate(&x, path) != 0)
		goto fail;
	if (ini_load(path, &ini, e) != 0)
		goto fail;
	for (i = 0; i < ini.n; i++)
		cfg_entry(&x, &ini.v[i]);
	for (i = 0; i < CFG_NROWS; i++) {
		const struct cfg_row *r = &cfg_rows[i];

		if (x.row_line[i] != 0)
			continue;
		snprintf(ptr, sizeof(ptr), "%s.%s", r->section, r->key);
		if (r->flags & CF_REQUIRED)
			config_missing(&x, x.section_line[i], ptr, "");
		else
			cfg_set(&x, r, r->def, 0, ptr);
	}
	config_profile_check(&x);
	if (cfg_failed(&x))
		goto fail;
	ini_free(&ini);
	return c;
fail:
	ini_free(&ini);
	config_free(c);
	return NULL;
}

void
config_free(struct config *c)
{
	struct cfg_pool *pl;
	size_t i;

	if (c == NULL)
		return;
	pl = c->priv;
	for (i = 0; pl != NULL && i < pl->n; i++)
		free(pl->v[i]);
	if (pl != NULL)
		free(pl->v);
	free(pl);
	free(c);
}

static int
cfg_row_equal(const struct cfg_row *r, const struct config *a,
    const struct config *b)
{
	const char *pa = (const char *)a + r->off, *pb = (const char *)b + r->off;

	switch (r->type) {
	case CT_INT:
	case CT_BOOL:
		return *(const int *)(const void *)pa == *(const int *)(const void *)pb;
	case CT_SIZE:
		return *(const size_t *)(const void *)pa ==
		    *(const size_t *)(const void *)pb;
	default:
		return strcmp(*(char *const *)(const void *)pa,
		    *(char *const *)(const void *)pb) == 0;
	}
}

int
config_check_reload(const struct config *old, const struct config *nw,
    struct errs *e)
{
	char ptr[CFG_PTR_MAX];
	size_t i;
	int rc = 0;

	for (i = 0; i < CFG_NROWS; i++) {
		const struct cfg_row *r = &cfg_rows[i];

		if ((r->flags & CF_RELOAD) || cfg_row_equal(r, old, nw))
			continue;
		snprintf(ptr, sizeof(ptr), "%s.%s", r->section, r->key);
		err_add(e, "CONFIG_RELOAD", 0, ptr, "%s cannot change on reload: "
		    "restart the daemon", ptr);
		rc = -1;
	}
	return rc;
}
