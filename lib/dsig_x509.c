/* dsig_x509: signer certificates from KeyInfo and their chain. */
#include "dsig_x509.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "dsig_check.h"

#define DSIG_X509_MAX_CERTS 8          /* X509Certificate elements used */
#define DSIG_X509_MAX_B64 (64 * 1024)  /* base64 text of one certificate */
#define DSIG_X509_MAX_PEM 4096         /* objects in a CA or CRL file */
#define DSIG_X509_CACHE 256            /* decoded certificates kept */

struct dsig_x509_slot {
	unsigned char md[SHA256_DIGEST_LENGTH];
	X509 *x;
	unsigned long used;
	time_t verified_until;   /* chain verified now; 0 = not known */
	int described;           /* who is x's dsig_x509_describe */
	struct dsig_result who;  /* party, subject, fingerprint */
};

struct dsig_x509_cache {
	pthread_mutex_t mu;
	unsigned long tick;
	unsigned long verified, described;   /* recorded, for tests */
	struct dsig_x509_slot slot[DSIG_X509_CACHE];
};

struct dsig_x509_cache *
dsig_x509_cache_new(void)
{
	struct dsig_x509_cache *c = calloc(1, sizeof(*c));

	if (c != NULL && pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		c = NULL;
	}
	return c;
}

void
dsig_x509_cache_free(struct dsig_x509_cache *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < DSIG_X509_CACHE; i++)
		X509_free(c->slot[i].x);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void
dsig_x509_cache_counts(struct dsig_x509_cache *c, unsigned long *verified,
    unsigned long *described)
{
	pthread_mutex_lock(&c->mu);
	*verified = c->verified;
	*described = c->described;
	pthread_mutex_unlock(&c->mu);
}

/* The cached certificate with this digest (one more reference), or NULL. */
static X509 *
dsig_x509_cache_get(struct dsig_x509_cache *c, const unsigned char *md)
{
	X509 *x = NULL;
	int i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < DSIG_X509_CACHE && x == NULL; i++)
		if (c->slot[i].x != NULL &&
		    memcmp(c->slot[i].md, md, sizeof(c->slot[i].md)) == 0 &&
		    X509_up_ref(c->slot[i].x) == 1) {
			x = c->slot[i].x;
			c->slot[i].used = ++c->tick;
		}
	pthread_mutex_unlock(&c->mu);
	return x;
}

/* Keeps x (one more reference) in place of the least recently used. */
static void
dsig_x509_cache_put(struct dsig_x509_cache *c, const unsigned char *md,
    X509 *x)
{
	X509 *old = NULL;
	int i, lru = 0;

	if (X509_up_ref(x) != 1)
		return;
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < DSIG_X509_CACHE; i++) {
		if (c->slot[i].x != NULL &&
		    memcmp(c->slot[i].md, md, sizeof(c->slot[i].md)) == 0) {
			lru = -1; /* another thread was first */
			break;
		}
		if (c->slot[i].used < c->slot[lru].used)
			lru = i;
	}
	if (lru >= 0) {
		old = c->slot[lru].x;
		memcpy(c->slot[lru].md, md, sizeof(c->slot[lru].md));
		c->slot[lru].x = x;
		c->slot[lru].verified_until = 0;
		c->slot[lru].described = 0;
		c->slot[lru].used = ++c->tick;
		x = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	X509_free(old);
	X509_free(x);
}

/* Value of each byte in base64: 0-63, 64 for the whitespace skipped, 65
 * for '=', 66 for any other byte (a table: the text of a certificate is
 * decoded for every document). */
static const unsigned char dsig_x509_b64tab[256] = {
	66, 66, 66, 66, 66, 66, 66, 66, 66, 64, 64, 66, 66, 64, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	64, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 62, 66, 66, 66, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 66, 66, 66, 65, 66, 66,
	66, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 66, 66, 66, 66, 66,
	66, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
	66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
};

/* Strict base64 (whitespace ignored, '=' only at the end).  Returns the
 * decoded length or -1. */
