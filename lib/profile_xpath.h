/* profile_xpath: one compiled field XPath of a profile (internal to
 * profile.c and its tests).  The common form, child steps only with an
 * optional final attribute ("/d:Declaration/d:InvoiceAmount/@currencyID",
 * "d:Origin/d:CountryCode"), optionally with one child-equality predicate
 * per step ("d:Classification[d:IdentificationTypeCode='TSP']"), is
 * evaluated by a direct tree walk matching namespace URI + local name;
 * any other expression by libxml2's XPath engine, compiled once (or once
 * per run when it calls a function).  XPath 1.0 core functions only, no
 * variables.  A compiled XPath is immutable and may be shared by threads;
 * each evaluation uses its own profile_xpath_run. */
#ifndef DECLARED_PROFILE_XPATH_H
#define DECLARED_PROFILE_XPATH_H

#include <stddef.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "err.h"

#define PROFILE_XPATH_STEPS 24 /* element steps of the walkable form */
#define PROFILE_XPATH_RUN_OWN 32

struct profile_xpath;

/* Compiles expr.  Prefixes resolve through ns[0..n_ns) (standalone xmlNs
 * owned by the caller, outliving the result); an unbound prefix is an
 * error.  engine_only: never use the tree walk (tests compare both).
 * Returns NULL with a PROFILE_CONFIG error starting with what. */
struct profile_xpath *profile_xpath_new(const char *expr, xmlNsPtr *ns,
    size_t n_ns, int engine_only, const char *what, struct errs *e);
void profile_xpath_free(struct profile_xpath *x); /* NULL ok */
int profile_xpath_is_walk(const struct profile_xpath *x);
const char *profile_xpath_expr(const struct profile_xpath *x);

/* Evaluation state for one document on one thread. */
struct profile_xpath_run {
	xmlDocPtr doc;
	xmlNsPtr *ns;
	size_t n_ns;
	xmlXPathContextPtr xp; /* made on first use of the engine */
	struct {               /* this run's copies of XPaths that call */
		const struct profile_xpath *x; /* functions (see .c) */
		xmlXPathCompExprPtr comp;
	} own[PROFILE_XPATH_RUN_OWN];
	size_t n_own;
};

void profile_xpath_run_init(struct profile_xpath_run *r, xmlDocPtr doc,
    xmlNsPtr *ns, size_t n_ns);
void profile_xpath_run_done(struct profile_xpath_run *r);

/* Nodes x selects from ctx (NULL: the document node), in document order.
 * Stores at most cap of them in out and counts at most cap + 1, so a
 * result above cap means "more than cap".  -1 with a PROFILE_XPATH error
 * if the engine fails. */
long profile_xpath_nodes(struct profile_xpath_run *r,
    const struct profile_xpath *x, xmlNodePtr ctx, xmlNodePtr *out,
    size_t cap, struct errs *e);

/* String value of the first node x selects from ctx (or of a string,
 * number or boolean result), trimmed of XML white space, into out
 * (always NUL-terminated, cut at a UTF-8 character boundary).  Returns
 * 0 if nothing was selected (out = ""), 1 if found, 2 if found but longer
 * than cap - 1, -1 on error.  *node: the node found (ctx for a non-node
 * result), NULL if none. */
int profile_xpath_string(struct profile_xpath_run *r,
    const struct profile_xpath *x, xmlNodePtr ctx, char *out, size_t cap,
    xmlNodePtr *node, struct errs *e);

#endif
