/* profile: binds a document kind (root namespace + local name) to its XSD,
 * to whether that XSD has a place for ds:Signature, and to the XPaths of the
 * indexed fields.  Profiles come from configuration ([profile.NAME]).
 * A compiled profile set is immutable and shared read-only by all workers;
 * each call below takes its own libxml2 contexts, so it is thread-safe. */
#ifndef DECLARED_PROFILE_H
#define DECLARED_PROFILE_H

#include <stddef.h>
#include <libxml/tree.h>

#include "decl.h"
#include "err.h"

enum profile_field {
	/* document-level fields, absolute XPaths */
	PF_LRN, PF_DECLARANT, PF_TYPE, PF_FUNCTION, PF_REF_MRN, PF_ISSUED,
	PF_IMPORTER, PF_EXPORTER, PF_INVOICE_AMOUNT, PF_INVOICE_CURRENCY,
	PF_ITEM_QUANTITY,
	PF_ITEMS, /* node set: one node per goods item */
	/* item-level fields, XPaths relative to an item node */
	PF_ITEM_SEQ, PF_ITEM_HS, PF_ITEM_ORIGIN, PF_ITEM_GROSS, PF_ITEM_NET,
	PF_ITEM_VALUE, PF_ITEM_CURRENCY,
	PF_COUNT
};

/* Config key suffix of each field: "lrn" for xpath.lrn, "item.hs" ... */
const char *profile_field_name(enum profile_field f);
int profile_field_by_name(const char *name); /* -1 if unknown */

#define PROFILE_NS_MAX 16

struct profile_def {
	const char *name;        /* "wco", "cds" */
	const char *root_ns;     /* root element namespace URI ("" for none) */
	const char *root_name;   /* root element local name */
	const char *schema;      /* path of the XSD to compile */
	int signature_in_schema; /* 1: leave ds:Signature for XSD validation */
	int signature_required;  /* 1: unsigned documents are rejected */
	int allow_rsa_sha1;      /* legacy signers (China cards) */
	int apply_rules;         /* 1: business rules run on this format */
	const char *xpath[PF_COUNT];            /* NULL: field not extracted */
	const char *ns_prefix[PROFILE_NS_MAX];  /* prefixes used by the XPaths */
	const char *ns_uri[PROFILE_NS_MAX];
	size_t n_ns;
};

struct profile;     /* one compiled profile */
struct profile_set; /* all of them */

struct profile_set *profile_set_new(void);
void profile_set_free(struct profile_set *ps); /* NULL ok */
/* Compiles the schema and XPaths of def (copied); on failure adds a
 * PROFILE_CONFIG error naming the profile and what failed, returns -1. */
int profile_set_add(struct profile_set *ps, const struct profile_def *def,
    struct errs *e);
size_t profile_set_count(const struct profile_set *ps);

/* The profile whose root matches doc's root element, or NULL with a
 * PROFILE_UNKNOWN error pointing at the root. */
const struct profile *profile_match(const struct profile_set *ps,
    xmlDocPtr doc, struct errs *e);

const char *profile_name(const struct profile *p);
int profile_signature_in_schema(const struct profile *p);
int profile_signature_required(const struct profile *p);
int profile_allow_rsa_sha1(const struct profile *p);

/* XSD validation; every schema error is added as XSD_INVALID with its line
 * and the pointer of the offending node.  Returns 0 if valid. */
int profile_validate(const struct profile *p, xmlDocPtr doc, struct errs *e);

/* Fills d from doc.  A missing LRN is a FIELD_MISSING error (a missing
 * declarant is left "" for the caller to judge); more than DECL_ITEMS_MAX items is ITEMS_TOO_MANY.
 * Returns 0 on success. */
int profile_extract(const struct profile *p, xmlDocPtr doc, struct decl *d,
    struct errs *e);

#endif
