/* declctl verify: check signed documents against a trusted CA. */
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "cli.h"
#include "err.h"

struct dsig_trust *
verify_trust_load(const char *ca, const char *crl)
{
	struct dsig_trust *t;
	struct errs e;
	size_t i;

	err_init(&e);
	t = dsig_trust_new(ca, crl, &e);
	if (t == NULL) {
		for (i = 0; i < e.n; i++)
			fprintf(stderr, "declctl: %s: %s: %s\n", ca, e.v[i].code,
			    e.v[i].msg);
		if (e.n == 0)
			fprintf(stderr, "declctl: %s: cannot load\n", ca);
	}
	err_clear(&e);
	return t;
}

int
verify_buffer(const struct dsig_trust *t, const struct dsig_policy *pol,
    const char *buf, size_t len, const char *name, int verbose,
    char *verdict, size_t cap)
{
	struct dsig_result res;
	struct errs e;
	xmlDocPtr doc;
	int rc = -1;

	memset(&res, 0, sizeof(res));
	err_init(&e);
	doc = cli_parse_xml(buf, len, name);
	if (doc == NULL) {
		snprintf(verdict, cap, "FAIL XML_MALFORMED not a well-formed document");
		goto out;
	}
	if (dsig_verify(t, pol, doc, &res, &e) < 0) {
		snprintf(verdict, cap, "FAIL %s %s",
		    e.n > 0 ? e.v[0].code : "SIG_INVALID",
		    e.n > 0 ? e.v[0].msg : "verification failed");
		goto out;
	}
	if (verbose)
		snprintf(verdict, cap, "OK party=%s subject=\"%s\" sha256=%s alg=%s",
		    res.party, res.subject, res.fingerprint, res.algorithm);
	else
		snprintf(verdict, cap, "OK party=%s", res.party);
	rc = 0;
out:
	xmlFreeDoc(doc);
	err_clear(&e);
	return rc;
}

static void
verify_usage(void)
{
	fprintf(stderr, "usage: declctl verify [--trusted-ca FILE] [--crl FILE] "
	    "[--allow-sha1] FILE...\n");
}

int
verify_cmd(struct cli *c, int argc, char **argv)
{
	enum { O_CA = CLI_OPT_CMD_BASE, O_CRL, O_SHA1 };
	static const struct option lo[] = {
		CLI_COMMON_OPTIONS,
		{ "trusted-ca", required_argument, NULL, O_CA },
		{ "crl", required_argument, NULL, O_CRL },
		{ "allow-sha1", no_argument, NULL, O_SHA1 },
		{ NULL, 0, NULL, 0 }
	};
	struct dsig_policy pol = { 0 };
	struct dsig_trust *t = NULL;
	const char *crl = NULL;
	char *buf, verdict[1024];
	size_t len;
	int ch, i, bad = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_CA: c->trusted_ca = optarg; break;
		case O_CRL: crl = optarg; break;
		case O_SHA1: pol.allow_rsa_sha1 = 1; break;
		default:
			if (cli_common_opt(c, ch, optarg) < 0) {
				verify_usage();
				return CLI_EXIT_USAGE;
			}
		}
	}
	if (c->help) {
		verify_usage();
		return CLI_EXIT_OK;
	}
	if (optind >= argc) {
		verify_usage();
		return CLI_EXIT_USAGE;
	}
	if (cli_finish(c) < 0)
		return CLI_EXIT_USAGE;
	if (c->trusted_ca == NULL) {
		fprintf(stderr, "declctl: verify needs --trusted-ca "
		    "(or trusted_ca= in the configuration)\n");
		return CLI_EXIT_USAGE;
	}
	if (cli_dsig_init(c) < 0 || (t = verify_trust_load(c->trusted_ca, crl)) == NULL)
		return CLI_EXIT_FAIL;
	for (i = optind; i < argc; i++) {
		if (cli_read_file(argv[i], &buf, &len) < 0) {
			printf("%s FAIL IO cannot read\n", argv[i]);
			bad++;
			continue;
		}
		if (verify_buffer(t, &pol, buf, len, argv[i], c->verbose, verdict,
		    sizeof(verdict)) < 0)
			bad++;
		printf("%s %s\n", argv[i], verdict);
		free(buf);
	}
	dsig_trust_free(t);
	return bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
