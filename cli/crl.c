#include "crl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "cli.h"

struct crl_entry {
	char serial[80]; /* upper-case hex, as BN_bn2hex writes it */
	long long when;
};

struct crl_list {
	struct crl_entry *v;
	size_t n, cap;
};

static void
crl_usage(void)
{
	fprintf(stderr,
	    "usage: declctl pki revoke DIR --ca NAME --cert FILE\n"
	    "       declctl pki crl DIR --ca NAME\n");
}

static int
crl_push(struct crl_list *l, const char *serial, long long when)
{
	if (l->n >= CRL_MAX_REVOKED) {
		fprintf(stderr, "declctl: more than %d revoked certificates\n",
		    CRL_MAX_REVOKED);
		return -1;
	}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct crl_entry *nv = realloc(l->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	snprintf(l->v[l->n].serial, sizeof(l->v[l->n].serial), "%s", serial);
	l->v[l->n].when = when;
	l->n++;
	return 0;
}

static int
crl_hex_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 80 && strspn(s, "0123456789ABCDEF") == n;
}

/* Reads path into l; a missing file is an empty list. */
static int
crl_read(const char *path, struct crl_list *l)
{
	FILE *f = fopen(path, "r");
	char line[256], serial[96];
	long long when;
	int lineno = 0, rc = -1;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "declctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (sscanf(line, "%95s %lld", serial, &when) != 2 ||
		    !crl_hex_ok(serial) || when < 0) {
			fprintf(stderr, "declctl: %s:%d: want \"HEXSERIAL UNIXTIME\"\n",
			    path, lineno);
			goto out;
		}
		if (crl_push(l, serial, when) < 0)
			goto out;
	}
	rc = ferror(f) ? -1 : 0;
out:
	fclose(f);
	return rc;
}

static int
crl_write_list(const char *path, const struct crl_list *l)
{
	char *buf = malloc(l->n * 104 + 64), *p;
	size_t i;
	int rc;

	if (buf == NULL)
		return -1;
	p = buf;
	p += sprintf(p, "# revoked serials: HEXSERIAL UNIXTIME\n");
	for (i = 0; i < l->n; i++)
		p += sprintf(p, "%s %lld\n", l->v[i].serial, l->v[i].when);
	rc = cli_write_atomic(path, buf, (size_t)(p - buf), 0644, 1);
	free(buf);
	return rc;
}

static X509_REVOKED *
crl_revoked(const struct crl_entry *en)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = NULL;
	BIGNUM *bn = NULL;
	int ok = 0;

	if (r == NULL || BN_hex2bn(&bn, en->serial) == 0 ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (t = ASN1_TIME_set(NULL, (time_t)en->when)) == NULL ||
	    X509_REVOKED_set_serialNumber(r, sn) != 1 ||
	    X509_REVOKED_set_revocationDate(r, t) != 1)
		goto out;
	ok = 1;
out:
	BN_free(bn);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	if (!ok) {
		X509_REVOKED_free(r);
		r = NULL;
	}
	return r;
}

/* The next CRL number: now in seconds, but always above the number of
 * the CRL already in path (two CRLs in one second stay ordered). */
static int64_t
crl_next_number(const char *path)
{
	int64_t now = (int64_t)time(NULL), prev = 0;
	BIO *b = BIO_new_file(path, "r");
	X509_CRL *old = NULL;
	ASN1_INTEGER *n = NULL;

	if (b != NULL && (old = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL &&
	    (n = X509_CRL_get_ext_d2i(old, NID_crl_number, NULL, NULL)) != NULL &&
	    ASN1_INTEGER_get_int64(&prev, n) != 1)
		prev = 0;
	ERR_clear_error(); /* a missing or unreadable old CRL is fine */
	ASN1_INTEGER_free(n);
	X509_CRL_free(old);
	BIO_free(b);
	return prev >= now ? prev + 1 : now;
}

/* Builds, signs and writes DIR/NAME.crl.pem. */
static int
crl_generate(const char *dir, const char *name, X509 *ca, EVP_PKEY *key,
    const struct crl_list *l)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509_EXTENSION *ex = NULL;
	X509_REVOKED *r;
	X509V3_CTX ctx;
	char path[4096], *pem = NULL;
	size_t i, len;
	int rc = -1;

	if (crl == NULL || t == NULL || num == NULL)
		goto out;
	if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1 ||
	    X509_gmtime_adj(t, 0) == NULL || X509_CRL_set1_lastUpdate(crl, t) != 1 ||
	    X509_time_adj_ex(t, CRL_NEXT_UPDATE_DAYS, 0, NULL) == NULL ||
	    X509_CRL_set1_nextUpdate(crl, t) != 1)
		goto out;
	for (i = 0; i < l->n; i++) {
		if ((r = crl_revoked(&l->v[i])) == NULL)
			goto out;
		if (X509_CRL_add0_revoked(crl, r) != 1) {
			X509_REVOKED_free(r);
			goto out;
		}
	}
	if (X509_CRL_sort(crl) != 1)
		goto out;
	X509V3_set_ctx(&ctx, ca, NULL, NULL, crl, 0);
	ex = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier,
	    "keyid:always");
	if (ex == NULL || X509_CRL_add_ext(crl, ex, -1) != 1)
		goto out;
	if (cert_path(path, sizeof(path), dir, name, ".crl.pem") < 0 ||
	    ASN1_INTEGER_set_int64(num, crl_next_number(path)) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1)
		goto out;
	if (X509_CRL_sign(crl, key, EVP_sha256()) <= 0)
		goto out;
	if (cert_pem(NULL, crl, &pem, &len) < 0 ||
	    cli_write_atomic(path, pem, len, 0644, 1) < 0)
		goto out;
	printf("%s: %zu revoked\n", path, l->n);
	rc = 0;
