/* xc14n: Exclusive XML Canonicalization 1.0 without comments, see xc14n.h.
 *
 * Written from the W3C rules (Canonical XML 1.0 section 2.3, Exclusive XML
 * Canonicalization 1.0 section 3), read the way libxml2 2.9 reads them
 * where its output must be matched byte for byte:
 *  - element: '<' QName, namespace declarations, attributes, '>', children,
 *    "</" QName '>' (an empty element too);
 *  - a declaration (prefix, URI) is rendered on an element iff it is
 *    visibly utilized there (the element's own prefix or default namespace,
 *    the prefix of one of its attributes) and the nearest output ancestor
 *    that rendered that prefix did not render it with the same URI; an
 *    element in no namespace utilizes the default "" and so gets xmlns=""
 *    only below a rendered non-empty default; the xml prefix is never
 *    declared;
 *  - declarations sorted by prefix, the default first; attributes sorted
 *    by (namespace URI, local name), unqualified ones first; xml:lang and
 *    friends are ordinary attributes (nothing inherited);
 *  - attribute values escape & < " TAB LF CR, text (and CDATA) & < > CR,
 *    PI data CR only; namespace URIs are written as they are;
 *  - comments dropped; PIs as <?target data?> (<?target?> without data),
 *    children of the document followed (before the document element) or
 *    preceded (after it) by LF; DTD nodes ignored.
 * libxml2 details kept: an element in no namespace takes as its default
 * what xmlSearchNs(NULL) finds (declarations, then an ancestor's own
 * default namespace) within the output region, and when that is nothing
 * its xmlns="" is rendered but not remembered; libxml2 2.9 fails on a
 * namespace declaration whose URI does not parse or has no scheme, which
 * this file reports as unsupported (and any URI it cannot vouch for).
 *
 * Two passes over the region: the first checks everything that could make
 * this file unsure (node types, caps, URIs), the second writes, so that
 * XC14N_UNSUPPORTED is returned before any byte went out. */
#include "xc14n.h"

#include <string.h>

#define XC14N_BUF 8192        /* output held before the callback is called */
#define XC14N_MAX_DEPTH 256   /* element nesting (libxml2's parse limit) */
#define XC14N_MAX_ATTRS 128   /* attributes on one element */
#define XC14N_MAX_NS 256      /* rendered declarations in scope at once */
#define XC14N_REF 8           /* longest literal or reference written at
                               * once (room kept for it while escaping) */
#define XC14N_XML_URI "http://www.w3.org/XML/1998/namespace"

enum { XC14N_BEFORE, XC14N_INSIDE, XC14N_AFTER };

struct xc14n_frame {          /* one per open element */
	const xmlNs *dflt;        /* xmlSearchNs(NULL) seen from its children */
	unsigned n;               /* check: most declarations it and its
	                           * ancestors render; write: how many were
	                           * rendered when it started */
};

struct xc14n {
	xc14n_write_fn fn;
	void *ctx;
	xmlNodePtr skip;
	int is_doc;               /* top is the document, not an element */
	int failed;               /* fn refused: nothing more is written */
	int pos;                  /* XC14N_BEFORE etc.: the document's PIs */
	const xmlChar *uri_ok;    /* last namespace URI found absolute */
	size_t len;               /* bytes in buf */
	unsigned nns;             /* rendered declarations in scope */
	struct xc14n_frame frame[XC14N_MAX_DEPTH];
	const xmlNs *ns[XC14N_MAX_NS];            /* rendered, innermost last */
	/* one element's declarations (NULL: xmlns="") and attributes, sorted */
	const xmlNs *decl[XC14N_MAX_ATTRS + 1];
	const xmlAttr *attr[XC14N_MAX_ATTRS];
	unsigned char buf[XC14N_BUF];
};

enum { XC14N_TEXT, XC14N_ATTR, XC14N_PI };

struct xc14n_esc {
	const char *s;
	size_t n;
};

/* Per escaping mode and byte: 0 copied, 1 the end of the string, else an
 * index in xc14n_escs. */