static long
dsig_x509_b64(const char *s, unsigned char *out, size_t cap)
{
	unsigned long acc = 0;
	size_t n = 0;
	int bits = 0, pad = 0, v;

	for (; *s != '\0'; s++) {
		v = dsig_x509_b64tab[(unsigned char)*s];
		if (v == 64)
			continue;
		if (v == 65) {
			pad++;
			continue;
		}
		if (v == 66 || pad > 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (unsigned char)((acc >> bits) & 0xff);
		}
	}
	if (pad > 2 || bits >= 6 || (acc & ((1UL << bits) - 1)) != 0)
		return -1;
	return (long)n;
}

static X509 *
dsig_x509_decode(xmlNodePtr node, struct dsig_x509_cache *cache,
    struct errs *e)
{
	xmlChar *text = xmlNodeGetContent(node);
	unsigned char md[SHA256_DIGEST_LENGTH], *der = NULL;
	const unsigned char *p;
	X509 *x = NULL;
	size_t len;
	long n;

	len = text ? strlen((const char *)text) : 0;
	if (len == 0 || len > DSIG_X509_MAX_B64) {
		dsig_check_err(e, "SIG_CERT_MISSING", node,
		    "X509Certificate empty or too large");
		goto cleanup;
	}
	der = malloc(len);
	if (der == NULL)
		goto cleanup;
	n = dsig_x509_b64((const char *)text, der, len);
	if (n > 0 && cache != NULL) {
		SHA256(der, (size_t)n, md);
		if ((x = dsig_x509_cache_get(cache, md)) != NULL)
			goto cleanup;
	}
	p = der;
	if (n > 0)
		x = d2i_X509(NULL, &p, n);
	if (x != NULL && p != der + n) {
		X509_free(x);
		x = NULL;
	}
	if (x == NULL)
		dsig_check_err(e, "SIG_CERT_MISSING", node,
		    "X509Certificate is not a valid DER certificate");
	else if (cache != NULL)
		dsig_x509_cache_put(cache, md, x);
cleanup:
	ERR_clear_error();
	free(der);
	xmlFree(text);
	return x;
}

/* Adds x to certs unless the same certificate is there already. */
static int
dsig_x509_push(STACK_OF(X509) *certs, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(certs); i++)
		if (X509_cmp(sk_X509_value(certs, i), x) == 0) {
			X509_free(x);
			return 0;
		}
	if (sk_X509_push(certs, x) <= 0) {
		X509_free(x);
		return -1;
	}
	return 0;
}

STACK_OF(X509) *
dsig_x509_certs(xmlNodePtr key_info, struct dsig_x509_cache *cache,
    struct errs *e)
{
	STACK_OF(X509) *certs;
	xmlNodePtr d, c;
	X509 *x;
	int seen = 0;

	certs = sk_X509_new_null();
	if (certs == NULL) {
		err_add(e, "SIG_CERT_MISSING", 0, "", "out of memory");
		return NULL;
	}
	for (d = key_info ? key_info->children : NULL; d != NULL; d = d->next) {
		if (d->type != XML_ELEMENT_NODE || d->ns == NULL ||
		    !xmlStrEqual(d->ns->href, (const xmlChar *)DSIG_NS) ||
		    !xmlStrEqual(d->name, (const xmlChar *)"X509Data"))
			continue;
		for (c = d->children; c != NULL; c = c->next) {
			if (c->type != XML_ELEMENT_NODE || c->ns == NULL ||
			    !xmlStrEqual(c->ns->href, (const xmlChar *)DSIG_NS) ||
			    !xmlStrEqual(c->name,
			    (const xmlChar *)"X509Certificate"))
				continue;
			if (++seen > DSIG_X509_MAX_CERTS) {
				dsig_check_err(e, "SIG_STRUCTURE", d,
				    "more than %d certificates",
				    DSIG_X509_MAX_CERTS);
				goto fail;
			}
			if ((x = dsig_x509_decode(c, cache, e)) == NULL ||
			    dsig_x509_push(certs, x) < 0)
				goto fail;
		}
	}
	if (sk_X509_num(certs) > 0)
		return certs;
	dsig_check_err(e, "SIG_CERT_MISSING", key_info,
	    "no X509Data/X509Certificate in KeyInfo (KeyValue is not trusted)");
fail:
	sk_X509_pop_free(certs, X509_free);
	return NULL;
}

