/* cli: what every declctl command shares: the common options (--url,
 * --cert, --key, --cacert, --config), the configuration file
 * (~/.config/declctl.conf or $DECLCTL_CONF), and small file helpers.
 * Every command is a function `X_cmd(struct cli *, argc, argv)` that
 * returns the process exit status; argv[0] is the command's own name. */
#ifndef DECLCTL_CLI_H
#define DECLCTL_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <libxml/tree.h>

#define CLI_DEFAULT_URL "https://127.0.0.1:8443"
#define CLI_MAX_FILE (64u << 20) /* largest file read or body sent */
#define CLI_MAX_STRS 32          /* resolved config paths kept */
#define CLI_MAX_CONF (1u << 20)  /* configuration file size */

/* Exit statuses: 0 ok, 1 failure of the work (a file, a request, a
 * verification), 2 usage or configuration error. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* getopt_long values of the common options (outside the char range). */
enum {
	CLI_OPT_URL = 0x100,
	CLI_OPT_CERT,
	CLI_OPT_KEY,
	CLI_OPT_CACERT,
	CLI_OPT_CONFIG,
	CLI_OPT_VERBOSE,
	CLI_OPT_TIMEOUT,
	CLI_OPT_HELP,
	CLI_OPT_CMD_BASE = 0x200 /* commands number their long-only options from here */
};

/* Put this first in a command's struct option table. */
#define CLI_COMMON_OPTIONS                                             \
	{ "url", required_argument, NULL, CLI_OPT_URL },               \
	{ "cert", required_argument, NULL, CLI_OPT_CERT },             \
	{ "key", required_argument, NULL, CLI_OPT_KEY },               \
	{ "cacert", required_argument, NULL, CLI_OPT_CACERT },         \
	{ "config", required_argument, NULL, CLI_OPT_CONFIG },         \
	{ "verbose", no_argument, NULL, CLI_OPT_VERBOSE },             \
	{ "timeout", required_argument, NULL, CLI_OPT_TIMEOUT },       \
	{ "help", no_argument, NULL, CLI_OPT_HELP }

/* Settings: command line first, then the configuration file, then the
 * defaults.  The const char * values point into argv or into strs[]. */
struct cli {
	const char *url, *cert, *key, *cacert;
	const char *sign_cert, *sign_key, *trusted_ca;
	const char *config;  /* --config; else $DECLCTL_CONF; else ~/.config */
	int verbose;
	long timeout_s;      /* per request, default 60 */
	int help;            /* --help seen: the command prints its usage */
	int conf_loaded;
	int dsig_ready;
	char *strs[CLI_MAX_STRS];
	size_t nstrs;
};

void cli_init(struct cli *c);
void cli_free(struct cli *c);

/* Handles one common option from a command's getopt_long loop.  Returns 0
 * when ch was a common option, -1 otherwise (the caller's usage error). */
int cli_common_opt(struct cli *c, int ch, const char *arg);

/* Loads the configuration file once and fills every setting the command
 * line left unset (url=, cert=, key=, cacert=, sign_cert=, sign_key=,
 * trusted_ca=, before any section header or in [declctl]; other sections
 * are ignored; relative paths are
 * taken relative to the file's directory).  A missing default file is
 * fine; a missing --config or $DECLCTL_CONF file is an error.  Prints the
 * problem and returns -1 on error. */
int cli_finish(struct cli *c);

/* dsig_global_init once (and xmlsec's shutdown from cli_free). */
int cli_dsig_init(struct cli *c);

/* Reads a whole file ("-" = stdin) of at most CLI_MAX_FILE bytes into a
 * malloc'd NUL-terminated buffer.  Prints the problem and returns -1. */
int cli_read_file(const char *path, char **buf, size_t *len);

/* Writes buf to path through a temporary file in the same directory and
 * a rename: readers see the old file or the new one.  mode is applied to
 * the new file.  durable: fsync the file before the rename and the
 * directory after it, so that the new file survives a crash.  Prints the
 * problem and returns -1. */
int cli_write_atomic(const char *path, const void *buf, size_t len, int mode,
    int durable);

/* Parses XML from memory without network access, entity substitution or
 * DTD loading; a document with a DOCTYPE is refused.  NULL + message. */
xmlDocPtr cli_parse_xml(const char *buf, size_t len, const char *name);

/* Serializes doc (UTF-8, XML declaration) into a malloc'd buffer. */
int cli_dump_xml(xmlDocPtr doc, char **out, size_t *len);

/* Parses a decimal non-negative integer of at most max; -1 if not one. */
long long cli_parse_num(const char *s, long long max);

/* The commands. */
int pki_cmd(struct cli *c, int argc, char **argv);
int sign_cmd(struct cli *c, int argc, char **argv);
int verify_cmd(struct cli *c, int argc, char **argv);
int submit_cmd(struct cli *c, int argc, char **argv);
int acks_cmd(struct cli *c, int argc, char **argv);
int query_status_cmd(struct cli *c, int argc, char **argv); /* status, show */
int query_search_cmd(struct cli *c, int argc, char **argv);
int query_decide_cmd(struct cli *c, int argc, char **argv);

#endif