static const struct xc14n_esc xc14n_escs[] = {
	{ NULL, 0 }, { NULL, 0 }, { "&amp;", 5 }, { "&lt;", 4 }, { "&gt;", 4 },
	{ "&quot;", 6 }, { "&#x9;", 5 }, { "&#xA;", 5 }, { "&#xD;", 5 },
};
static const unsigned char xc14n_cls[3][256] = {
	[XC14N_TEXT] = { [0] = 1, ['&'] = 2, ['<'] = 3, ['>'] = 4,
	    ['\r'] = 8 },
	[XC14N_ATTR] = { [0] = 1, ['&'] = 2, ['<'] = 3, ['"'] = 5,
	    ['\t'] = 6, ['\n'] = 7, ['\r'] = 8 },
	[XC14N_PI] = { [0] = 1, ['\r'] = 8 },
};

/* ---- output ---- */

static void
xc14n_flush(struct xc14n *c)
{
	size_t n = c->len;

	c->len = 0;
	if (n > 0 && !c->failed && c->fn(c->ctx, c->buf, n) != 0)
		c->failed = 1;
}

static void
xc14n_put(struct xc14n *c, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t room;

	while (n > XC14N_BUF - c->len) {
		room = XC14N_BUF - c->len;
		memcpy(c->buf + c->len, s, room);
		c->len = XC14N_BUF;
		s += room;
		n -= room;
		xc14n_flush(c);
	}
	memcpy(c->buf + c->len, s, n);
	c->len += n;
}

/* A literal of at most XC14N_REF bytes. */
static inline void
xc14n_lit(struct xc14n *c, const char *s, size_t n)
{
	if (XC14N_BUF - c->len < n)
		xc14n_flush(c);
	memcpy(c->buf + c->len, s, n);
	c->len += n;
}

static void
xc14n_puts(struct xc14n *c, const xmlChar *s)
{
	if (s != NULL)
		xc14n_put(c, s, strlen((const char *)s));
}

/* s with the bytes of mode replaced by their references, copied byte by
 * byte as they are checked: text nodes and values are mostly a few bytes,
 * where one pass beats strlen, a word-wise scan and memcpy (measured). */
static void
xc14n_escape(struct xc14n *c, const xmlChar *s, int mode)
{
	const unsigned char *cls = xc14n_cls[mode];
	unsigned char *o, *end;
	unsigned k = 0;

	if (s == NULL)
		return;
	for (;;) {
		o = c->buf + c->len;
		end = c->buf + XC14N_BUF - XC14N_REF;
		while (o < end && (k = cls[*s]) == 0)
			*o++ = *s++;
		c->len = (size_t)(o - c->buf);
		if (o >= end) {
			xc14n_flush(c);
			continue;
		}
		if (k == 1)
			return;
		memcpy(o, xc14n_escs[k].s, xc14n_escs[k].n);
		c->len += xc14n_escs[k].n;
		s++;
	}
}

/* prefix:name, or name when the namespace has no prefix. */
static void
xc14n_qname(struct xc14n *c, const xmlNs *ns, const xmlChar *name)
{
	if (ns != NULL && ns->prefix != NULL && ns->prefix[0] != '\0') {
		xc14n_puts(c, ns->prefix);
		xc14n_lit(c, ":", 1);
	}
	xc14n_puts(c, name);
}

/* ---- strings and namespaces ---- */

static int
xc14n_empty(const xmlChar *s)
{
	return s == NULL || s[0] == '\0';
}

/* Equal, NULL being "". */
static int
xc14n_same(const xmlChar *a, const xmlChar *b)
{
	if (a == b)
		return 1;
	if (a == NULL)
		return b[0] == '\0';
	if (b == NULL)
		return a[0] == '\0';
	return strcmp((const char *)a, (const char *)b) == 0;
}

