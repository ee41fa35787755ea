/* declctl submit: POST declarations over one kept-alive mutual-TLS
 * connection, print one line per file (or a progress bar on a TTY), keep
 * the receipts. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "ack.h"
#include "cli.h"
#include "http.h"
#include "sign.h"

#define SUBMIT_MAX_ERRS 8   /* errors shown per file */
#define SUBMIT_VAL_MAX 128  /* bytes of one printed value */

struct submit_opts {
	const char *outdir;
	int sign, allow_errors, retries, tty;
};

struct submit_count {
	size_t n, s202, s400, s409, other, transport;
	struct timespec t0, last_bar;
};

/* A value safe for a one-line, space-separated record. */
static void
submit_clean(const char *in, char *out, size_t cap)
{
	size_t i, j = 0;

	for (i = 0; in != NULL && in[i] != '\0' && j + 1 < cap; i++) {
		unsigned char ch = (unsigned char)in[i];

		out[j++] = ch <= ' ' || ch == 0x7f ? '_' : (char)ch;
	}
	if (j == 0 && cap > 1)
		out[j++] = '-';
	out[j] = '\0';
}

static void
submit_xpath_str(xmlXPathContextPtr xc, xmlNodePtr at, const char *expr,
    char *out, size_t cap)
{
	xmlXPathObjectPtr o;
	char tmp[512];

	tmp[0] = '\0';
	xc->node = at;
	o = xmlXPathEvalExpression((const xmlChar *)expr, xc);
	if (o != NULL && o->type == XPATH_STRING && o->stringval != NULL)
		snprintf(tmp, sizeof(tmp), "%s", (const char *)o->stringval);
	xmlXPathFreeObject(o);
	submit_clean(tmp, out, cap);
}

/* Appends " id=.. mrn=.. lrn=.. error=CODE@POINTER..." from a Response
 * body to line; returns 0 if the body was a Response, -1 otherwise. */
static int
submit_describe(const char *body, size_t len, char *line, size_t cap)
{
	xmlDocPtr doc = NULL;
	xmlXPathContextPtr xc = NULL;
	xmlXPathObjectPtr errs = NULL;
	xmlNodePtr root;
	char id[SUBMIT_VAL_MAX], mrn[SUBMIT_VAL_MAX], lrn[SUBMIT_VAL_MAX];
	char code[SUBMIT_VAL_MAX], ptr[SUBMIT_VAL_MAX];
	size_t used = strlen(line);
	int i, n, rc = -1;

	if (len == 0 || len > INT_MAX)
		return -1;
	doc = xmlReadMemory(body, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL || doc->intSubset != NULL ||
	    (root = xmlDocGetRootElement(doc)) == NULL || root->ns == NULL ||
	    strcmp((const char *)root->ns->href, ACK_NS) != 0)
		goto out;
	if ((xc = xmlXPathNewContext(doc)) == NULL ||
	    xmlXPathRegisterNs(xc, (const xmlChar *)"r", (const xmlChar *)ACK_NS) != 0)
		goto out;
	submit_xpath_str(xc, root, "string(r:Declaration/r:ID)", id, sizeof(id));
	submit_xpath_str(xc, root, "string(r:Declaration/r:MRN)", mrn, sizeof(mrn));
	submit_xpath_str(xc, root, "string(r:FunctionalReferenceID)", lrn, sizeof(lrn));
	used += (size_t)snprintf(line + used, cap - used, " id=%s mrn=%s lrn=%s",
	    id, mrn, lrn);
	xc->node = root;
	errs = xmlXPathEvalExpression((const xmlChar *)"r:Error", xc);
	n = errs != NULL && errs->nodesetval != NULL ? errs->nodesetval->nodeNr : 0;
	for (i = 0; i < n && i < SUBMIT_MAX_ERRS && used < cap; i++) {
		xmlNodePtr en = errs->nodesetval->nodeTab[i];

		submit_xpath_str(xc, en, "string(r:ValidationCode)", code, sizeof(code));
		submit_xpath_str(xc, en, "string(r:Pointer)", ptr, sizeof(ptr));
		used += (size_t)snprintf(line + used, cap - used, " error=%s@%s",
		    code, ptr);
	}
	if (n > SUBMIT_MAX_ERRS && used < cap)
		snprintf(line + used, cap - used, " errors_more=%d", n - SUBMIT_MAX_ERRS);
	rc = 0;
out:
	xmlXPathFreeObject(errs);
	xmlXPathFreeContext(xc);
	xmlFreeDoc(doc);
	return rc;
}

