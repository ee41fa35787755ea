#include "tls.h"

#include <string.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "dsig.h"

struct tls {
	SSL_CTX *ctx;
	STACK_OF(X509) *ent;   /* enterprise trust anchors */
	STACK_OF(X509) *off;   /* officer trust anchors */
};

static STACK_OF(X509) *
tls_load_certs(const char *path, struct errs *e)
{
	STACK_OF(X509) *sk = NULL;
	BIO *bio = NULL;
	X509 *x;

	if ((sk = sk_X509_new_null()) == NULL || (bio = BIO_new_file(path, "r")) == NULL)
		goto fail;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			goto fail;
		}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0)
		goto fail;
	BIO_free(bio);
	return sk;
fail:
	err_add(e, "TLS_CONFIG", 0, "", "cannot read certificates from %s", path);
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	return NULL;
}

static int
tls_add_anchors(X509_STORE *st, STACK_OF(X509) *sk)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (!X509_STORE_add_cert(st, sk_X509_value(sk, i)))
			return -1;
	return 0;
}

struct tls *
tls_new(const struct config *cfg, struct errs *e)
{
	struct tls *t;
	X509_STORE *st;
	STACK_OF(X509_NAME) *names = NULL;
	unsigned long oe;
	char buf[256];

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto ssl_fail;
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	/* idle keep-alive connections give their read/write buffers back */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	/* TLS 1.2: AEAD suites with forward secrecy only (no CBC, no SHA-1) */
	if (!SSL_CTX_set_cipher_list(t->ctx,
	    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"))
		goto ssl_fail;
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cfg->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(t->ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1)
		goto ssl_fail;
	if ((t->ent = tls_load_certs(cfg->enterprise_ca, e)) == NULL)
		goto fail;
	if (cfg->officer_ca != NULL && *cfg->officer_ca &&
	    (t->off = tls_load_certs(cfg->officer_ca, e)) == NULL)
		goto fail;
	st = SSL_CTX_get_cert_store(t->ctx);
	if (tls_add_anchors(st, t->ent) != 0 ||
	    (t->off != NULL && tls_add_anchors(st, t->off) != 0))
		goto ssl_fail;
	if (cfg->tls_crl != NULL && *cfg->tls_crl) {
		if (X509_STORE_load_file(st, cfg->tls_crl) != 1)
			goto ssl_fail;
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
		    X509_V_FLAG_CRL_CHECK_ALL);
	}
	/* tell clients which CAs we accept */
	if ((names = sk_X509_NAME_new_null()) != NULL) {
		SSL_add_file_cert_subjects_to_stack(names, cfg->enterprise_ca);
		if (t->off != NULL)
			SSL_add_file_cert_subjects_to_stack(names, cfg->officer_ca);
		SSL_CTX_set_client_CA_list(t->ctx, names);
	}
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE, NULL);
	SSL_CTX_set_verify_depth(t->ctx, 4);
	SSL_CTX_set_session_id_context(t->ctx, (const unsigned char *)"declared", 8);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(t->ctx, 20000);
	return t;
ssl_fail:
	oe = ERR_get_error();
	ERR_error_string_n(oe, buf, sizeof(buf));
	err_add(e, "TLS_CONFIG", 0, "tls", "TLS setup failed: %s", buf);
	ERR_clear_error();
fail:
	tls_free(t);
	return NULL;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	sk_X509_pop_free(t->ent, X509_free);
	sk_X509_pop_free(t->off, X509_free);
	free(t);
}

SSL_CTX *
tls_ctx(const struct tls *t)
{
	return t->ctx;
}

/* Whether x is one of the anchors in sk or (a resumed session has no
 * verified chain) directly issued by one of them. */
static int
tls_in(STACK_OF(X509) *sk, X509 *x)
{
	int i;

	for (i = 0; sk != NULL && i < sk_X509_num(sk); i++)
		if (X509_cmp(sk_X509_value(sk, i), x) == 0 ||
		    X509_check_issued(sk_X509_value(sk, i), x) == X509_V_OK)
			return 1;
	return 0;
}

enum role
tls_peer(const struct tls *t, SSL *ssl, char *party, size_t cap)
{
	STACK_OF(X509) *chain;
	X509 *peer, *anchor;

	party[0] = '\0';
	if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return ROLE_NONE;
	if ((peer = SSL_get0_peer_certificate(ssl)) == NULL)
		return ROLE_NONE;
	chain = SSL_get0_verified_chain(ssl);
	anchor = chain != NULL && sk_X509_num(chain) > 0 ?
	    sk_X509_value(chain, sk_X509_num(chain) - 1) : peer;
	dsig_cert_party(peer, party, cap);
	if (party[0] == '\0')
		return ROLE_NONE;
	if (tls_in(t->ent, anchor))
		return ROLE_ENTERPRISE;
	if (tls_in(t->off, anchor))
		return ROLE_OFFICER;
	return ROLE_NONE;
}
