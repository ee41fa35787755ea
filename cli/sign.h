/* sign: enveloped XML-DSig signing of declarations with the enterprise's
 * signing certificate (lib/dsig.h does the work), for `declctl sign` and
 * `declctl submit --sign`. */
#ifndef DECLCTL_SIGN_H
#define DECLCTL_SIGN_H

#include <stddef.h>

#include "cli.h"
#include "dsig.h"

/* dsig_signer_new from --sign-cert/--sign-key (or sign_cert=/sign_key= of
 * the configuration); prints the problem and returns NULL. */
struct dsig_signer *sign_load(struct cli *c);

/* Parses in (no network, no DOCTYPE), signs it and serializes the signed
 * document into a malloc'd *out.  name is for messages.  Returns 0 or -1
 * (printed). */
int sign_buffer(const struct dsig_signer *s, const char *in, size_t len,
    const char *name, char **out, size_t *olen);

/* Prints every error of e as "declctl: name: CODE: message". */
void sign_print_errs(const char *name, const struct errs *e);

#endif
