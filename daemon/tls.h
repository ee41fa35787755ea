/* tls: the server's SSL_CTX (TLS 1.2+, client certificate required and
 * verified against the enterprise and officer CAs, optional CRL) and the
 * identity of a connected client: party and role. */
#ifndef DECLARED_TLS_H
#define DECLARED_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

#include "err.h"
#include "job.h"

struct config;
struct tls;

/* Builds a new context from cfg; NULL with a TLS_CONFIG error. */
struct tls *tls_new(const struct config *cfg, struct errs *e);
void tls_free(struct tls *t); /* NULL ok; live SSL objects keep their ctx */
SSL_CTX *tls_ctx(const struct tls *t);
/* Party (subject serialNumber, else CN) and role of the verified peer. */
enum role tls_peer(const struct tls *t, SSL *ssl, char *party, size_t cap);

#endif
