/* xmlp: hardened XML parsing of a request body, from memory only.
 * No DTD of any kind (a DOCTYPE is an error), no entity substitution, no
 * network, no XInclude, no HUGE; caps on depth and attributes per element
 * (checked by a linear pre-scan before libxml2 sees the bytes, because
 * libxml2 2.9's duplicate-attribute check is quadratic). */
#ifndef DECLARED_XMLP_H
#define DECLARED_XMLP_H

#include <stddef.h>
#include <libxml/tree.h>

#include "err.h"

struct xmlp_limits {
	size_t max_bytes; /* 0: no cap here (the HTTP layer caps bodies) */
	int max_depth;    /* element nesting, e.g. 64 */
	int max_attrs;    /* attributes (incl. xmlns) on one element, e.g. 64 */
};

#define XMLP_DEFAULT_LIMITS { 0, 64, 64 }

/* Parses buf into a new document, or returns NULL and adds one error:
 * XML_EMPTY, XML_TOO_BIG, XML_DOCTYPE, XML_TOO_DEEP, XML_TOO_MANY_ATTRS,
 * XML_MALFORMED (with the line libxml2 reports).  Comments and processing
 * instructions are removed from the tree (they are outside what c14n
 * without comments signs, and must not reach extraction).  Thread-safe
 * once xmlInitParser() was called by the main thread. */
xmlDocPtr xmlp_parse(const char *buf, size_t len, const struct xmlp_limits *lim,
    struct errs *e);

/* XPath-like location of a node, "/Declaration/GoodsShipment/
 * GovernmentAgencyGoodsItem[3]/Origin/CountryCode", using the document's
 * own prefixes; writes "" for NULL. */
void xmlp_node_path(const xmlNode *n, char *out, size_t cap);

#endif
