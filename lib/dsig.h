/* dsig: XML-DSig verification under the strict customs profile, and the
 * daemon's enveloped signing of acknowledgements.  xmlsec1-openssl does the
 * c14n, digest and signature arithmetic; this module decides what is
 * allowed (structure, algorithms, key origin, certificate chain) itself.
 *
 * Call dsig_global_init() once from the main thread before anything else
 * here, dsig_global_shutdown() at exit.  A dsig_trust and a dsig_signer are
 * immutable after creation; verification and signing are thread-safe. */
#ifndef DECLARED_DSIG_H
#define DECLARED_DSIG_H

#include <stddef.h>
#include <time.h>
#include <libxml/tree.h>

#include "err.h"

int dsig_global_init(void);
void dsig_global_shutdown(void);

struct dsig_trust;  /* signing CAs (+ intermediates) and optional CRLs */
struct dsig_signer; /* a private key and its certificate */

/* ca_file: PEM bundle of trust anchors (and intermediates); crl_file: PEM
 * CRLs or NULL.  Returns NULL with a DSIG_CONFIG error on failure. */
struct dsig_trust *dsig_trust_new(const char *ca_file, const char *crl_file,
    struct errs *e);
void dsig_trust_free(struct dsig_trust *t); /* NULL ok */

struct dsig_policy {
	int allow_rsa_sha1; /* accept rsa-sha1 / sha1 digests (legacy) */
	time_t at;          /* verification time; 0 = now */
	int xmlsec_references; /* tests: xmlsec processes the reference too */
};

struct dsig_result {
	char party[128];       /* signer's party: subject serialNumber, else CN */
	char subject[256];     /* signer certificate subject, one line */
	char fingerprint[65];  /* SHA-256 of the signer certificate, hex */
	char algorithm[96];    /* SignatureMethod URI */
};

/* Verifies the one enveloped signature of doc.  Error codes:
 * SIG_MISSING, SIG_STRUCTURE (count, place, Reference, transforms),
 * SIG_ALGORITHM, SIG_REFERENCE, SIG_DUPLICATE_ID, SIG_CERT_MISSING,
 * SIG_CERT_UNTRUSTED, SIG_CERT_EXPIRED, SIG_CERT_REVOKED, SIG_INVALID
 * (digest or signature value).  Returns 0 only if valid; doc is not
 * changed. */
int dsig_verify(const struct dsig_trust *t, const struct dsig_policy *pol,
    xmlDocPtr doc, struct dsig_result *out, struct errs *e);

/* Unlinks and frees the ds:Signature child of the root, if any. */
void dsig_remove_signature(xmlDocPtr doc);

/* key_file: PEM private key (ECDSA P-256 by default, RSA accepted);
 * cert_file: its PEM certificate (chain PEMs after it are embedded too). */
struct dsig_signer *dsig_signer_new(const char *key_file, const char *cert_file,
    struct errs *e);
void dsig_signer_free(struct dsig_signer *s); /* NULL ok */

/* Appends an enveloped signature (URI="", enveloped + exc-c14n, SHA-256,
 * ECDSA-SHA256 or RSA-SHA256 by key type, X509Certificate in KeyInfo) as the
 * last child of the root.  Returns 0 or -1 with DSIG_SIGN error. */
int dsig_sign(const struct dsig_signer *s, xmlDocPtr doc, struct errs *e);

/* Signs a document that its caller wrote in exclusive canonical form:
 * head is the document up to the root's end tag (where the Signature
 * goes, as the root's last child), tail that end tag.  head + tail must be
 * byte for byte what exclusive c14n makes of the document without its
 * Signature (no XML declaration, no self-closing tags, c14n escaping, the
 * namespaces declared where c14n puts them); the digest is taken over them
 * as they are.  The Signature is dsig_sign's, with the ds prefix declared
 * on it and no whitespace.  *out (malloc'd, NUL-terminated, *len bytes):
 * prolog (NULL for none) + head + Signature + tail + newline.  0, or -1
 * with DSIG_SIGN. */
int dsig_sign_c14n(const struct dsig_signer *s, const char *prolog,
    const char *head, size_t head_len, const char *tail, char **out,
    size_t *len, struct errs *e);

/* Party of a certificate: subject serialNumber, else CN.  Writes "" if
 * neither.  cert is an OpenSSL X509 * (void here to keep headers light). */
void dsig_cert_party(const void *x509, char *out, size_t cap);

#endif
