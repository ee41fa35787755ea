/* declctl acks: pull the enterprise's acknowledgements from the long-poll
 * feed, each into DIR/ack-SEQ.xml, with a cursor file that moves only
 * after the file is safely on disk: nothing missed, nothing repeated,
 * across restarts. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cli.h"
#include "http.h"
#include "verify.h"

#define ACKS_LIMIT_MAX 1000 /* the daemon serves at most 1000 a page */
#define ACKS_WAIT_MAX 300
#define ACKS_FOLLOW_WAIT 30   /* long-poll seconds when --follow and no --wait */
#define ACKS_BACKOFF_MAX 30

struct acks {
	struct cli *c;
	struct http *h;
	struct dsig_trust *trust;
	struct dsig_policy pol;
	const char *outdir;
	char cursor_path[PATH_MAX];
	long long cursor;
	long limit, wait;
	int follow;
};

static volatile sig_atomic_t acks_stop;

static void
acks_on_signal(int sig)
{
	acks_stop = 1;
}

/* Base64 (with or without line breaks) into a malloc'd buffer. */
static int
acks_b64(const char *in, size_t len, unsigned char **out, size_t *olen)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	unsigned char *buf = NULL;
	int n1 = 0, n2 = 0, rc = -1;

	*out = NULL;
	if (ctx == NULL || len > INT_MAX / 2 || (buf = malloc(len / 4 * 3 + 4)) == NULL)
		goto out;
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, buf, &n1, (const unsigned char *)in, (int)len) < 0 ||
	    EVP_DecodeFinal(ctx, buf + n1, &n2) != 1 || n1 + n2 <= 0)
		goto out;
	*olen = (size_t)(n1 + n2);
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	EVP_ENCODE_CTX_free(ctx);
	return rc;
}

static int
acks_cursor_read(struct acks *a)
{
	char *buf;
	size_t len;
	long long v;

	if (access(a->cursor_path, F_OK) < 0) {
		a->cursor = 0;
		return 0;
	}
	if (cli_read_file(a->cursor_path, &buf, &len) < 0)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	v = cli_parse_num(buf, LLONG_MAX / 10);
	free(buf);
	if (v < 0) {
		fprintf(stderr, "declctl: %s: not a sequence number\n", a->cursor_path);
		return -1;
	}
	a->cursor = v;
	return 0;
}

static int
acks_cursor_write(struct acks *a, long long seq)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%lld\n", seq);

	if (cli_write_atomic(a->cursor_path, buf, (size_t)n, 0644, 1) < 0)
		return -1;
	a->cursor = seq;
	return 0;
}

static const char *
acks_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL && *s != '\0' ? s : "-";
}

/* Stores one acknowledgement; 0 = stored (cursor moved), 1 = skipped
 * (already had it), -1 = stop. */
static int
acks_one(struct acks *a, json_t *ack)
{
	json_t *jseq = json_object_get(ack, "seq");
	const char *b64 = json_string_value(json_object_get(ack, "body"));
	unsigned char *xml = NULL;
	char path[PATH_MAX], verdict[1024];
	size_t xlen = 0;
	long long seq;
	int rc = -1;

	if (!json_is_integer(jseq) || (seq = json_integer_value(jseq)) <= 0 ||
	    b64 == NULL) {
		fprintf(stderr, "declctl: acks: an entry without seq or body\n");
		return -1;
	}
	if (seq <= a->cursor)
		return 1;
	if (acks_b64(b64, strlen(b64), &xml, &xlen) < 0) {
		fprintf(stderr, "declctl: acks: seq %lld: body is not base64\n", seq);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/ack-%lld.xml", a->outdir, seq);
	verdict[0] = '\0';
	if (a->trust != NULL &&
	    verify_buffer(a->trust, &a->pol, (const char *)xml, xlen, path,
	    a->c->verbose, verdict, sizeof(verdict)) < 0) {
		/* kept aside for inspection; the cursor stays before it */
		snprintf(path, sizeof(path), "%s/ack-%lld.xml.rejected", a->outdir, seq);
		cli_write_atomic(path, xml, xlen, 0644, 1);
		printf("%s seq=%lld id=%s kind=%s %s\n", path, seq,
		    acks_str(ack, "declaration_id"), acks_str(ack, "kind"), verdict);
		goto out;
	}
	if (cli_write_atomic(path, xml, xlen, 0644, 1) < 0 ||
	    acks_cursor_write(a, seq) < 0)
		goto out;
	printf("%s seq=%lld id=%s kind=%s%s%s\n", path, seq,
	    acks_str(ack, "declaration_id"), acks_str(ack, "kind"),
	    verdict[0] ? " " : "", verdict);
	fflush(stdout);
	rc = 0;
out:
	free(xml);
	return rc;
}

/* One GET; returns the number of acks stored, or -1 (fatal) / -2
 * (transient: retry later). */
static int
acks_page(struct acks *a)
{
	struct http_resp r = { 0 };
	json_error_t jerr;
	json_t *root = NULL, *list, *next;
	char path[128];
	size_t i, n;
	int rc = -1;

	r.retry_after = -1;
	snprintf(path, sizeof(path), "/v1/acks?after=%lld&limit=%ld&wait=%ld",
	    a->cursor, a->limit, a->wait);
	if (http_request(a->h, "GET", path, NULL, NULL, 0,
	    a->wait + a->c->timeout_s, &r) < 0) {
		if (!acks_stop)
			fprintf(stderr, "declctl: acks: %s\n", http_error(a->h));
		rc = -2;
		goto out;
	}
	if (r.status != 200) {
		fprintf(stderr, "declctl: acks: HTTP %ld: %.200s\n", r.status, r.body);
		rc = r.status >= 500 || r.status == 429 ? -2 : -1;
		goto out;
	}
	root = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, &jerr);
	list = json_object_get(root, "acks");
	if (root == NULL || !json_is_array(list)) {
		fprintf(stderr, "declctl: acks: bad JSON: %s\n",
		    root == NULL ? jerr.text : "no \"acks\" array");
		goto out;
	}
	n = json_array_size(list);
	for (i = 0; i < n && i < (size_t)ACKS_LIMIT_MAX; i++) {
		if (acks_one(a, json_array_get(list, i)) < 0)
			goto out;
	}
	/* the server's cursor may pass sequence numbers that are not ours */
	next = json_object_get(root, "next");
	if (json_is_integer(next) && json_integer_value(next) > a->cursor &&
	    acks_cursor_write(a, json_integer_value(next)) < 0)
		goto out;
	rc = (int)n;
out:
	json_decref(root);
	http_resp_clear(&r);
	return rc;
}

