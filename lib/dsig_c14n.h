/* dsig_c14n: the cryptographic check of a document that passed
 * dsig_check_doc(): the reference digest over the document canonicalized
 * without the Signature (lib/xc14n, or libxml2 with the Signature
 * unlinked), then SignedInfo's signature, both compared by xmlsec's
 * transforms; and signing the same way into OpenSSL.  Internal to the dsig
 * module. */
#ifndef DECLARED_DSIG_C14N_H
#define DECLARED_DSIG_C14N_H

#include <libxml/tree.h>
#include <openssl/evp.h>

#include "err.h"

struct dsig_check_info;

/* ci from dsig_check_doc(doc); xmlsec_key: the xmlSecKeyPtr to verify with.
 * The Signature is unlinked while the document is canonicalized and put
 * back at its place before returning.  0, or -1 with SIG_INVALID. */
int dsig_c14n_verify(const struct dsig_check_info *ci, xmlDocPtr doc,
    void *xmlsec_key, struct errs *e);

/* Fills DigestValue and SignatureValue of sig, a template child of doc's
 * root with exclusive c14n for SignedInfo and one Reference URI="" with
 * the enveloped and exclusive c14n transforms: the canonical bytes go
 * straight into md's digest (no xmlsec transform or key per signature),
 * SignedInfo's digest is signed by dsig_c14n_sign_hash.  0, or -1. */
int dsig_c14n_sign(xmlDocPtr doc, xmlNodePtr sig, const EVP_PKEY_CTX *tmpl,
    const EVP_MD *md, int ec_bytes);

/* The signature of the digest h (hlen bytes) by a copy of tmpl, an
 * EVP_PKEY_sign_init'ed context whose signature digest made h, as
 * XML-DSig's SignatureValue bytes (r || s for ECDSA, ec_bytes each, 32 for
 * P-256; 0 for RSA) into out, which holds *olen bytes; *olen is set to the
 * length.  0, or -1. */
int dsig_c14n_sign_hash(const EVP_PKEY_CTX *tmpl, int ec_bytes,
    const unsigned char *h, size_t hlen, unsigned char *out, size_t *olen);

/* Bytes of a signature: RSA up to 8192 bits, DER ECDSA. */
#define DSIG_C14N_MAX_SIG 1024

#endif