/* DIR/NAME.receipt.xml, NAME = file's base name without ".xml". */
static int
submit_receipt_path(const char *dir, const char *file, char *out, size_t cap)
{
	const char *base = strrchr(file, '/');
	size_t n;

	base = base != NULL ? base + 1 : file;
	if (strcmp(base, "-") == 0)
		base = "stdin";
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".xml") == 0)
		n -= 4;
	return snprintf(out, cap, "%s/%.*s.receipt.xml", dir, (int)n, base) <
	    (int)cap ? 0 : -1;
}

static double
submit_elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void
submit_bar(struct submit_count *k, size_t total, int force)
{
	struct timespec now;
	double t;
	int width = 30, fill;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!force && submit_elapsed(&k->last_bar, &now) < 0.1)
		return;
	k->last_bar = now;
	t = submit_elapsed(&k->t0, &now);
	fill = total ? (int)((double)width * (double)k->n / (double)total) : width;
	fprintf(stderr, "\r\033[K[%.*s%*s] %zu/%zu 202=%zu 400=%zu 409=%zu other=%zu %.0f/s",
	    fill, "##############################", width - fill, "", k->n, total,
	    k->s202, k->s400, k->s409, k->other + k->transport,
	    t > 0 ? (double)k->n / t : 0.0);
}

/* Sends one body, retrying 503 (after Retry-After) and transport errors:
 * the daemon answers a resubmission of the same bytes with the original
 * receipt, so a retry cannot store a declaration twice. */
static int
submit_post(struct http *h, const struct submit_opts *o, const char *body,
    size_t len, struct http_resp *r)
{
	int attempt, rc = -1;
	long wait;

	for (attempt = 0; attempt <= o->retries; attempt++) {
		rc = http_request(h, "POST", "/v1/declarations", "application/xml",
		    body, len, 0, r);
		if (rc == 0 && r->status != 503)
			return 0;
		if (attempt == o->retries)
			break;
		wait = rc == 0 && r->retry_after >= 0 ? r->retry_after : 1L << attempt;
		sleep((unsigned)(wait > 30 ? 30 : wait));
	}
	return rc;
}

static int
submit_one(struct http *h, const struct dsig_signer *s,
    const struct submit_opts *o, const char *file, struct submit_count *k)
{
	struct http_resp r = { 0 };
	char *in = NULL, *signed_doc = NULL, line[2048], path[PATH_MAX];
	const char *body;
	size_t len, slen;
	int rc = -1;

	r.retry_after = -1;
	if (cli_read_file(file, &in, &len) < 0)
		goto unsent;
	body = in;
	if (s != NULL) {
		if (sign_buffer(s, in, len, file, &signed_doc, &slen) < 0)
			goto unsent;
		body = signed_doc;
		len = slen;
	}
	if (submit_post(h, o, body, len, &r) < 0) {
		snprintf(line, sizeof(line), "%s ERR %s", file, http_error(h));
		k->transport++;
		goto print;
	}
	snprintf(line, sizeof(line), "%s %ld", file, r.status);
	if (submit_describe(r.body, r.len, line, sizeof(line)) < 0 && r.status != 202) {
		char reason[96];
		size_t n = strcspn(r.body, "\r\n");

		snprintf(reason, sizeof(reason), "%.*s", (int)(n < 80 ? n : 80), r.body);
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		    " reason=\"%s\"", reason);
	}
	switch (r.status) {
	case 202: k->s202++; break;
	case 400: k->s400++; break;
	case 409: k->s409++; break;
	default: k->other++; break;
	}
	rc = 0;
	if (o->outdir != NULL && r.len > 0) {
		if (submit_receipt_path(o->outdir, file, path, sizeof(path)) < 0 ||
		    cli_write_atomic(path, r.body, r.len, 0644, 0) < 0)
			rc = -1;
	}
	goto print;
