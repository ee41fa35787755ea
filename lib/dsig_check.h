/* dsig_check: the structural and algorithm half of the strict signature
 * profile, done on the parsed tree before any cryptography: one ds:Signature
 * as a child of the root, one SignedInfo with one Reference URI="", the
 * enveloped transform (+ one optional c14n), allow-listed algorithms, no
 * duplicate IDs, no DTD or entity references, no comment inside signed text.
 * Internal to the dsig module (dsig.c, dsig_x509.c). */
#ifndef DECLARED_DSIG_CHECK_H
#define DECLARED_DSIG_CHECK_H

#include <libxml/tree.h>
#include <openssl/evp.h>

#include "err.h"

enum dsig_check_keytype {
	DSIG_CHECK_KEY_RSA = 1,
	DSIG_CHECK_KEY_EC = 2,
};

/* The allow-listed algorithms one document uses.  The *_idx fields index
 * tables in dsig_check.c; dsig_check_transform_ids() maps them to xmlsec. */
struct dsig_check_info {
	xmlNodePtr sig;      /* the ds:Signature element */
	xmlNodePtr key_info; /* its ds:KeyInfo, or NULL */
	const char *sig_uri; /* SignatureMethod URI (static string) */
	enum dsig_check_keytype key_type;
	int sig_idx;    /* signature method */
	int c14n_idx;   /* CanonicalizationMethod */
	int digest_idx; /* DigestMethod */
	int ref_c14n_idx; /* c14n transform after enveloped, -1 if none */
	/* the nodes the cryptographic check reads (inside sig) */
	xmlNodePtr signed_info, sig_value, c14n_method, sig_method;
	xmlNodePtr digest_value;
	xmlNodePtr ref_c14n; /* the c14n Transform after enveloped, or NULL */
};

/* Checks doc against the profile.  allow_sha1: accept rsa-sha1 and sha1
 * digests.  Returns 0 and fills out, or -1 with SIG_MISSING, SIG_STRUCTURE,
 * SIG_ALGORITHM, SIG_REFERENCE or SIG_DUPLICATE_ID. */
int dsig_check_doc(xmlDocPtr doc, int allow_sha1, struct dsig_check_info *out,
    struct errs *e);

/* Checks that pkey fits the signature method: RSA >= 2048 bits (>= 1024
 * when legacy), EC on P-256 or P-384.  -1 with SIG_ALGORITHM otherwise. */
int dsig_check_key(const struct dsig_check_info *ci, EVP_PKEY *pkey,
    int legacy, struct errs *e);

/* xmlsec transform ids (xmlSecTransformId, as void * to keep this header
 * free of xmlsec): [0] c14n method, [1] signature method, [2] digest
 * method, [3] reference c14n or NULL.  */
void dsig_check_transform_ids(const struct dsig_check_info *ci,
    const void *ids[4]);

/* First element child of node with namespace ns and local name name, or
 * NULL.  ns may be NULL for "any". */
xmlNodePtr dsig_check_child(xmlNodePtr node, const char *ns, const char *name);

/* err_add with the node's line and XPath. */
void dsig_check_err(struct errs *e, const char *code, xmlNodePtr node,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"
#define DSIG_EXC_NS "http://www.w3.org/2001/10/xml-exc-c14n#"

#endif
