/* declctl pki: a demo PKI (init), one more certificate (issue), and the
 * CRL commands (revoke, crl: in crl.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "cert.h"
#include "cli.h"
#include "crl.h"

#define PKI_PARTY_DEFAULT "GB000000000001"
#define PKI_OFFICER_DEFAULT "OFF0001"

enum { PKI_NONE, PKI_PARTY, PKI_OFFICER };

struct pki_item {
	const char *name;
	const char *issuer;     /* NULL = self-signed */
	enum cert_kind kind;
	int rsa_bits;           /* 0 = ECDSA P-256 */
	const char *cn, *o;
	int who;                /* PKI_PARTY: serialNumber = --party ... */
	const char *san;
};

/* Issuers come before what they issue. */
static const struct pki_item pki_demo[] = {
	{ "ca", NULL, CERT_CA, 0, "declared demo CA", "declared demo", PKI_NONE, NULL },
	{ "enterprise-ca", NULL, CERT_CA, 0, "declared demo enterprise CA",
	  "declared demo", PKI_NONE, NULL },
	{ "officer-ca", NULL, CERT_CA, 0, "declared demo officer CA",
	  "declared demo", PKI_NONE, NULL },
	{ "signing-ca", NULL, CERT_CA, 0, "declared demo signing CA",
	  "declared demo", PKI_NONE, NULL },
	{ "server", "ca", CERT_SERVER, 0, "localhost", NULL, PKI_NONE,
	  "DNS:localhost,IP:127.0.0.1" },
	{ "acksign", "ca", CERT_SIGNER, 0, "declared acknowledgement signer",
	  "declared demo", PKI_NONE, NULL },
	{ "enterprise", "enterprise-ca", CERT_CLIENT, 0, "Demo Trader Ltd",
	  "Demo Trader Ltd", PKI_PARTY, NULL },
	{ "enterprise-sign", "signing-ca", CERT_SIGNER, 2048, "Demo Trader Ltd",
	  "Demo Trader Ltd", PKI_PARTY, NULL },
	{ "officer", "officer-ca", CERT_CLIENT, 0, "Officer One",
	  "declared demo customs", PKI_OFFICER, NULL },
};
#define PKI_N (sizeof(pki_demo) / sizeof(pki_demo[0]))

/* Client configurations written next to the keys: relative paths in them
 * resolve against DIR. */
static const char *pki_confs[][2] = {
	{ "declctl.conf",
	  "# declctl configuration for the demo enterprise (declctl pki init)\n"
	  "url = https://127.0.0.1:8443\n"
	  "cert = enterprise.pem\nkey = enterprise.key\ncacert = ca.pem\n"
	  "sign_cert = enterprise-sign.pem\nsign_key = enterprise-sign.key\n"
	  "trusted_ca = ca.pem\n" },
	{ "officer.conf",
	  "# declctl configuration for the demo officer (declctl pki init)\n"
	  "url = https://127.0.0.1:8443\n"
	  "cert = officer.pem\nkey = officer.key\ncacert = ca.pem\n"
	  "trusted_ca = ca.pem\n" },
};

static void
pki_usage(void)
{
	fprintf(stderr,
	    "usage: declctl pki init DIR [--party ID] [--officer ID] [--force]\n"
	    "       declctl pki issue DIR --ca NAME --party ID --out NAME [--cn NAME]\n"
	    "           [--kind client|server|signer] [--rsa BITS | --ec] [--days N]\n"
	    "           [--expired] [--force]\n"
	    "       declctl pki revoke DIR --ca NAME --cert FILE\n"
	    "       declctl pki crl DIR --ca NAME\n");
}

