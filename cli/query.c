/* declctl status, show, search, decide: thin calls to the daemon's JSON
 * API that print what it answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "http.h"

#define QUERY_PATH_MAX 4096

/* Prints the body (pretty JSON on a TTY) and maps the status to an exit
 * code: 2xx ok, anything else a failure with "HTTP N" on stderr. */
static int
query_print(const struct http_resp *r)
{
	json_t *j = NULL;

	if (isatty(STDOUT_FILENO) && strstr(r->ctype, "json") != NULL)
		j = json_loadb(r->body, r->len, 0, NULL);
	if (j != NULL) {
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(j);
	} else if (r->len > 0) {
		fwrite(r->body, 1, r->len, stdout);
		if (r->body[r->len - 1] != '\n')
			fputc('\n', stdout);
	}
	fflush(stdout);
	if (r->status < 200 || r->status > 299) {
		fprintf(stderr, "declctl: HTTP %ld\n", r->status);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

/* One request, printed; body NULL for GET. */
static int
query_call(struct cli *c, const char *method, const char *path,
    const char *body)
{
	struct http_resp r = { 0 };
	struct http *h;
	int rc = CLI_EXIT_FAIL;

	r.retry_after = -1;
	if ((h = http_new(c, NULL)) == NULL) {
		fprintf(stderr, "declctl: cannot create an HTTP client\n");
		return CLI_EXIT_FAIL;
	}
	if (http_request(h, method, path, body != NULL ? "application/json" : NULL,
	    body, body != NULL ? strlen(body) : 0, 0, &r) < 0)
		fprintf(stderr, "declctl: %s\n", http_error(h));
	else
		rc = query_print(&r);
	http_resp_clear(&r);
	http_free(h);
	return rc;
}

/* "/v1/declarations/<escaped id><suffix>" */
static int
query_decl_path(struct cli *c, const char *id, const char *suffix, char *out,
    size_t cap)
{
	struct http *h = http_new(c, NULL);
	char *e = h != NULL ? http_escape(h, id) : NULL;
	int rc = -1;

	if (e != NULL && *id != '\0' &&
	    snprintf(out, cap, "/v1/declarations/%s%s", e, suffix) < (int)cap)
		rc = 0;
	else
		fprintf(stderr, "declctl: bad declaration id\n");
	free(e);
	http_free(h);
	return rc;
}

int
query_status_cmd(struct cli *c, int argc, char **argv)
{
	enum { O_XML = CLI_OPT_CMD_BASE };
	static const struct option lo[] = {
		CLI_COMMON_OPTIONS,
		{ "xml", no_argument, NULL, O_XML },
		{ NULL, 0, NULL, 0 }
	};
	char path[QUERY_PATH_MAX];
	int ch, xml = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == O_XML)
			xml = 1;
		else if (cli_common_opt(c, ch, optarg) < 0)
			goto usage;
	}
	if (c->help || optind + 1 != argc)
		goto usage;
	if (cli_finish(c) < 0)
		return CLI_EXIT_USAGE;
	if (query_decl_path(c, argv[optind], xml ? "/xml" : "", path,
	    sizeof(path)) < 0)
		return CLI_EXIT_USAGE;
	return query_call(c, "GET", path, NULL);
usage:
	fprintf(stderr, "usage: declctl %s [--xml] ID\n", argv[0]);
	return c->help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int
query_search_cmd(struct cli *c, int argc, char **argv)
{
	static const char *names[] = { "status", "declarant", "lane", "hs", "from",
		"to", "limit", "cursor", "origin", "mrn", "lrn" };
	enum { NQ = sizeof(names) / sizeof(names[0]) };
	static const struct option lo[] = {
		CLI_COMMON_OPTIONS,
		{ "status", required_argument, NULL, CLI_OPT_CMD_BASE + 0 },
		{ "declarant", required_argument, NULL, CLI_OPT_CMD_BASE + 1 },
		{ "lane", required_argument, NULL, CLI_OPT_CMD_BASE + 2 },
		{ "hs", required_argument, NULL, CLI_OPT_CMD_BASE + 3 },
		{ "from", required_argument, NULL, CLI_OPT_CMD_BASE + 4 },
		{ "to", required_argument, NULL, CLI_OPT_CMD_BASE + 5 },
		{ "limit", required_argument, NULL, CLI_OPT_CMD_BASE + 6 },
		{ "cursor", required_argument, NULL, CLI_OPT_CMD_BASE + 7 },
		{ "origin", required_argument, NULL, CLI_OPT_CMD_BASE + 8 },
		{ "mrn", required_argument, NULL, CLI_OPT_CMD_BASE + 9 },
		{ "lrn", required_argument, NULL, CLI_OPT_CMD_BASE + 10 },
		{ NULL, 0, NULL, 0 }
	};
	const char *vals[NQ] = { NULL };
	char path[QUERY_PATH_MAX], *e;
	struct http *h;
	size_t used, i;
	int ch, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch >= CLI_OPT_CMD_BASE && ch < CLI_OPT_CMD_BASE + NQ)
			vals[ch - CLI_OPT_CMD_BASE] = optarg;
		else if (cli_common_opt(c, ch, optarg) < 0)
			goto usage;
	}
	if (c->help || optind != argc)
		goto usage;
	if (cli_finish(c) < 0)
		return CLI_EXIT_USAGE;
	if ((h = http_new(c, NULL)) == NULL)
		return CLI_EXIT_FAIL;
	used = (size_t)snprintf(path, sizeof(path), "/v1/declarations");
	for (i = 0, rc = 0; i < NQ && rc == 0; i++) {
		if (vals[i] == NULL)
			continue;
		e = http_escape(h, vals[i]);
		if (e == NULL || used + strlen(names[i]) + strlen(e) + 3 >= sizeof(path))
			rc = -1;
		else
			used += (size_t)snprintf(path + used, sizeof(path) - used,
			    "%c%s=%s", used == strlen("/v1/declarations") ? '?' : '&',
			    names[i], e);
		free(e);
	}
	http_free(h);
	if (rc < 0) {
		fprintf(stderr, "declctl: search: query too long\n");
		return CLI_EXIT_USAGE;
	}
	return query_call(c, "GET", path, NULL);