X509 *
dsig_x509_leaf(STACK_OF(X509) *certs, xmlNodePtr where, struct errs *e)
{
	X509 *leaf = NULL, *a;
	int i, j, n = sk_X509_num(certs), issuer, found = 0;

	for (i = 0; i < n; i++) {
		a = sk_X509_value(certs, i);
		issuer = 0;
		for (j = 0; j < n && !issuer; j++)
			issuer = j != i && X509_check_issued(a,
			    sk_X509_value(certs, j)) == X509_V_OK;
		if (!issuer) {
			leaf = a;
			found++;
		}
	}
	if (found == 1)
		return leaf;
	dsig_check_err(e, "SIG_CERT_UNTRUSTED", where,
	    "cannot tell the signer certificate among %d", n);
	return NULL;
}

int
dsig_x509_verify(X509_STORE *store, int crl, time_t at, X509 *leaf,
    STACK_OF(X509) *certs, xmlNodePtr where, struct errs *e)
{
	X509_STORE_CTX *ctx;
	X509_VERIFY_PARAM *param;
	const char *code = "SIG_CERT_UNTRUSTED";
	int rc = -1, err = X509_V_OK, depth = 0;

	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, certs) != 1) {
		dsig_check_err(e, code, where, "cannot set up chain check");
		goto cleanup;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	if (at != 0)
		X509_VERIFY_PARAM_set_time(param, at);
	if (crl)
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK);
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		depth = X509_STORE_CTX_get_error_depth(ctx);
		if (err == X509_V_ERR_CERT_HAS_EXPIRED ||
		    err == X509_V_ERR_CERT_NOT_YET_VALID)
			code = "SIG_CERT_EXPIRED";
		else if (err == X509_V_ERR_CERT_REVOKED)
			code = "SIG_CERT_REVOKED";
		dsig_check_err(e, code, where, "signer certificate: %s "
		    "(depth %d)", X509_verify_cert_error_string(err), depth);
		goto cleanup;
	}
	if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) != 0 &&
	    (X509_get_key_usage(leaf) &
	    (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0) {
		dsig_check_err(e, code, where,
		    "signer certificate key usage forbids signing");
		goto cleanup;
	}
	rc = 0;
cleanup:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

void
dsig_x509_describe(X509 *cert, struct dsig_result *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	BIO *bio;
	int n;

	dsig_cert_party(cert, out->party, sizeof(out->party));
	out->subject[0] = '\0';
	bio = BIO_new(BIO_s_mem());
	if (bio != NULL && X509_NAME_print_ex(bio, X509_get_subject_name(cert),
	    0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_read(bio, out->subject, (int)sizeof(out->subject) - 1);
		out->subject[n > 0 ? n : 0] = '\0';
	}
	BIO_free(bio);
	out->fingerprint[0] = '\0';
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32)
		for (i = 0; i < mdlen; i++)
			snprintf(out->fingerprint + 2 * i, 3, "%02x", md[i]);
}

static int
dsig_x509_load_pem(X509_STORE *store, const char *file, int want_certs,
    int *count, struct errs *e)
{
	STACK_OF(X509_INFO) *infos = NULL;
	X509_INFO *xi;
	BIO *bio;
	int i, rc = -1;

	*count = 0;
	bio = BIO_new_file(file, "r");
	if (bio == NULL) {
		err_add(e, "DSIG_CONFIG", 0, "", "cannot open %s", file);
		goto cleanup;
	}
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	if (infos == NULL || sk_X509_INFO_num(infos) > DSIG_X509_MAX_PEM) {
		err_add(e, "DSIG_CONFIG", 0, "", "%s: not a usable PEM file",
		    file);
		goto cleanup;
	}
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		xi = sk_X509_INFO_value(infos, i);
		if (want_certs && xi->x509 != NULL) {
			if (X509_STORE_add_cert(store, xi->x509) != 1)
				goto bad;
			(*count)++;
		}
		if (!want_certs && xi->crl != NULL) {
			if (X509_STORE_add_crl(store, xi->crl) != 1)
				goto bad;
			(*count)++;
		}
	}
	if (*count == 0) {
		err_add(e, "DSIG_CONFIG", 0, "", "%s: no %s found", file,
		    want_certs ? "certificate" : "CRL");
		goto cleanup;
	}
	rc = 0;
	goto cleanup;
bad:
	err_add(e, "DSIG_CONFIG", 0, "", "%s: cannot add object %d", file, i);
cleanup:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

X509_STORE *
dsig_x509_store_load(const char *ca_file, const char *crl_file, int *has_crl,
    struct errs *e)
{
	X509_STORE *store;
	int n;

	*has_crl = 0;
	if (ca_file == NULL) {
		err_add(e, "DSIG_CONFIG", 0, "", "no CA file");
		return NULL;
	}
	store = X509_STORE_new();
	if (store == NULL) {
		err_add(e, "DSIG_CONFIG", 0, "", "out of memory");
		return NULL;
	}
	if (dsig_x509_load_pem(store, ca_file, 1, &n, e) < 0)
		goto fail;
	if (crl_file != NULL) {
		if (dsig_x509_load_pem(store, crl_file, 0, &n, e) < 0)
			goto fail;
		*has_crl = 1;
	}
	return store;
fail:
	X509_STORE_free(store);
	return NULL;
}

/* What the cache holds for the certificate x (by identity: the object
 * dsig_x509_cache_get returned): its verified-until time in *until and,
 * when who is not NULL and it has one, its description in who.  -1 when x
 * is not cached (evicted, or another thread's copy), 1 when described. */
static int
dsig_x509_cache_peek(struct dsig_x509_cache *c, const X509 *x,
    time_t *until, struct dsig_result *who)
{
	struct dsig_x509_slot *s;
	int i, rc = -1;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < DSIG_X509_CACHE && rc < 0; i++) {
		s = &c->slot[i];
		if (s->x != x)
			continue;
		*until = s->verified_until;
		rc = who != NULL && s->described;
		if (rc) {
			memcpy(who->party, s->who.party, sizeof(who->party));
			memcpy(who->subject, s->who.subject,
			    sizeof(who->subject));
			memcpy(who->fingerprint, s->who.fingerprint,
			    sizeof(who->fingerprint));
		}
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* Records with x, if still cached, its verified-until time (unless 0) and
 * its description (unless who is NULL). */
static void
dsig_x509_cache_note(struct dsig_x509_cache *c, const X509 *x,
    time_t until, const struct dsig_result *who)
{
	struct dsig_x509_slot *s;
	int i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < DSIG_X509_CACHE; i++) {
		s = &c->slot[i];
		if (s->x != x)
			continue;
		if (until != 0) {
			s->verified_until = until;
			c->verified++;
		}
		if (who != NULL) {
			memcpy(s->who.party, who->party, sizeof(s->who.party));
			memcpy(s->who.subject, who->subject,
			    sizeof(s->who.subject));
			memcpy(s->who.fingerprint, who->fingerprint,
			    sizeof(s->who.fingerprint));
			s->described = 1;
			c->described++;
		}
		break;
	}
	pthread_mutex_unlock(&c->mu);
}

int
dsig_x509_signer(struct dsig_x509_cache *cache, X509_STORE *store, int crl,
    time_t at, X509 *leaf, STACK_OF(X509) *certs, xmlNodePtr where,
    struct dsig_result *who, struct errs *e)
{
	time_t now = time(NULL), until = 0, fresh = 0;
	struct dsig_result *made = NULL;
	struct tm na;
	int known = -1;

	if (cache != NULL)
		known = dsig_x509_cache_peek(cache, leaf, &until, who);
	if (at != 0 || until <= now) {
		if (dsig_x509_verify(store, crl, at, leaf, certs, where, e) != 0)
			return -1;
		if (at == 0) {
			fresh = now + DSIG_X509_VERIFIED_S;
			if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &na) == 1 &&
			    timegm(&na) < fresh)
				fresh = timegm(&na);
		}
	}
	if (who != NULL && known != 1) {
		dsig_x509_describe(leaf, who);
		made = who;
	}
	if (known >= 0 && (fresh != 0 || made != NULL))
		dsig_x509_cache_note(cache, leaf, fresh, made);
	return 0;
}
