#include "cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "cli.h"

static void
cert_ssl_error(const char *what)
{
	unsigned long ec;
	char buf[256];

	fprintf(stderr, "declctl: %s", what);
	while ((ec = ERR_get_error()) != 0) {
		ERR_error_string_n(ec, buf, sizeof(buf));
		fprintf(stderr, ": %s", buf);
	}
	fputc('\n', stderr);
}

EVP_PKEY *
cert_keygen(int rsa_bits)
{
	EVP_PKEY *k;

	if (rsa_bits == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (rsa_bits < 2048 || rsa_bits > 8192) {
		fprintf(stderr, "declctl: RSA size %d: want 2048..8192\n", rsa_bits);
		return NULL;
	} else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)rsa_bits);
	if (k == NULL)
		cert_ssl_error("key generation failed");
	return k;
}

static int
cert_name_add(X509_NAME *n, int nid, const char *v)
{
	if (v == NULL || *v == '\0')
		return 0;
	return X509_NAME_add_entry_by_NID(n, nid, MBSTRING_UTF8,
	    (const unsigned char *)v, -1, -1, 0) == 1 ? 0 : -1;
}

static int
cert_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ex = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok;

	if (ex == NULL)
		return -1;
	ok = X509_add_ext(x, ex, -1);
	X509_EXTENSION_free(ex);
	return ok == 1 ? 0 : -1;
}

static int
cert_extensions(const struct cert_spec *s, X509 *x, X509 *issuer, int rsa)
{
	X509V3_CTX ctx;
	const char *ku;

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (cert_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    cert_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0)
		return -1;
	switch (s->kind) {
	case CERT_CA:
		return cert_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
		    cert_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ?
		    -1 : 0;
	case CERT_SIGNER:
		return cert_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
		    cert_ext(x, &ctx, NID_key_usage,
		    "critical,digitalSignature,nonRepudiation") < 0 ? -1 : 0;
	case CERT_SERVER:
	case CERT_CLIENT:
		ku = rsa ? "critical,digitalSignature,keyEncipherment" :
		    "critical,digitalSignature";
		if (cert_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
		    cert_ext(x, &ctx, NID_key_usage, ku) < 0 ||
		    cert_ext(x, &ctx, NID_ext_key_usage,
		    s->kind == CERT_SERVER ? "serverAuth,clientAuth" : "clientAuth") < 0)
			return -1;
		if (s->kind == CERT_SERVER && s->san != NULL &&
		    cert_ext(x, &ctx, NID_subject_alt_name, s->san) < 0)
			return -1;
		return 0;
	}
	return -1;
}

static int
cert_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int rc = -1;

	if (bn == NULL)
		return -1;
	do {
		if (BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1)
			goto out;
	} while (BN_is_zero(bn));
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

X509 *
cert_make(const struct cert_spec *s, EVP_PKEY *key, X509 *issuer,
    EVP_PKEY *issuer_key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	long days = s->days > 0 ? s->days : CERT_DEFAULT_DAYS;
	int ok = 0;

	if (x == NULL || name == NULL)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 || cert_serial(x) < 0)
		goto out;
	if (cert_name_add(name, NID_organizationName, s->o) < 0 ||
	    cert_name_add(name, NID_commonName, s->cn) < 0 ||
	    cert_name_add(name, NID_serialNumber, s->party) < 0 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name) != 1)
		goto out;
	if (s->expired) {
		if (X509_time_adj_ex(X509_getm_notBefore(x), (int)-(days + 1), 0,
		    NULL) == NULL ||
		    X509_time_adj_ex(X509_getm_notAfter(x), -1, 0, NULL) == NULL)
			goto out;
	} else if (X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, -3600, NULL) == NULL)
		goto out;
	if (X509_set_pubkey(x, key) != 1 ||
	    cert_extensions(s, x, issuer, EVP_PKEY_is_a(key, "RSA")) < 0)
		goto out;
	if (X509_sign(x, issuer_key, EVP_sha256()) <= 0)
		goto out;
	ok = 1;
out:
	X509_NAME_free(name);
	if (!ok) {
		cert_ssl_error("certificate building failed");
		X509_free(x);
		x = NULL;
	}
	return x;
}