static int
acks_run(struct acks *a)
{
	int backoff = 1, n;

	for (;;) {
		if (acks_stop)
			return CLI_EXIT_OK;
		n = acks_page(a);
		if (n == -1)
			return CLI_EXIT_FAIL;
		if (n == -2) {
			if (!a->follow || acks_stop)
				return acks_stop ? CLI_EXIT_OK : CLI_EXIT_FAIL;
			sleep((unsigned)backoff);
			backoff = backoff * 2 > ACKS_BACKOFF_MAX ? ACKS_BACKOFF_MAX :
			    backoff * 2;
			continue;
		}
		backoff = 1;
		/* without --follow: drain full pages, then stop */
		if (!a->follow && n < a->limit)
			return CLI_EXIT_OK;
	}
}

static void
acks_usage(void)
{
	fprintf(stderr, "usage: declctl acks --out DIR [--after SEQ] [--limit N] "
	    "[--wait S] [--follow]\n"
	    "           [--cursor-file FILE] [--trusted-ca FILE] [--crl FILE]\n");
}

int
acks_cmd(struct cli *c, int argc, char **argv)
{
	enum { O_AFTER = CLI_OPT_CMD_BASE, O_LIMIT, O_WAIT, O_FOLLOW, O_OUT,
	    O_CURSOR, O_CA, O_CRL };
	static const struct option lo[] = {
		CLI_COMMON_OPTIONS,
		{ "after", required_argument, NULL, O_AFTER },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "wait", required_argument, NULL, O_WAIT },
		{ "follow", no_argument, NULL, O_FOLLOW },
		{ "out", required_argument, NULL, O_OUT },
		{ "cursor-file", required_argument, NULL, O_CURSOR },
		{ "trusted-ca", required_argument, NULL, O_CA },
		{ "crl", required_argument, NULL, O_CRL },
		{ NULL, 0, NULL, 0 }
	};
	struct acks a;
	struct sigaction sa;
	const char *cursor = NULL, *crl = NULL;
	long long after = -1, v;
	int ch, rc = CLI_EXIT_FAIL;

	memset(&a, 0, sizeof(a));
	a.c = c;
	a.limit = 100;
	a.wait = -1;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_AFTER:
			if ((after = cli_parse_num(optarg, LLONG_MAX / 10)) < 0)
				goto usage;
			break;
		case O_LIMIT:
			if ((v = cli_parse_num(optarg, ACKS_LIMIT_MAX)) <= 0)
				goto usage;
			a.limit = (long)v;
			break;
		case O_WAIT:
			if ((v = cli_parse_num(optarg, ACKS_WAIT_MAX)) < 0)
				goto usage;
			a.wait = (long)v;
			break;
		case O_FOLLOW: a.follow = 1; break;
		case O_OUT: a.outdir = optarg; break;
		case O_CURSOR: cursor = optarg; break;
		case O_CA: c->trusted_ca = optarg; break;
		case O_CRL: crl = optarg; break;
		default:
			if (cli_common_opt(c, ch, optarg) < 0)
				goto usage;
		}
	}
	if (c->help) {
		acks_usage();
		return CLI_EXIT_OK;
	}
	if (optind != argc || a.outdir == NULL)
		goto usage;
	if (cli_finish(c) < 0)
		return CLI_EXIT_USAGE;
	if (a.wait < 0)
		a.wait = a.follow ? ACKS_FOLLOW_WAIT : 0;
	if (mkdir(a.outdir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "declctl: %s: %s\n", a.outdir, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	if (snprintf(a.cursor_path, sizeof(a.cursor_path), "%s",
	    cursor != NULL ? cursor : a.outdir) >= (int)sizeof(a.cursor_path) ||
	    (cursor == NULL && strlen(a.cursor_path) + 9 >= sizeof(a.cursor_path)))
		goto usage;
	if (cursor == NULL)
		strcat(a.cursor_path, "/.cursor");
	if (after >= 0)
		a.cursor = after;
	else if (acks_cursor_read(&a) < 0)
		return CLI_EXIT_FAIL;
	if (c->trusted_ca != NULL &&
	    (cli_dsig_init(c) < 0 ||
	    (a.trust = verify_trust_load(c->trusted_ca, crl)) == NULL))
		return CLI_EXIT_FAIL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = acks_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((a.h = http_new(c, &acks_stop)) == NULL)
		fprintf(stderr, "declctl: cannot create an HTTP client\n");
	else
		rc = acks_run(&a);
	http_free(a.h);
	dsig_trust_free(a.trust);
	return rc;
usage:
	acks_usage();
	return CLI_EXIT_USAGE;
}