out:
	if (rc < 0 && ERR_peek_error() != 0) {
		char buf[256];

		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		fprintf(stderr, "declctl: CRL: %s\n", buf);
		ERR_clear_error();
	}
	free(pem);
	X509_EXTENSION_free(ex);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return rc;
}

/* Parses "DIR --ca NAME [--cert FILE]"; 1 after --help. */
static int
crl_args(int argc, char **argv, int want_cert, const char **dir,
    const char **ca, const char **cert)
{
	enum { O_CA = CLI_OPT_CMD_BASE, O_CERT };
	static const struct option lo[] = {
		{ "ca", required_argument, NULL, O_CA },
		{ "cert", required_argument, NULL, O_CERT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	*ca = *cert = NULL;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case O_CA: *ca = optarg; break;
		case O_CERT: *cert = optarg; break;
		case 'h': crl_usage(); return 1;
		default: crl_usage(); return -1;
		}
	}
	if (optind + 1 != argc || *ca == NULL || (want_cert != (*cert != NULL))) {
		crl_usage();
		return -1;
	}
	*dir = argv[optind];
	return cert_name_ok("--ca", *ca);
}

static int
crl_run(int argc, char **argv, int revoke)
{
	const char *dir, *ca, *certf;
	struct crl_list l = { NULL, 0, 0 };
	X509 *cax = NULL, *x = NULL;
	EVP_PKEY *cak = NULL;
	BIGNUM *bn = NULL;
	char path[4096], *hex = NULL;
	size_t i;
	int rc = CLI_EXIT_FAIL, seen = 0;

	if ((rc = crl_args(argc, argv, revoke, &dir, &ca, &certf)) != 0)
		return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	rc = CLI_EXIT_FAIL;
	if (cert_load_pair(dir, ca, &cax, &cak) < 0 ||
	    cert_path(path, sizeof(path), dir, ca, ".revoked") < 0 ||
	    crl_read(path, &l) < 0)
		goto out;
	if (revoke) {
		if ((x = cert_load(certf)) == NULL)
			goto out;
		if (X509_check_issued(cax, x) != X509_V_OK ||
		    X509_verify(x, X509_get0_pubkey(cax)) != 1) {
			fprintf(stderr, "declctl: %s was not issued by %s/%s.pem\n",
			    certf, dir, ca);
			goto out;
		}
		if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL ||
		    (hex = BN_bn2hex(bn)) == NULL || !crl_hex_ok(hex))
			goto out;
		for (i = 0; i < l.n; i++)
			seen |= strcmp(l.v[i].serial, hex) == 0;
		if (seen) {
			printf("%s: serial %s already revoked\n", certf, hex);
		} else if (crl_push(&l, hex, (long long)time(NULL)) < 0 ||
		    crl_write_list(path, &l) < 0) {
			goto out;
		} else {
			printf("%s: serial %s revoked\n", certf, hex);
		}
	}
	if (crl_generate(dir, ca, cax, cak, &l) < 0)
		goto out;
	rc = CLI_EXIT_OK;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	X509_free(cax);
	EVP_PKEY_free(cak);
	free(l.v);
	return rc;
}

int
crl_revoke_cmd(int argc, char **argv)
{
	return crl_run(argc, argv, 1);
}

int
crl_crl_cmd(int argc, char **argv)
{
	return crl_run(argc, argv, 0);
}