usage:
	fprintf(stderr, "usage: declctl search [--status S] [--declarant D] [--lane L] "
	    "[--hs H]\n           [--origin CC] [--mrn M] [--lrn L] [--from T] [--to T]\n"
	    "           [--limit N] [--cursor C]\n");
	return c->help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int
query_decide_cmd(struct cli *c, int argc, char **argv)
{
	enum { O_ACTION = CLI_OPT_CMD_BASE, O_REASON };
	static const struct option lo[] = {
		CLI_COMMON_OPTIONS,
		{ "action", required_argument, NULL, O_ACTION },
		{ "reason", required_argument, NULL, O_REASON },
		{ NULL, 0, NULL, 0 }
	};
	const char *action = NULL, *reason = NULL;
	char path[QUERY_PATH_MAX], *body = NULL;
	json_t *j;
	int ch, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == O_ACTION)
			action = optarg;
		else if (ch == O_REASON)
			reason = optarg;
		else if (cli_common_opt(c, ch, optarg) < 0)
			goto usage;
	}
	if (c->help || optind + 1 != argc || action == NULL || reason == NULL)
		goto usage;
	if (cli_finish(c) < 0)
		return CLI_EXIT_USAGE;
	if (query_decl_path(c, argv[optind], "/decision", path, sizeof(path)) < 0)
		return CLI_EXIT_USAGE;
	j = json_pack("{s:s, s:s}", "action", action, "reason", reason);
	if (j != NULL)
		body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (body == NULL) {
		fprintf(stderr, "declctl: decide: action and reason must be UTF-8\n");
		return CLI_EXIT_USAGE;
	}
	rc = query_call(c, "POST", path, body);
	free(body);
	return rc;
usage:
	fprintf(stderr, "usage: declctl decide ID --action ACTION --reason TEXT\n"
	    "  ACTION as the daemon names it, e.g. release, hold, inspect, reject\n");
	return c->help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}