/* Order of xmlStrcmp: NULL first, then bytes unsigned. */
static int
xc14n_cmp(const xmlChar *a, const xmlChar *b)
{
	if (a == b)
		return 0;
	if (a == NULL)
		return -1;
	if (b == NULL)
		return 1;
	return strcmp((const char *)a, (const char *)b);
}

static int
xc14n_is_xml(const xmlNs *ns)
{
	return ns->prefix != NULL &&
	    strcmp((const char *)ns->prefix, "xml") == 0 &&
	    ns->href != NULL &&
	    strcmp((const char *)ns->href, XC14N_XML_URI) == 0;
}

static int
xc14n_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int
xc14n_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int
xc14n_hex(int ch)
{
	return xc14n_digit(ch) || (ch >= 'a' && ch <= 'f') ||
	    (ch >= 'A' && ch <= 'F');
}

/* Bytes of one RFC 3986 pchar at s (3 for %HH), 0 if none. */
static size_t
xc14n_pchar(const xmlChar *s)
{
	if (xc14n_alpha(*s) || xc14n_digit(*s) ||
	    (*s != '\0' && strchr("-._~!$&'()*+,;=:@", *s) != NULL))
		return 1;
	if (*s == '%' && xc14n_hex(s[1]) && xc14n_hex(s[2]))
		return 3;
	return 0;
}

/* s past pchars and the extra characters (NUL-terminated) allowed. */
static const xmlChar *
xc14n_pchars(const xmlChar *s, const char *extra)
{
	size_t k;

	for (;;) {
		if ((k = xc14n_pchar(s)) > 0)
			s += k;
		else if (*s != '\0' && strchr(extra, *s) != NULL)
			s++;
		else
			return s;
	}
}

/* 1 when libxml2's c14n is sure to take u as a namespace URI: parsed by
 * xmlParseURI with a scheme (2.9 asks nothing more).  Decided on a subset
 * of RFC 3986 (no user info, no IP address, a host of letters, digits and
 * -._~ not starting with a digit): 0 may be a URI libxml2 takes, but this
 * file does not vouch for it. */
static int
xc14n_uri_ok(const xmlChar *u)
{
	const xmlChar *s = u;
	size_t k;

	if (!xc14n_alpha(*s))
		return 0;
	while (xc14n_alpha(*s) || xc14n_digit(*s) || *s == '+' || *s == '-' ||
	    *s == '.')
		s++;
	if (*s++ != ':')
		return 0;
	if (s[0] == '/' && s[1] == '/') {
		s += 2;
		if (xc14n_digit(*s))
			return 0;
		while (xc14n_alpha(*s) || xc14n_digit(*s) || *s == '-' ||
		    *s == '.' || *s == '_' || *s == '~')
			s++;
		if (*s == ':') {
			for (s++, k = 0; xc14n_digit(*s); s++)
				k++;
			if (k == 0 || k > 5)
				return 0;
		}
		if (*s != '\0' && *s != '/' && *s != '?' && *s != '#')
			return 0;
	}
	s = xc14n_pchars(s, "/");
	if (*s == '?')
		s = xc14n_pchars(s + 1, "/?");
	if (*s == '#')
		s = xc14n_pchars(s + 1, "/?");
	return *s == '\0';
}

/* A declared or used namespace URI: empty, or sure to be absolute. */
static int
xc14n_href_ok(struct xc14n *c, const xmlChar *href)
{
	if (xc14n_empty(href) || href == c->uri_ok)
		return 1;
	if (!xc14n_uri_ok(href))
		return 0;
	c->uri_ok = href;
	return 1;
}

/* ---- first pass: is the region something this file handles? ---- */

/* A used namespace: no empty prefix; for a subtree, its URI is checked as
 * libxml2 checks the declarations xmlDocCopyNode adds on the copy's root
 * for namespaces declared above the subtree. */
static int
xc14n_check_ns(struct xc14n *c, const xmlNs *ns)
{
	if (ns == NULL)
		return 1;
	if (ns->prefix != NULL && ns->prefix[0] == '\0')
		return 0;
	return c->is_doc || xc14n_is_xml(ns) || xc14n_href_ok(c, ns->href);
}