static int
pki_mkdir(const char *dir)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "declctl: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int
pki_init(int argc, char **argv)
{
	enum { O_PARTY = CLI_OPT_CMD_BASE, O_OFFICER, O_FORCE };
	static const struct option lo[] = {
		{ "party", required_argument, NULL, O_PARTY },
		{ "officer", required_argument, NULL, O_OFFICER },
		{ "force", no_argument, NULL, O_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *party = PKI_PARTY_DEFAULT, *officer = PKI_OFFICER_DEFAULT, *dir;
	X509 *x[PKI_N] = { NULL };
	EVP_PKEY *k[PKI_N] = { NULL };
	char p[4096];
	size_t i, j;
	int ch, force = 0, rc = CLI_EXIT_FAIL, exists = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case O_PARTY: party = optarg; break;
		case O_OFFICER: officer = optarg; break;
		case O_FORCE: force = 1; break;
		case 'h': pki_usage(); return CLI_EXIT_OK;
		default: pki_usage(); return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || *party == '\0' || *officer == '\0') {
		pki_usage();
		return CLI_EXIT_USAGE;
	}
	dir = argv[optind];
	if (pki_mkdir(dir) < 0)
		return CLI_EXIT_FAIL;
	if (!force) {
		for (i = 0; i < PKI_N && !exists; i++)
			exists = cert_pair_exists(dir, pki_demo[i].name);
		for (i = 0; i < 2 && !exists; i++) {
			if (cert_path(p, sizeof(p), dir, pki_confs[i][0], "") < 0)
				return CLI_EXIT_FAIL;
			if (access(p, F_OK) == 0) {
				fprintf(stderr, "declctl: %s exists (use --force to replace)\n", p);
				exists = 1;
			}
		}
		if (exists)
			return CLI_EXIT_FAIL;
	}
	for (i = 0; i < PKI_N; i++) {
		const struct pki_item *it = &pki_demo[i];
		struct cert_spec s = { it->kind, it->cn, it->o,
			it->who == PKI_PARTY ? party : it->who == PKI_OFFICER ? officer : NULL,
			it->san, 0, 0 };
		X509 *ix = NULL;
		EVP_PKEY *ik = NULL;

		for (j = 0; it->issuer != NULL && j < i; j++)
			if (strcmp(pki_demo[j].name, it->issuer) == 0) {
				ix = x[j];
				ik = k[j];
			}
		if ((k[i] = cert_keygen(it->rsa_bits)) == NULL)
			goto out;
		if ((x[i] = cert_make(&s, k[i], ix, ik != NULL ? ik : k[i])) == NULL)
			goto out;
		if (cert_write_pair(dir, it->name, x[i], k[i]) < 0)
			goto out;
	}
	for (i = 0; i < 2; i++)
		if (cert_path(p, sizeof(p), dir, pki_confs[i][0], "") < 0 ||
		    cli_write_atomic(p, pki_confs[i][1], strlen(pki_confs[i][1]),
		    0644, 1) < 0)
			goto out;
	printf("%s: demo PKI written (enterprise %s, officer %s)\n", dir, party,
	    officer);
	rc = CLI_EXIT_OK;
out:
	for (i = 0; i < PKI_N; i++) {
		X509_free(x[i]);
		EVP_PKEY_free(k[i]);
	}
	return rc;
}

static int
pki_kind(const char *s, enum cert_kind *kind)
{
	if (strcmp(s, "client") == 0)
		*kind = CERT_CLIENT;
	else if (strcmp(s, "server") == 0)
		*kind = CERT_SERVER;
	else if (strcmp(s, "signer") == 0)
		*kind = CERT_SIGNER;
	else {
		fprintf(stderr, "declctl: --kind: want client, server or signer\n");
		return -1;
	}
	return 0;
}

static int
pki_issue(int argc, char **argv)
{
	enum { O_CA = CLI_OPT_CMD_BASE, O_PARTY, O_CN, O_RSA, O_EC, O_DAYS,
	    O_EXPIRED, O_OUT, O_KIND, O_FORCE };
	static const struct option lo[] = {
		{ "ca", required_argument, NULL, O_CA },
		{ "party", required_argument, NULL, O_PARTY },
		{ "cn", required_argument, NULL, O_CN },
		{ "rsa", required_argument, NULL, O_RSA },
		{ "ec", no_argument, NULL, O_EC },
		{ "days", required_argument, NULL, O_DAYS },
		{ "expired", no_argument, NULL, O_EXPIRED },
		{ "out", required_argument, NULL, O_OUT },
		{ "kind", required_argument, NULL, O_KIND },
		{ "force", no_argument, NULL, O_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *ca = NULL, *party = NULL, *cn = NULL, *out = NULL, *dir;
	struct cert_spec s = { CERT_CLIENT, NULL, NULL, NULL, NULL, 0, 0 };
	int ch, rsa = -1, force = 0, kind_set = 0, rc = CLI_EXIT_FAIL;
	X509 *cax = NULL, *x = NULL;
	EVP_PKEY *cak = NULL, *k = NULL;
	long long n;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case O_CA: ca = optarg; break;
		case O_PARTY: party = optarg; break;
		case O_CN: cn = optarg; break;
		case O_OUT: out = optarg; break;
		case O_EC: rsa = 0; break;
		case O_EXPIRED: s.expired = 1; break;
		case O_FORCE: force = 1; break;
		case O_RSA:
			if ((n = cli_parse_num(optarg, 8192)) < 2048) {
				fprintf(stderr, "declctl: --rsa: want 2048..8192\n");
				return CLI_EXIT_USAGE;
			}
			rsa = (int)n;
			break;
		case O_DAYS:
			if ((n = cli_parse_num(optarg, 36500)) <= 0) {
				fprintf(stderr, "declctl: --days: want 1..36500\n");
				return CLI_EXIT_USAGE;
			}
			s.days = (long)n;
			break;
		case O_KIND:
			if (pki_kind(optarg, &s.kind) < 0)
				return CLI_EXIT_USAGE;
			kind_set = 1;
			break;
		case 'h': pki_usage(); return CLI_EXIT_OK;
		default: pki_usage(); return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || ca == NULL || party == NULL || *party == '\0' ||
	    out == NULL) {
		pki_usage();
		return CLI_EXIT_USAGE;
	}
	if (cert_name_ok("--ca", ca) < 0 || cert_name_ok("--out", out) < 0)
		return CLI_EXIT_USAGE;
	dir = argv[optind];
	/* what the CA issues, unless --kind says otherwise */
	if (!kind_set)
		s.kind = strcmp(ca, "signing-ca") == 0 || strcmp(ca, "ca") == 0 ?
		    CERT_SIGNER : CERT_CLIENT;
	if (rsa < 0)
		rsa = strcmp(ca, "signing-ca") == 0 ? 2048 : 0;
	s.party = party;
	s.cn = cn != NULL ? cn : party;
	s.o = cn != NULL ? cn : NULL;
	if (s.kind == CERT_SERVER)
		s.san = "DNS:localhost,IP:127.0.0.1";
	if (!force && cert_pair_exists(dir, out))
		return CLI_EXIT_FAIL;
	if (cert_load_pair(dir, ca, &cax, &cak) < 0)
		goto done;
	if (X509_check_ca(cax) < 1) {
		fprintf(stderr, "declctl: %s/%s.pem is not a CA certificate\n", dir, ca);
		goto done;
	}
	if ((k = cert_keygen(rsa)) == NULL || (x = cert_make(&s, k, cax, cak)) == NULL ||
	    cert_write_pair(dir, out, x, k) < 0)
		goto done;
	printf("%s/%s.pem: issued by %s for %s%s\n", dir, out, ca, party,
	    s.expired ? " (expired)" : "");
	rc = CLI_EXIT_OK;
done:
	X509_free(cax);
	EVP_PKEY_free(cak);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

int
pki_cmd(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		c->help = 1;
	if (argc < 2 || c->help) {
		pki_usage();
		return c->help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "init") == 0)
		return pki_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "issue") == 0)
		return pki_issue(argc - 1, argv + 1);
	if (strcmp(argv[1], "revoke") == 0)
		return crl_revoke_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "crl") == 0)
		return crl_crl_cmd(argc - 1, argv + 1);
	fprintf(stderr, "declctl: pki: unknown command %s\n", argv[1]);
	pki_usage();
	return CLI_EXIT_USAGE;
}
