/* verify: XML-DSig verification of signed documents (acknowledgements,
 * receipts, declarations) against a trusted CA, for `declctl verify` and
 * `declctl acks --trusted-ca`. */
#ifndef DECLCTL_VERIFY_H
#define DECLCTL_VERIFY_H

#include <stddef.h>

#include "dsig.h"

/* dsig_trust_new(ca, crl); prints the problem and returns NULL. */
struct dsig_trust *verify_trust_load(const char *ca, const char *crl);

/* Verifies the signed document in buf and writes the verdict into
 * verdict: "OK party=P" (plus subject, fingerprint and algorithm when
 * verbose) or "FAIL CODE message".  name is for parse messages.  Returns
 * 0 when valid, -1 otherwise. */
int verify_buffer(const struct dsig_trust *t, const struct dsig_policy *pol,
    const char *buf, size_t len, const char *name, int verbose,
    char *verdict, size_t cap);

#endif