int
cert_path(char *out, size_t cap, const char *dir, const char *name,
    const char *ext)
{
	if (snprintf(out, cap, "%s/%s%s", dir, name, ext) >= (int)cap) {
		fprintf(stderr, "declctl: %s/%s%s: path too long\n", dir, name, ext);
		return -1;
	}
	return 0;
}

int
cert_pair_exists(const char *dir, const char *name)
{
	static const char *exts[] = { ".pem", ".key" };
	char p[4096];
	size_t i;
	int found = 0;

	for (i = 0; i < 2; i++) {
		if (cert_path(p, sizeof(p), dir, name, exts[i]) < 0)
			return 1;
		if (access(p, F_OK) == 0) {
			fprintf(stderr, "declctl: %s exists (use --force to replace)\n", p);
			found = 1;
		}
	}
	return found;
}

int
cert_pem(X509 *x, X509_CRL *crl, char **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;

	*out = NULL;
	if (b == NULL)
		return -1;
	if ((crl != NULL ? PEM_write_bio_X509_CRL(b, crl) :
	    PEM_write_bio_X509(b, x)) != 1)
		goto out;
	n = BIO_get_mem_data(b, &data);
	if (n <= 0 || (*out = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(*out, data, (size_t)n);
	*len = (size_t)n;
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

static int
cert_key_pem(EVP_PKEY *k, char **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;

	*out = NULL;
	if (b == NULL)
		return -1;
	if (PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	n = BIO_get_mem_data(b, &data);
	if (n <= 0 || (*out = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(*out, data, (size_t)n);
	*len = (size_t)n;
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

int
cert_write_pair(const char *dir, const char *name, X509 *x, EVP_PKEY *k)
{
	char p[4096], *pem = NULL, *kpem = NULL;
	size_t plen = 0, klen = 0;
	int rc = -1;

	if (cert_pem(x, NULL, &pem, &plen) < 0 || cert_key_pem(k, &kpem, &klen) < 0) {
		cert_ssl_error("PEM encoding failed");
		goto out;
	}
	/* the key first: a certificate never exists without its key */
	if (cert_path(p, sizeof(p), dir, name, ".key") < 0 ||
	    cli_write_atomic(p, kpem, klen, 0600, 1) < 0)
		goto out;
	if (cert_path(p, sizeof(p), dir, name, ".pem") < 0 ||
	    cli_write_atomic(p, pem, plen, 0644, 1) < 0)
		goto out;
	rc = 0;
out:
	if (kpem != NULL)
		OPENSSL_cleanse(kpem, klen);
	free(kpem);
	free(pem);
	return rc;
}

X509 *
cert_load(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x = NULL;

	if (b != NULL)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL) {
		char what[4200];

		snprintf(what, sizeof(what), "%s: no PEM certificate", path);
		cert_ssl_error(what);
	}
	return x;
}

int
cert_load_pair(const char *dir, const char *name, X509 **x, EVP_PKEY **k)
{
	char p[4096];
	BIO *b = NULL;

	*x = NULL;
	*k = NULL;
	if (cert_path(p, sizeof(p), dir, name, ".pem") < 0 ||
	    (*x = cert_load(p)) == NULL)
		goto fail;
	if (cert_path(p, sizeof(p), dir, name, ".key") < 0)
		goto fail;
	b = BIO_new_file(p, "r");
	if (b == NULL || (*k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
		char what[4200];

		snprintf(what, sizeof(what), "%s: no PEM private key", p);
		cert_ssl_error(what);
		goto fail;
	}
	if (X509_check_private_key(*x, *k) != 1) {
		fprintf(stderr, "declctl: %s/%s: key does not match certificate\n",
		    dir, name);
		goto fail;
	}
	BIO_free(b);
	return 0;
fail:
	BIO_free(b);
	X509_free(*x);
	EVP_PKEY_free(*k);
	*x = NULL;
	*k = NULL;
	return -1;
}

int
cert_name_ok(const char *opt, const char *n)
{
	if (n == NULL || *n == '\0' || *n == '.' || strchr(n, '/') != NULL ||
	    strlen(n) > 100) {
		fprintf(stderr, "declctl: %s: want a plain name (no '/')\n", opt);
		return -1;
	}
	return 0;
}
