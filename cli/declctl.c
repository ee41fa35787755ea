/* declctl: the command-line client of declared, for enterprises (sign,
 * submit, pull acknowledgements), officers (search, show, decide) and
 * operators (a demo PKI).  See declctl(1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <openssl/crypto.h>

#include "cli.h"

#define DECLCTL_VERSION "1.0"

struct declctl_cmd {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *help;
};

static const struct declctl_cmd declctl_cmds[] = {
	{ "pki", pki_cmd, "pki init|issue|revoke|crl DIR ...  demo PKI" },
	{ "sign", sign_cmd, "sign [--out FILE] FILE             sign a declaration" },
	{ "submit", submit_cmd, "submit [--sign] [--out DIR] FILE... submit declarations" },
	{ "verify", verify_cmd, "verify --trusted-ca CA FILE...     verify signed documents" },
	{ "status", query_status_cmd, "status ID                          a declaration's status" },
	{ "show", query_status_cmd, "show [--xml] ID                    status and history, or the signed XML" },
	{ "acks", acks_cmd, "acks --out DIR [--follow] ...      pull acknowledgements" },
	{ "search", query_search_cmd, "search [--status S] ...            find declarations (officers)" },
	{ "decide", query_decide_cmd, "decide ID --action A --reason R    take a decision (officers)" },
};
#define DECLCTL_NCMDS (sizeof(declctl_cmds) / sizeof(declctl_cmds[0]))

static void
declctl_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: declctl [common options] COMMAND [options] [args]\n\n"
	    "commands:\n");
	for (i = 0; i < DECLCTL_NCMDS; i++)
		fprintf(f, "  %s\n", declctl_cmds[i].help);
	fprintf(f, "\ncommon options (before or after COMMAND):\n"
	    "  --url URL        daemon base URL (default %s)\n"
	    "  --cert FILE      TLS client certificate (PEM)\n"
	    "  --key FILE       its private key (PEM)\n"
	    "  --cacert FILE    CA bundle that issued the server certificate\n"
	    "  --config FILE    configuration file (default $DECLCTL_CONF,\n"
	    "                   else ~/.config/declctl.conf)\n"
	    "  --timeout S      seconds per request (default 60)\n"
	    "  --verbose        more output (twice: libcurl's trace)\n"
	    "\nSee declctl(1).\n", CLI_DEFAULT_URL);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_OPTIONS,
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli c;
	size_t i;
	int ch, rc = CLI_EXIT_USAGE;

	cli_init(&c);
	/* "+": stop at the command word; the command parses the rest */
	while ((ch = getopt_long(argc, argv, "+hV", lo, NULL)) != -1) {
		if (ch == 'h' || ch == CLI_OPT_HELP) {
			declctl_usage(stdout);
			return CLI_EXIT_OK;
		}
		if (ch == 'V') {
			printf("declctl %s (%s, %s)\n", DECLCTL_VERSION,
			    OpenSSL_version(OPENSSL_VERSION), curl_version());
			return CLI_EXIT_OK;
		}
		if (cli_common_opt(&c, ch, optarg) < 0) {
			declctl_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		declctl_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		declctl_usage(stdout);
		return CLI_EXIT_OK;
	}
	for (i = 0; i < DECLCTL_NCMDS; i++)
		if (strcmp(argv[optind], declctl_cmds[i].name) == 0)
			break;
	if (i == DECLCTL_NCMDS) {
		fprintf(stderr, "declctl: unknown command '%s'\n", argv[optind]);
		declctl_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "declctl: libcurl initialisation failed\n");
		return CLI_EXIT_FAIL;
	}
	xmlInitParser();
	rc = declctl_cmds[i].fn(&c, argc - optind, argv + optind);
	cli_free(&c);
	xmlCleanupParser();
	curl_global_cleanup();
	return rc;
}