/* The default namespace e sees, as xmlSearchNs(doc, e, NULL) finds it
 * within the region: e's own default declaration, else what its parent
 * passes down.  Sets what e passes down to its children: its own default
 * declaration, else its namespace when unprefixed, else the parent's. */
static const xmlNs *
xc14n_dflt(struct xc14n *c, xmlNodePtr e, int depth)
{
	const xmlNs *d = depth > 0 ? c->frame[depth - 1].dflt : NULL, *own;

	for (own = e->nsDef; own != NULL; own = own->next)
		if (own->prefix == NULL && own->href != NULL)
			break;
	if (own != NULL)
		d = own;
	if (own == NULL && e->ns != NULL && e->ns->prefix == NULL &&
	    e->ns->href != NULL)
		c->frame[depth].dflt = e->ns;
	else
		c->frame[depth].dflt = d;
	return d;
}

static int
xc14n_check_elem(struct xc14n *c, xmlNodePtr e, int depth)
{
	const xmlNs *ns;
	const xmlAttr *a;
	const xmlNode *t;
	unsigned n, na = 0;

	if (depth >= XC14N_MAX_DEPTH)
		return XC14N_UNSUPPORTED;
	for (ns = e->nsDef; ns != NULL; ns = ns->next)
		if (!xc14n_href_ok(c, ns->href))
			return XC14N_UNSUPPORTED;
	if (!xc14n_check_ns(c, e->ns))
		return XC14N_UNSUPPORTED;
	/* the element renders at most one declaration for itself (none in
	 * the xml namespace or in none with no default seen), one per
	 * qualified attribute */
	ns = e->ns;
	n = xc14n_dflt(c, e, depth) != NULL ||
	    (ns != NULL && !xc14n_is_xml(ns));
	for (a = e->properties; a != NULL; a = a->next) {
		if (++na > XC14N_MAX_ATTRS)
			return XC14N_UNSUPPORTED;
		if (a->ns != NULL) {
			if (a->ns->prefix == NULL || !xc14n_check_ns(c, a->ns))
				return XC14N_UNSUPPORTED;
			n++;
		}
		for (t = a->children; t != NULL; t = t->next)
			if (t->type != XML_TEXT_NODE &&
			    t->type != XML_CDATA_SECTION_NODE)
				return XC14N_UNSUPPORTED;
	}
	if (depth > 0)
		n += c->frame[depth - 1].n;
	if (n > XC14N_MAX_NS)
		return XC14N_UNSUPPORTED;
	c->frame[depth].n = n;
	return 0;
}

static int
xc14n_check(struct xc14n *c, xmlNodePtr n, int depth)
{
	switch (n->type) {
	case XML_ELEMENT_NODE:
		return xc14n_check_elem(c, n, depth);
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
	case XML_PI_NODE:
	case XML_COMMENT_NODE:
	case XML_DOCUMENT_TYPE_NODE:
	case XML_DTD_NODE:
	case XML_NOTATION_NODE:
	case XML_ELEMENT_DECL:
	case XML_ATTRIBUTE_DECL:
	case XML_ENTITY_DECL:
		return 0;
	default:  /* entity references, XInclude markers, misplaced nodes */
		return XC14N_UNSUPPORTED;
	}
}

/* ---- second pass: writing ---- */

/* Namespace ns (NULL: none, xmlns="") visibly utilized by the element
 * being started: added to its declarations, sorted by prefix, unless the
 * nearest rendered declaration of the prefix has the same URI (none
 * rendered counts as xmlns=""), and then remembered for the descendants
 * when keep.  *nd counts the element's declarations. */
