#define _GNU_SOURCE /* asprintf */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "dsig.h"
#include "err.h"
#include "ini.h"

void
cli_init(struct cli *c)
{
	memset(c, 0, sizeof(*c));
	c->timeout_s = 60;
}

void
cli_free(struct cli *c)
{
	size_t i;

	for (i = 0; i < c->nstrs; i++)
		free(c->strs[i]);
	if (c->dsig_ready)
		dsig_global_shutdown();
	memset(c, 0, sizeof(*c));
}

int
cli_common_opt(struct cli *c, int ch, const char *arg)
{
	long long n;

	switch (ch) {
	case CLI_OPT_URL: c->url = arg; return 0;
	case CLI_OPT_CERT: c->cert = arg; return 0;
	case CLI_OPT_KEY: c->key = arg; return 0;
	case CLI_OPT_CACERT: c->cacert = arg; return 0;
	case CLI_OPT_CONFIG: c->config = arg; return 0;
	case CLI_OPT_VERBOSE: c->verbose++; return 0;
	case CLI_OPT_HELP: c->help = 1; return 0;
	case CLI_OPT_TIMEOUT:
		n = cli_parse_num(arg, 86400);
		if (n <= 0) {
			fprintf(stderr, "declctl: --timeout: want 1..86400 seconds\n");
			return -1;
		}
		c->timeout_s = (long)n;
		return 0;
	default:
		return -1;
	}
}

/* Keeps s (malloc'd) for the lifetime of c; frees it and returns NULL
 * when full. */
static const char *
cli_keep(struct cli *c, char *s)
{
	if (s == NULL || c->nstrs >= CLI_MAX_STRS) {
		free(s);
		return NULL;
	}
	c->strs[c->nstrs++] = s;
	return s;
}

/* A configured path: "~/x" under $HOME, "x" under the file's directory. */
static char *
cli_conf_path(const char *dir, const char *v)
{
	const char *home = getenv("HOME");
	char *out = NULL;

	if (v[0] == '~' && v[1] == '/' && home != NULL) {
		if (asprintf(&out, "%s/%s", home, v + 2) < 0)
			return NULL;
	} else if (v[0] != '/' && dir != NULL) {
		if (asprintf(&out, "%s/%s", dir, v) < 0)
			return NULL;
	} else {
		out = strdup(v);
	}
	return out;
}

static const char *
cli_conf_value(const struct ini *ini, const char *key)
{
	const struct ini_entry *en = ini_find(ini, "declctl", key);

	return en != NULL ? en->value : NULL;
}

/* Copies an ini message, each "line N" in it made "line N-1": the
 * numbers count the header cli_conf_parse adds. */
static void
cli_unshift(const char *in, char *out, size_t cap)
{
	size_t j = 0;
	long n;
	char *end;

	while (*in != '\0' && j + 1 < cap) {
		if (strncmp(in, "line ", 5) == 0 && in[5] >= '0' && in[5] <= '9') {
			n = strtol(in + 5, &end, 10);
			j += (size_t)snprintf(out + j, cap - j, "line %ld",
			    n > 1 ? n - 1 : n);
			if (j >= cap)
				j = cap - 1;
			in = end;
			continue;
		}
		out[j++] = *in++;
	}
	out[j] = '\0';
}

/* Keys before any section header belong to [declctl]: the file is parsed
 * with that header put in front (error lines are given back unshifted). */
static int
cli_conf_parse(const char *path, struct ini *ini)
{
	static const char head[] = "[declctl]\n";
	struct errs e;
	char *text = NULL, *buf = NULL;
	size_t len, i;
	int rc = -1;

	err_init(&e);
	if (cli_read_file(path, &text, &len) < 0)
		goto out;
	if (len > CLI_MAX_CONF) {
		fprintf(stderr, "declctl: %s: larger than %u bytes\n", path,
		    CLI_MAX_CONF);
		goto out;
	}
	if ((buf = malloc(sizeof(head) + len)) == NULL)
		goto out;
	memcpy(buf, head, sizeof(head) - 1);
	memcpy(buf + sizeof(head) - 1, text, len);
	if (ini_parse(buf, sizeof(head) - 1 + len, ini, &e) < 0) {
		for (i = 0; i < e.n; i++) {
			char msg[ERR_MSG_MAX];

			cli_unshift(e.v[i].msg, msg, sizeof(msg));
			fprintf(stderr, "declctl: %s:%d: %s: %s\n", path,
			    e.v[i].line > 1 ? e.v[i].line - 1 : 0, e.v[i].code, msg);
		}
		if (e.n == 0)
			fprintf(stderr, "declctl: %s: cannot parse\n", path);
		goto out;
	}
	rc = 0;
out:
	free(text);
	free(buf);
	err_clear(&e);
	return rc;
}