unsent:
	snprintf(line, sizeof(line), "%s ERR not sent", file);
	k->transport++;
print:
	if (!o->tty)
		printf("%s\n", line);
	else if (rc < 0 || r.status != 202)
		fprintf(stderr, "\r\033[K%s\n", line);
	http_resp_clear(&r);
	free(in);
	free(signed_doc);
	return rc;
}

static void
submit_usage(void)
{
	fprintf(stderr, "usage: declctl submit [--sign] [--sign-cert FILE --sign-key FILE]\n"
	    "           [--out DIR] [--allow-errors] [--retries N] FILE...\n");
}

int
submit_cmd(struct cli *c, int argc, char **argv)
{
	enum { O_SIGN = CLI_OPT_CMD_BASE, O_SIGN_CERT, O_SIGN_KEY, O_OUT,
	    O_ALLOW, O_RETRIES };
	static const struct option lo[] = {
		CLI_COMMON_OPTIONS,
		{ "sign", no_argument, NULL, O_SIGN },
		{ "sign-cert", required_argument, NULL, O_SIGN_CERT },
		{ "sign-key", required_argument, NULL, O_SIGN_KEY },
		{ "out", required_argument, NULL, O_OUT },
		{ "allow-errors", no_argument, NULL, O_ALLOW },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ NULL, 0, NULL, 0 }
	};
	struct submit_opts o = { NULL, 0, 0, 3, 0 };
	struct submit_count k;
	struct dsig_signer *s = NULL;
	struct http *h = NULL;
	long long n;
	int ch, i, failed = 0, rc = CLI_EXIT_FAIL;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_SIGN: o.sign = 1; break;
		case O_SIGN_CERT: c->sign_cert = optarg; break;
		case O_SIGN_KEY: c->sign_key = optarg; break;
		case O_OUT: o.outdir = optarg; break;
		case O_ALLOW: o.allow_errors = 1; break;
		case O_RETRIES:
			if ((n = cli_parse_num(optarg, 10)) < 0) {
				fprintf(stderr, "declctl: --retries: want 0..10\n");
				return CLI_EXIT_USAGE;
			}
			o.retries = (int)n;
			break;
		default:
			if (cli_common_opt(c, ch, optarg) < 0) {
				submit_usage();
				return CLI_EXIT_USAGE;
			}
		}
	}
	if (c->help) {
		submit_usage();
		return CLI_EXIT_OK;
	}
	if (optind >= argc) {
		submit_usage();
		return CLI_EXIT_USAGE;
	}
	if (cli_finish(c) < 0)
		return CLI_EXIT_USAGE;
	if (o.outdir != NULL && access(o.outdir, W_OK) < 0) {
		fprintf(stderr, "declctl: --out %s: %s\n", o.outdir, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	if (o.sign && (s = sign_load(c)) == NULL)
		return CLI_EXIT_FAIL;
	if ((h = http_new(c, NULL)) == NULL) {
		fprintf(stderr, "declctl: cannot create an HTTP client\n");
		goto done;
	}
	memset(&k, 0, sizeof(k));
	o.tty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &k.t0);
	for (i = optind; i < argc; i++) {
		if (submit_one(h, s, &o, argv[i], &k) < 0)
			failed++;
		k.n++;
		if (o.tty)
			submit_bar(&k, (size_t)(argc - optind), i + 1 == argc);
	}
	if (o.tty) {
		fputc('\n', stderr);
		printf("submitted %zu: 202=%zu 400=%zu 409=%zu other=%zu\n", k.n,
		    k.s202, k.s400, k.s409, k.other + k.transport);
	}
	fflush(stdout);
	if (failed == 0 && (k.s202 == k.n || o.allow_errors))
		rc = CLI_EXIT_OK;
done:
	http_free(h);
	dsig_signer_free(s);
	return rc;
}