static void
xc14n_use(struct xc14n *c, unsigned *nd, const xmlNs *ns, int keep)
{
	const xmlChar *prefix = ns != NULL ? ns->prefix : NULL;
	const xmlChar *href = ns != NULL ? ns->href : NULL;
	const xmlNs *d = NULL;
	unsigned i;

	for (i = c->nns; i > 0; i--)
		if (xc14n_same(c->ns[i - 1]->prefix, prefix)) {
			d = c->ns[i - 1];
			break;
		}
	if (d != NULL ? xc14n_same(d->href, href) :
	    xc14n_empty(prefix) && xc14n_empty(href))
		return;
	if (*nd > XC14N_MAX_ATTRS || (keep && c->nns >= XC14N_MAX_NS) ||
	    (keep && ns == NULL)) {
		c->failed = 1;  /* the first pass makes this unreachable */
		return;
	}
	if (keep)
		c->ns[c->nns++] = ns;
	/* before the first one not smaller, as libxml2's sorted list does */
	for (i = 0; i < *nd && xc14n_cmp(c->decl[i] != NULL ?
	    c->decl[i]->prefix : NULL, prefix) < 0; i++)
		;
	memmove(&c->decl[i + 1], &c->decl[i], (*nd - i) * sizeof(c->decl[0]));
	c->decl[i] = ns;
	(*nd)++;
}

/* Attribute order: unqualified first by name, then by (URI, name). */
static int
xc14n_attr_cmp(const xmlAttr *a, const xmlAttr *b)
{
	int r;

	if (a->ns == b->ns)
		return xc14n_cmp(a->name, b->name);
	if (a->ns == NULL)
		return -1;
	if (b->ns == NULL)
		return 1;
	if (a->ns->prefix == NULL)
		return -1;
	if (b->ns->prefix == NULL)
		return 1;
	r = xc14n_cmp(a->ns->href, b->ns->href);
	return r != 0 ? r : xc14n_cmp(a->name, b->name);
}

static void
xc14n_attr(struct xc14n *c, const xmlAttr *a)
{
	const xmlNode *t;

	xc14n_lit(c, " ", 1);
	xc14n_qname(c, a->ns, a->name);
	xc14n_lit(c, "=\"", 2);
	for (t = a->children; t != NULL; t = t->next)
		xc14n_escape(c, t->content, XC14N_ATTR);
	xc14n_lit(c, "\"", 1);
}

static void
xc14n_start(struct xc14n *c, xmlNodePtr e, int depth)
{
	const xmlNs *ns, *dflt;
	const xmlAttr *a;
	unsigned nd = 0, na = 0, i;

	c->frame[depth].n = c->nns;
	dflt = xc14n_dflt(c, e, depth);
	if ((ns = e->ns) == NULL)   /* without a default: xmlns="" if needed,
	                             * not remembered (libxml2 does so) */
		xc14n_use(c, &nd, dflt, dflt != NULL);
	else if (!xc14n_is_xml(ns))
		xc14n_use(c, &nd, ns, 1);
	for (a = e->properties; a != NULL && na < XC14N_MAX_ATTRS;
	    a = a->next) {
		if (a->ns != NULL && !xc14n_is_xml(a->ns))
			xc14n_use(c, &nd, a->ns, 1);
		for (i = 0; i < na && xc14n_attr_cmp(c->attr[i], a) < 0; i++)
			;
		memmove(&c->attr[i + 1], &c->attr[i],
		    (na - i) * sizeof(c->attr[0]));
		c->attr[i] = a;
		na++;
	}
	xc14n_lit(c, "<", 1);
	xc14n_qname(c, e->ns, e->name);
	for (i = 0; i < nd; i++) {
		ns = c->decl[i];
		if (ns != NULL && ns->prefix != NULL) {
			xc14n_lit(c, " xmlns:", 7);
			xc14n_puts(c, ns->prefix);
			xc14n_lit(c, "=\"", 2);
		} else
			xc14n_lit(c, " xmlns=\"", 8);
		if (ns != NULL)
			xc14n_puts(c, ns->href);
		xc14n_lit(c, "\"", 1);
	}
	for (i = 0; i < na; i++)
		xc14n_attr(c, c->attr[i]);
	xc14n_lit(c, ">", 1);
	if (depth == 0 && c->is_doc)
		c->pos = XC14N_INSIDE;
}

