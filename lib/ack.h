/* ack: Response documents (acknowledgements), aligned with the WCO RES
 * message, in the project's namespace (xsd/response.xsd): written here in
 * canonical form and signed in one pass (ack_sign), for the wire and the
 * outbox. */
#ifndef DECLARED_ACK_H
#define DECLARED_ACK_H

#include <stddef.h>
#include <libxml/tree.h>

#include "err.h"

#define ACK_NS "urn:declared:response:1"

/* Response FunctionCode values (CDS notification codes). */
#define ACK_ACCEPTED "01"           /* received and accepted (MRN, lane) */
#define ACK_RECEIVED "02"           /* received, processing */
#define ACK_REJECTED "03"           /* rejected with errors */
#define ACK_CONTROL "05"            /* under control: inspection */
#define ACK_DOCUMENTS "06"          /* documents required */
#define ACK_RELEASED "08"           /* goods released */
#define ACK_CANCELLED "10"          /* invalidated / cancelled */
#define ACK_AMENDMENT "11"          /* amendment / cancellation granted or denied */
#define ACK_HELD "16"               /* held */
#define ACK_ERROR "99"              /* request-level error (not stored) */

struct ack_info {
	const char *function_code; /* ACK_* */
	const char *lrn;           /* NULL ok */
	const char *declaration_id;/* the daemon's id, NULL ok */
	const char *mrn;           /* NULL ok */
	const char *status;        /* lifecycle state name, NULL ok */
	const char *lane;          /* green|yellow|red, NULL ok */
	const char *issued;        /* xs:dateTime; NULL = now (UTC) */
	const char *digest_hex;    /* SHA-256 of the submitted bytes, NULL ok */
	const char *reason;        /* free text (decisions), NULL ok */
	const struct errs *errors; /* NULL ok */
};

struct dsig_signer;

/* The signed Response of ai: XML declaration, the document, the enveloped
 * signature of s as the root's last child.  *out is malloc'd and
 * NUL-terminated.  0, or -1 with DSIG_SIGN. */
int ack_sign(const struct ack_info *ai, const struct dsig_signer *s,
    char **out, size_t *len, struct errs *e);

/* The same Response unsigned, as a tree (what ack_sign signs, parsed);
 * NULL only on allocation failure. */
xmlDocPtr ack_build(const struct ack_info *ai);

/* Serializes doc as UTF-8 with an XML declaration into a malloc'd buffer.
 * Returns 0 or -1. */
int ack_serialize(xmlDocPtr doc, char **out, size_t *len);

/* Current UTC time as xs:dateTime with milliseconds and Z. */
void ack_now(char *out, size_t cap);

/* Lowercase hex SHA-256 of buf into out[65]. */
void ack_sha256_hex(const void *buf, size_t len, char out[65]);

#endif
