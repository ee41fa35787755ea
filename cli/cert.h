/* cert: key generation, X.509 certificate building and PEM files for
 * `declctl pki`, all with the OpenSSL 3 API (no shelling out).  Problems
 * are printed to stderr with OpenSSL's error queue. */
#ifndef DECLCTL_CERT_H
#define DECLCTL_CERT_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define CERT_DEFAULT_DAYS 825

enum cert_kind {
	CERT_CA,     /* CA:TRUE, keyCertSign + cRLSign */
	CERT_SERVER, /* serverAuth, subjectAltName from san */
	CERT_CLIENT, /* clientAuth (TLS client of an enterprise or officer) */
	CERT_SIGNER  /* digitalSignature + nonRepudiation (XML-DSig) */
};

struct cert_spec {
	enum cert_kind kind;
	const char *cn;      /* required */
	const char *o;       /* NULL = none */
	const char *party;   /* subject serialNumber, NULL = none */
	const char *san;     /* CERT_SERVER: "DNS:localhost,IP:127.0.0.1" */
	long days;           /* validity; 0 = CERT_DEFAULT_DAYS */
	int expired;         /* valid for `days` but ended yesterday */
};

/* rsa_bits 0: ECDSA P-256; else RSA of that size (2048..8192). */
EVP_PKEY *cert_keygen(int rsa_bits);

/* Builds and signs a certificate for key; issuer NULL = self-signed (then
 * issuer_key must be key).  Random positive 128-bit serial; validity from
 * now-1h (or ending yesterday when expired). */
X509 *cert_make(const struct cert_spec *s, EVP_PKEY *key, X509 *issuer,
    EVP_PKEY *issuer_key);

/* "dir/name.ext" into out; -1 (printed) if it does not fit. */
int cert_path(char *out, size_t cap, const char *dir, const char *name,
    const char *ext);

/* 0 when n is a plain file name inside DIR (no '/', not hidden, at most
 * 100 bytes); else prints "opt: ..." and returns -1. */
int cert_name_ok(const char *opt, const char *n);

/* 1 when dir/name.pem or dir/name.key exists (and prints which). */
int cert_pair_exists(const char *dir, const char *name);

/* Writes dir/name.pem (0644) and dir/name.key (0600, PKCS#8). */
int cert_write_pair(const char *dir, const char *name, X509 *x, EVP_PKEY *k);

/* Reads dir/name.pem and dir/name.key and checks that they match. */
int cert_load_pair(const char *dir, const char *name, X509 **x, EVP_PKEY **k);

/* Reads the first certificate of a PEM file. */
X509 *cert_load(const char *path);

/* PEM of x (or of a CRL when crl != NULL) into a malloc'd buffer. */
int cert_pem(X509 *x, X509_CRL *crl, char **out, size_t *len);

#endif