static void
xc14n_end(struct xc14n *c, xmlNodePtr e, int depth)
{
	xc14n_lit(c, "</", 2);
	xc14n_qname(c, e->ns, e->name);
	xc14n_lit(c, ">", 1);
	c->nns = c->frame[depth].n;
	if (depth == 0 && c->is_doc)
		c->pos = XC14N_AFTER;
}

static void
xc14n_pi(struct xc14n *c, xmlNodePtr n)
{
	if (c->pos == XC14N_AFTER)
		xc14n_lit(c, "\n", 1);
	xc14n_lit(c, "<?", 2);
	xc14n_puts(c, n->name);
	if (!xc14n_empty(n->content)) {
		xc14n_lit(c, " ", 1);
		xc14n_escape(c, n->content, XC14N_PI);
	}
	xc14n_lit(c, "?>", 2);
	if (c->pos == XC14N_BEFORE)
		xc14n_lit(c, "\n", 1);
}

static int
xc14n_emit(struct xc14n *c, xmlNodePtr n, int depth)
{
	switch (n->type) {
	case XML_ELEMENT_NODE:
		xc14n_start(c, n, depth);
		break;
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
		xc14n_escape(c, n->content, XC14N_TEXT);
		break;
	case XML_PI_NODE:
		xc14n_pi(c, n);
		break;
	default:          /* comments, DTD nodes */
		break;
	}
	return c->failed ? -1 : 0;
}

/* ---- the walk, shared by both passes ---- */

/* Every node of the region in document order but skip's subtree: check
 * (pass 0) or write (pass 1), elements closed on the way back up.  0, -1
 * (write failed) or XC14N_UNSUPPORTED. */
static int
xc14n_walk(struct xc14n *c, xmlNodePtr top, int pass)
{
	xmlNodePtr cur = c->is_doc ? top->children : top;
	int depth = 0, rc;

	while (cur != NULL) {
		if (cur != c->skip) {
			rc = pass == 0 ? xc14n_check(c, cur, depth) :
			    xc14n_emit(c, cur, depth);
			if (rc < 0)
				return rc;
			if (cur->type == XML_ELEMENT_NODE) {
				if (cur->children != NULL) {
					cur = cur->children;
					depth++;
					continue;
				}
				if (pass == 1)
					xc14n_end(c, cur, depth);
			}
		}
		while (depth > 0 && cur->next == NULL) {
			cur = cur->parent;
			depth--;
			if (pass == 1)
				xc14n_end(c, cur, depth);
		}
		if (depth == 0 && !c->is_doc)
			break;
		cur = cur->next;
	}
	return pass == 1 && c->failed ? -1 : 0;
}

int
xc14n_write(xmlNodePtr top, xmlNodePtr skip, xc14n_write_fn fn, void *ctx)
{
	struct xc14n c;
	xmlDocPtr doc;
	int rc;

	if (top == NULL || fn == NULL || top == skip)
		return -1;
	if (top->type == XML_DOCUMENT_NODE)
		doc = (xmlDocPtr)top;
	else if (top->type == XML_ELEMENT_NODE)
		doc = top->doc;
	else
		return XC14N_UNSUPPORTED;
	if (doc == NULL || doc->charset != XML_CHAR_ENCODING_UTF8)
		return XC14N_UNSUPPORTED;
	/* the arrays need no clearing: each entry is written before read */
	c.fn = fn;
	c.ctx = ctx;
	c.skip = skip;
	c.is_doc = top->type == XML_DOCUMENT_NODE;
	c.failed = 0;
	c.pos = c.is_doc ? XC14N_BEFORE : XC14N_INSIDE;
	c.uri_ok = NULL;
	c.len = 0;
	c.nns = 0;
	if ((rc = xc14n_walk(&c, top, 0)) < 0)
		return rc;
	rc = xc14n_walk(&c, top, 1);
	xc14n_flush(&c);
	return rc < 0 || c.failed ? -1 : 0;
}
