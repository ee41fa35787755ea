/* dsig_key: the two halves of dsig_verify() taken apart, for tests,
 * diagnostics and third-party vectors that carry no certificate.
 * Implemented in dsig.c.  Production code uses dsig_verify(). */
#ifndef DECLARED_DSIG_KEY_H
#define DECLARED_DSIG_KEY_H

#include <libxml/tree.h>

#include "dsig.h"
#include "err.h"

/* dsig_verify() with a pinned public key (PEM SubjectPublicKeyInfo file)
 * instead of the certificate chain: every structural and algorithm check
 * still applies, KeyInfo is ignored.  out->party and out->subject are "",
 * out->fingerprint is the SHA-256 of the key's DER SubjectPublicKeyInfo.
 * Error codes as dsig_verify() less the SIG_CERT_* ones; DSIG_CONFIG when
 * the key file is unusable. */
int dsig_verify_with_key(const char *pubkey_pem, const struct dsig_policy *pol,
    xmlDocPtr doc, struct dsig_result *out, struct errs *e);

/* Only the certificate half: takes X509Data/X509Certificate of the first
 * ds:Signature anywhere in doc (no structure, algorithm or signature
 * check) and checks the chain to t at pol->at.  Fills party, subject and
 * fingerprint on success.  SIG_MISSING, SIG_CERT_* codes. */
int dsig_verify_chain(const struct dsig_trust *t, const struct dsig_policy *pol,
    xmlDocPtr doc, struct dsig_result *out, struct errs *e);

#endif
