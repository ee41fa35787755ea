/* dsig_x509: the signer certificate half of the strict profile.  The
 * certificates come only from KeyInfo/X509Data/X509Certificate (never from
 * KeyValue); the leaf must chain to the configured CAs, be valid at the
 * verification time and not be revoked.  Internal to the dsig module. */
#ifndef DECLARED_DSIG_X509_H
#define DECLARED_DSIG_X509_H

#include <time.h>
#include <libxml/tree.h>
#include <openssl/x509.h>

#include "dsig.h"
#include "err.h"

/* Trust anchors and intermediates from ca_file, CRLs from crl_file (NULL
 * for none; *has_crl tells whether any was loaded).  NULL with DSIG_CONFIG
 * on error. */
X509_STORE *dsig_x509_store_load(const char *ca_file, const char *crl_file,
    int *has_crl, struct errs *e);

/* Decoded certificates by SHA-256 of their DER, shared by threads (a
 * mutex inside), at most 256: OpenSSL 3.0 takes ~150 us to decode an RSA
 * certificate, as much as the rest of a chain check.  With each, what
 * dsig_x509_signer derived from it (verified-until time, description). */
struct dsig_x509_cache;
struct dsig_x509_cache *dsig_x509_cache_new(void);
void dsig_x509_cache_free(struct dsig_x509_cache *c); /* NULL ok */

/* Chain checks and descriptions dsig_x509_signer has recorded in c since
 * it was made (tests). */
void dsig_x509_cache_counts(struct dsig_x509_cache *c,
    unsigned long *verified, unsigned long *described);

/* Decodes every X509Data/X509Certificate of key_info (NULL ok) through
 * cache (NULL: no cache).  Returns a new stack (at least one cert), or
 * NULL with SIG_CERT_MISSING. */
STACK_OF(X509) *dsig_x509_certs(xmlNodePtr key_info,
    struct dsig_x509_cache *cache, struct errs *e);

/* The signer: the one cert of certs that issued none of the others.
 * Borrowed pointer, or NULL with SIG_CERT_UNTRUSTED when ambiguous. */
X509 *dsig_x509_leaf(STACK_OF(X509) *certs, xmlNodePtr where, struct errs *e);

/* Chain of leaf to store, with the other certs as untrusted intermediates,
 * at time at (0 = now), CRL-checked when crl.  0, or -1 with
 * SIG_CERT_EXPIRED, SIG_CERT_REVOKED or SIG_CERT_UNTRUSTED. */
int dsig_x509_verify(X509_STORE *store, int crl, time_t at, X509 *leaf,
    STACK_OF(X509) *certs, xmlNodePtr where, struct errs *e);

/* The signer leaf of certs (from dsig_x509_certs with the same cache):
 * dsig_x509_verify at time at (0 = now), then dsig_x509_describe into who
 * (NULL: not wanted).  With a cache (NULL: none) and at == 0, a chain
 * check is remembered with the cached leaf for DSIG_X509_VERIFIED_S
 * seconds, never past its notAfter; its description is kept whatever at.
 * A cache belongs to one trust: a new CRL comes with a new trust, so
 * revocation takes effect at the reload.  0, or -1 with the errors of
 * dsig_x509_verify (who then undefined). */
#define DSIG_X509_VERIFIED_S 300
int dsig_x509_signer(struct dsig_x509_cache *cache, X509_STORE *store,
    int crl, time_t at, X509 *leaf, STACK_OF(X509) *certs, xmlNodePtr where,
    struct dsig_result *who, struct errs *e);

/* Fills party, subject and fingerprint of out from cert. */
void dsig_x509_describe(X509 *cert, struct dsig_result *out);

#endif
