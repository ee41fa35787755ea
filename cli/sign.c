/* declctl sign: sign a declaration with the enterprise's certificate. */
#include "sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "err.h"

void
sign_print_errs(const char *name, const struct errs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		fprintf(stderr, "declctl: %s: %s: %s\n", name, e->v[i].code,
		    e->v[i].msg);
	if (e->n == 0)
		fprintf(stderr, "declctl: %s: failed\n", name);
}

struct dsig_signer *
sign_load(struct cli *c)
{
	struct dsig_signer *s;
	struct errs e;

	if (c->sign_cert == NULL || c->sign_key == NULL) {
		fprintf(stderr, "declctl: signing needs --sign-cert and --sign-key "
		    "(or sign_cert= and sign_key= in the configuration)\n");
		return NULL;
	}
	if (cli_dsig_init(c) < 0)
		return NULL;
	err_init(&e);
	s = dsig_signer_new(c->sign_key, c->sign_cert, &e);
	if (s == NULL)
		sign_print_errs(c->sign_cert, &e);
	err_clear(&e);
	return s;
}

int
sign_buffer(const struct dsig_signer *s, const char *in, size_t len,
    const char *name, char **out, size_t *olen)
{
	xmlDocPtr doc;
	struct errs e;
	int rc = -1;

	*out = NULL;
	*olen = 0;
	err_init(&e);
	doc = cli_parse_xml(in, len, name);
	if (doc == NULL)
		goto out;
	if (dsig_sign(s, doc, &e) < 0) {
		sign_print_errs(name, &e);
		goto out;
	}
	if (cli_dump_xml(doc, out, olen) < 0) {
		fprintf(stderr, "declctl: %s: cannot serialize\n", name);
		goto out;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	err_clear(&e);
	return rc;
}

static void
sign_usage(void)
{
	fprintf(stderr, "usage: declctl sign [--sign-cert FILE --sign-key FILE] "
	    "[-o|--out FILE] FILE\n");
}

int
sign_cmd(struct cli *c, int argc, char **argv)
{
	enum { O_SIGN_CERT = CLI_OPT_CMD_BASE, O_SIGN_KEY };
	static const struct option lo[] = {
		CLI_COMMON_OPTIONS,
		{ "sign-cert", required_argument, NULL, O_SIGN_CERT },
		{ "sign-key", required_argument, NULL, O_SIGN_KEY },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct dsig_signer *s = NULL;
	const char *outf = NULL;
	char *in = NULL, *out = NULL;
	size_t len, olen;
	int ch, rc = CLI_EXIT_FAIL;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		switch (ch) {
		case O_SIGN_CERT: c->sign_cert = optarg; break;
		case O_SIGN_KEY: c->sign_key = optarg; break;
		case 'o': outf = optarg; break;
		default:
			if (cli_common_opt(c, ch, optarg) < 0) {
				sign_usage();
				return CLI_EXIT_USAGE;
			}
		}
	}
	if (c->help) {
		sign_usage();
		return CLI_EXIT_OK;
	}
	if (optind + 1 != argc) {
		sign_usage();
		return CLI_EXIT_USAGE;
	}
	if (cli_finish(c) < 0)
		return CLI_EXIT_USAGE;
	if ((s = sign_load(c)) == NULL)
		goto done;
	if (cli_read_file(argv[optind], &in, &len) < 0 ||
	    sign_buffer(s, in, len, argv[optind], &out, &olen) < 0)
		goto done;
	if (outf != NULL && strcmp(outf, "-") != 0) {
		if (cli_write_atomic(outf, out, olen, 0644, 1) < 0)
			goto done;
	} else if (fwrite(out, 1, olen, stdout) != olen || fflush(stdout) != 0) {
		fprintf(stderr, "declctl: write error on stdout\n");
		goto done;
	}
	rc = CLI_EXIT_OK;
done:
	free(in);
	free(out);
	dsig_signer_free(s);
	return rc;
}