static int
cli_conf_load(struct cli *c, const char *path)
{
	static const char *keys[] = { "cert", "key", "cacert", "sign_cert",
		"sign_key", "trusted_ca" };
	const char **slots[] = { &c->cert, &c->key, &c->cacert, &c->sign_cert,
		&c->sign_key, &c->trusted_ca };
	struct ini ini = { 0 };
	char *dir = NULL, *slash;
	const char *v;
	size_t i;
	int rc = -1;

	if (cli_conf_parse(path, &ini) < 0)
		goto out;
	dir = strdup(path);
	if (dir == NULL)
		goto out;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (c->url == NULL && (v = cli_conf_value(&ini, "url")) != NULL)
		c->url = cli_keep(c, strdup(v));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (*slots[i] != NULL || (v = cli_conf_value(&ini, keys[i])) == NULL)
			continue;
		*slots[i] = cli_keep(c, cli_conf_path(dir, v));
		if (*slots[i] == NULL) {
			fprintf(stderr, "declctl: %s: out of memory\n", path);
			goto out;
		}
	}
	rc = 0;
out:
	free(dir);
	ini_free(&ini);
	return rc;
}

int
cli_finish(struct cli *c)
{
	const char *path = c->config, *home;
	char buf[PATH_MAX];
	int must = 1;

	if (c->conf_loaded)
		return 0;
	c->conf_loaded = 1;
	if (path == NULL)
		path = getenv("DECLCTL_CONF");
	if (path == NULL || path[0] == '\0') {
		must = 0;
		home = getenv("HOME");
		path = NULL;
		if (home != NULL &&
		    snprintf(buf, sizeof(buf), "%s/.config/declctl.conf", home) <
		    (int)sizeof(buf))
			path = buf;
	}
	if (path != NULL && (must || access(path, F_OK) == 0) &&
	    cli_conf_load(c, path) < 0)
		return -1;
	if (c->url == NULL)
		c->url = CLI_DEFAULT_URL;
	return 0;
}

int
cli_dsig_init(struct cli *c)
{
	if (c->dsig_ready)
		return 0;
	if (dsig_global_init() < 0) {
		fprintf(stderr, "declctl: cannot initialise xmlsec\n");
		return -1;
	}
	c->dsig_ready = 1;
	return 0;
}

int
cli_read_file(const char *path, char **buf, size_t *len)
{
	FILE *f;
	char *b = NULL;
	size_t n = 0, cap = 0, r;
	int rc = -1;

	*buf = NULL;
	*len = 0;
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "declctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (n + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb;

			/* room for one byte past the cap, to see that it is passed */
			if (ncap > CLI_MAX_FILE + 2)
				ncap = CLI_MAX_FILE + 2;
			if (ncap <= cap)
				goto toobig;
			if ((nb = realloc(b, ncap)) == NULL) {
				fprintf(stderr, "declctl: %s: out of memory\n", path);
				goto out;
			}
			b = nb;
			cap = ncap;
		}
		r = fread(b + n, 1, cap - n - 1, f);
		n += r;
		if (n > CLI_MAX_FILE)
			goto toobig;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "declctl: %s: read error\n", path);
		goto out;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = 0;
	goto out;
toobig:
	fprintf(stderr, "declctl: %s: larger than %u bytes\n", path, CLI_MAX_FILE);
out:
	free(b);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* fsync of the directory holding path (makes a rename durable). */
static int
cli_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
cli_write_atomic(const char *path, const void *buf, size_t len, int mode,
    int durable)
{
	char tmp[PATH_MAX];
	const char *p = buf;
	int fd = -1, rc = -1;
	ssize_t w;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		fprintf(stderr, "declctl: %s: path too long\n", path);
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "declctl: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, (mode_t)mode) < 0)
		goto fail;
	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		len -= (size_t)w;
	}
	if (durable && fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	if (durable && cli_sync_dir(path) < 0) {
		fprintf(stderr, "declctl: %s: directory fsync: %s\n", path,
		    strerror(errno));
		return -1;
	}
	return 0;
fail:
	fprintf(stderr, "declctl: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

xmlDocPtr
cli_parse_xml(const char *buf, size_t len, const char *name)
{
	xmlDocPtr doc;

	if (len > (size_t)INT_MAX) {
		fprintf(stderr, "declctl: %s: too large\n", name);
		return NULL;
	}
	doc = xmlReadMemory(buf, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		const xmlError *xe = xmlGetLastError();

		fprintf(stderr, "declctl: %s:%d: not well-formed XML: %s", name,
		    xe != NULL ? xe->line : 0,
		    xe != NULL && xe->message != NULL ? xe->message : "?\n");
		return NULL;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		fprintf(stderr, "declctl: %s: a DOCTYPE is not allowed\n", name);
		xmlFreeDoc(doc);
		return NULL;
	}
	if (xmlDocGetRootElement(doc) == NULL) {
		fprintf(stderr, "declctl: %s: no root element\n", name);
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

int
cli_dump_xml(xmlDocPtr doc, char **out, size_t *len)
{
	xmlChar *mem = NULL;
	int n = 0;

	*out = NULL;
	*len = 0;
	xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
	if (mem == NULL || n <= 0) {
		xmlFree(mem);
		return -1;
	}
	*out = malloc((size_t)n + 1);
	if (*out == NULL) {
		xmlFree(mem);
		return -1;
	}
	memcpy(*out, mem, (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	xmlFree(mem);
	return 0;
}

long long
cli_parse_num(const char *s, long long max)
{
	long long v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v;
}
