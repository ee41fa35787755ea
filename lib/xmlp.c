/* xmlp: hardened XML parsing of a request body, from memory only.
 *
 * Two layers.  A linear pre-scan over the raw bytes (one pass, no
 * allocation) rejects what libxml2 must never see: a DOCTYPE, too many
 * attributes on one element (libxml2 2.9 checks duplicates quadratically),
 * nesting deeper than the cap, encodings the pre-scan cannot read.  Then
 * libxml2 parses with NONET and without NOENT/DTDLOAD/DTDATTR/HUGE/XINCLUDE,
 * with SAX hooks that stop the parser on any DTD construct as a second
 * line of defence.  Comments and processing instructions are removed from
 * the resulting tree. */
#define _GNU_SOURCE /* memmem */
#include "utf8.h"
#include "xmlp.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

/* XML_PARSE_COMPACT keeps short texts (most of a declaration's: codes and
 * indentation) inside their nodes instead of a malloc each: parse ~143 ->
 * ~122 us per 20-item declaration.  The tree may still be changed through
 * libxml2's own functions (xmlp_strip, dsig_remove_signature do), which
 * know such nodes; never by writing node->content directly. */
#define XMLP_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | \
    XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES | XML_PARSE_COMPACT)
#define XMLP_PATH_DEPTH 128 /* ancestors named in a pointer */
/* Longest single piece (text run, CDATA, comment, PI, start tag): libxml2's
 * own XML_MAX_TEXT_LENGTH, which 2.9 does not enforce on text nodes. */
#define XMLP_MAX_PIECE 10000000

/* Encodings whose bytes 0x00-0x7f are ASCII, so the pre-scan sees every
 * markup character libxml2 sees. */
static const char *const xmlp_encodings[] = {
	"UTF-8", "UTF8", "US-ASCII", "ASCII", "ISO-8859-1", "ISO-8859-15",
	"LATIN1", "WINDOWS-1252", NULL
};

struct xmlp_state {
	int dtd;       /* a DTD construct reached libxml2 */
	int err_line;  /* first error (not warning) libxml2 reported */
	char err_msg[200];
};

static int
xmlp_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Line of offset off, computed only when an error is reported. */
static int
xmlp_line_at(const unsigned char *s, size_t off)
{
	const unsigned char *p = s, *end = s + off;
	int line = 1;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (line < INT_MAX)
			line++;
		p++;
	}
	return line;
}

static int
xmlp_starts(const unsigned char *s, size_t len, size_t i, const char *lit)
{
	size_t n = strlen(lit);

	return len - i >= n && memcmp(s + i, lit, n) == 0;
}

/* Offset just past the first occurrence of lit at or after i, or len.
 * memchr on its first byte, not memmem: memmem reads (and sanitizers
 * check) the whole rest of the buffer on every call. */
static size_t
xmlp_skip_past(const unsigned char *s, size_t len, size_t i, const char *lit)
{
	size_t n = strlen(lit);
	const unsigned char *p;

	while (i < len && (p = memchr(s + i, lit[0], len - i)) != NULL) {
		i = (size_t)(p - s);
		if (len - i >= n && memcmp(p, lit, n) == 0)
			return i + n;
		i++;
	}
	return len;
}

/* Checks encoding="..." of an XML declaration starting at i ("<?xml").
 * Returns 0 when absent or allowed. */
static int
xmlp_check_encoding(const unsigned char *s, size_t len, size_t i,
    struct errs *e)
{
	size_t end = xmlp_skip_past(s, len, i, "?>"), j, k, n;
	const unsigned char *p;
	char name[32];
	unsigned char q;
	int ok = 0;

	p = memmem(s + i, end - i, "encoding", 8);
	if (p == NULL)
		return 0;
	j = (size_t)(p - s) + 8;
	while (j < end && xmlp_is_space(s[j]))
		j++;
	if (j < end && s[j] == '=')
		j++;
	while (j < end && xmlp_is_space(s[j]))
		j++;
	if (j >= end || (s[j] != '"' && s[j] != '\''))
		goto bad;
	q = s[j++];
	for (k = j; k < end && s[k] != q; k++)
		;
	n = k - j;
	if (k >= end || n == 0 || n >= sizeof(name))
		goto bad;
	for (k = j; k < j + n; k++)
		if (!((s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= 'a' &&
		    s[k] <= 'z') || (s[k] >= '0' && s[k] <= '9') ||
		    s[k] == '-' || s[k] == '_' || s[k] == '.' || s[k] == ':'))
			goto bad;
	memcpy(name, s + j, n);
	name[n] = '\0';
	for (k = 0; xmlp_encodings[k] != NULL; k++)
		if (strcasecmp(name, xmlp_encodings[k]) == 0)
			ok = 1;
	if (ok)
		return 0;
	err_add(e, "XML_MALFORMED", xmlp_line_at(s, i), "",
	    "encoding \"%s\" is not accepted (use UTF-8)", name);
	return -1;
bad:
	err_add(e, "XML_MALFORMED", xmlp_line_at(s, i), "",
	    "unreadable encoding declaration");
	return -1;
}

/* Start tag at s[i] (just after '<'): counts attributes as '=' outside
 * quotes (names cannot contain '=', values are quoted).  Returns the
 * offset after '>' (or len), *empty set for "/>", *nattr the count. */
static size_t
xmlp_scan_tag(const unsigned char *s, size_t len, size_t i, int max_attrs,
    int *nattr, int *empty)
{
	unsigned char quote = 0, c;
	size_t j;

	*nattr = 0;
	*empty = 0;
	for (j = i; j < len; j++) {
		c = s[j];
		if (quote != 0) {
			if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '=') {
			if (++*nattr > max_attrs)
				return j;
		} else if (c == '>') {
			*empty = s[j - 1] == '/';
			return j + 1;
		}
	}
	return len;
}

/* The pre-scan.  It tracks markup the way an XML parser does (comments,
 * CDATA, PIs, quoted attribute values), so it never rejects a document
 * libxml2 would accept within the caps, and never loses sync with it on
 * one libxml2 accepts.  *junk: whether a comment or a PI (other than the
 * XML declaration) was seen, i.e. whether xmlp_strip has work to do. */
static int
xmlp_prescan(const unsigned char *s, size_t len, const struct xmlp_limits *lim,
    int *junk, struct errs *e)
{
	size_t i = 0, start, xml_decl = (size_t)-1;
	const unsigned char *p;
	int depth = 0, nattr, empty;

	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		i = 3;
	while (i < len && xmlp_is_space(s[i]))
		i++;
	if (i == len) {
		err_add(e, "XML_EMPTY", 0, "", "the document is empty");
		return -1;
	}
	if (memchr(s, '\0', len) != NULL || s[i] != '<') {
		err_add(e, "XML_MALFORMED", 1, "",
		    "not an XML document in UTF-8 or an ASCII-compatible encoding");
		return -1;
	}
	if (xmlp_starts(s, len, i, "<?xml") && i + 5 < len &&
	    xmlp_is_space(s[i + 5])) {
		if (xmlp_check_encoding(s, len, i, e) != 0)
			return -1;
		xml_decl = i;
	}
	*junk = 0;
	while (i < len) {
		if ((p = memchr(s + i, '<', len - i)) == NULL)
			p = s + len;
		start = (size_t)(p - s);
		if (start - i > XMLP_MAX_PIECE)
			goto too_big;
		i = start + 1;
		if (i >= len)
			break;
		if (s[i] == '!') {
			if (xmlp_starts(s, len, i, "!--")) {
				*junk = 1;
				i = xmlp_skip_past(s, len, i + 3, "-->");
			} else if (xmlp_starts(s, len, i, "![CDATA[")) {
				i = xmlp_skip_past(s, len, i + 8, "]]>");
			} else if (xmlp_starts(s, len, i, "!DOCTYPE")) {
				err_add(e, "XML_DOCTYPE", xmlp_line_at(s, start), "",
				    "a DOCTYPE (DTD) is not allowed");
				return -1;
			}
			/* anything else after "<!" is malformed: libxml2 says so */
		} else if (s[i] == '?') {
			if (start != xml_decl)
				*junk = 1;
			i = xmlp_skip_past(s, len, i + 1, "?>");
		} else if (s[i] == '/') {
			if (depth > 0)
				depth--;
			i = xmlp_skip_past(s, len, i + 1, ">");
		} else {
			i = xmlp_scan_tag(s, len, i, lim->max_attrs, &nattr, &empty);
			if (nattr > lim->max_attrs) {
				err_add(e, "XML_TOO_MANY_ATTRS", xmlp_line_at(s, start),
				    "", "more than %d attributes on one element",
				    lim->max_attrs);
				return -1;
			}
			if (depth + 1 > lim->max_depth) { /* "<x/>" is a level too */
				err_add(e, "XML_TOO_DEEP", xmlp_line_at(s, start), "",
				    "elements nested deeper than %d", lim->max_depth);
				return -1;
			}
			if (!empty)
				depth++;
		}
		if (i - start > XMLP_MAX_PIECE)
			goto too_big;
	}
	return 0;
too_big:
	err_add(e, "XML_TOO_BIG", xmlp_line_at(s, start), "",
	    "a text, tag or comment of more than %d bytes", XMLP_MAX_PIECE);
	return -1;
}

/* SAX hooks for DTD constructs: stop at once.  The pre-scan already
 * rejects any DOCTYPE; these only matter if it were ever bypassed. */
static void
xmlp_stop(void *ctx)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xmlp_state *st = ctxt->_private;

	st->dtd = 1;
	xmlStopParser(ctxt);
}

static void
xmlp_sax_subset(void *ctx, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	(void)name;
	(void)eid;
	(void)sid;
	xmlp_stop(ctx);
}

static void
xmlp_sax_entity(void *ctx, const xmlChar *name, int type, const xmlChar *pid,
    const xmlChar *sid, xmlChar *content)
{
	(void)name;
	(void)type;
	(void)pid;
	(void)sid;
	(void)content;
	xmlp_stop(ctx);
}

static void
xmlp_sax_unparsed(void *ctx, const xmlChar *name, const xmlChar *pid,
    const xmlChar *sid, const xmlChar *notation)
{
	(void)name;
	(void)pid;
	(void)sid;
	(void)notation;
	xmlp_stop(ctx);
}

static xmlEntityPtr
xmlp_sax_get_entity(void *ctx, const xmlChar *name)
{
	/* only the five predefined entities exist */
	(void)ctx;
	return xmlGetPredefinedEntity(name);
}

static xmlEntityPtr
xmlp_sax_get_pentity(void *ctx, const xmlChar *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

/* Keeps the first error for the report; nothing is printed. */
static void
xmlp_sax_error(void *ctx, xmlErrorPtr err)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xmlp_state *st = ctxt != NULL ? ctxt->_private : NULL;

	if (st == NULL || st->err_msg[0] != '\0' || err == NULL ||
	    err->level < XML_ERR_ERROR || err->message == NULL)
		return;
	snprintf(st->err_msg, sizeof(st->err_msg), "%s", err->message);
	st->err_line = err->line;
}

static int
xmlp_is_junk(const xmlNode *n)
{
	return n != NULL && (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE);
}

/* t is a text node followed by a comment or PI: removes the comments and
 * PIs of the run of text/comment/PI siblings from t, joining its text
 * nodes into t in one copy (merging pairwise would be quadratic in the
 * number of comments). */
static void
xmlp_strip_run(xmlNodePtr t)
{
	xmlNodePtr n, next, end;
	size_t total = 0, pos = 0, k;
	int texts = 0;
	xmlChar *buf;

	for (n = t; n != NULL && (n->type == XML_TEXT_NODE || xmlp_is_junk(n));
	    n = n->next)
		if (n->type == XML_TEXT_NODE) {
			total += (size_t)xmlStrlen(n->content);
			texts++;
		}
	end = n;
	if (texts > 1 && total < INT_MAX &&
	    (buf = xmlMalloc(total + 1)) != NULL) {
		for (n = t; n != end; n = n->next)
			if (n->type == XML_TEXT_NODE && n->content != NULL) {
				k = (size_t)xmlStrlen(n->content);
				memcpy(buf + pos, n->content, k);
				pos += k;
			}
		buf[pos] = '\0';
		xmlNodeSetContentLen(t, buf, (int)pos);
		xmlFree(buf);
	} else {
		texts = 1; /* keep the other text nodes as they are */
	}
	for (n = t->next; n != end; n = next) {
		next = n->next;
		if (texts > 1 || xmlp_is_junk(n)) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
		}
	}
}

/* Unlinks and frees comments and PIs, iteratively. */
static void
xmlp_strip(xmlDocPtr doc)
{
	xmlNodePtr n = doc->children, next, parent;

	while (n != NULL) {
		if (xmlp_is_junk(n)) {
			next = n->next;
			parent = n->parent;
			xmlUnlinkNode(n);
			xmlFreeNode(n);
			if (next != NULL) {
				n = next;
				continue;
			}
			n = parent;
		} else if (n->type == XML_TEXT_NODE && xmlp_is_junk(n->next)) {
			xmlp_strip_run(n);
		} else if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			continue;
		}
		/* next in document order: a sibling, else an ancestor's sibling */
		while (n != NULL && n != (xmlNodePtr)doc && n->next == NULL)
			n = n->parent;
		n = (n == NULL || n == (xmlNodePtr)doc) ? NULL : n->next;
	}
}

/* The libxml2 half: parses len bytes that passed the pre-scan. */
static xmlDocPtr
xmlp_read(const char *buf, int len, struct errs *e)
{
	xmlParserCtxtPtr ctxt;
	struct xmlp_state st = { 0 };
	xmlDocPtr doc = NULL;
	xmlErrorPtr le;

	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		err_add(e, "NOMEM", 0, "", "out of memory");
		return NULL;
	}
	ctxt->_private = &st;
	ctxt->sax->internalSubset = xmlp_sax_subset;
	ctxt->sax->externalSubset = xmlp_sax_subset;
	ctxt->sax->entityDecl = xmlp_sax_entity;
	ctxt->sax->unparsedEntityDecl = xmlp_sax_unparsed;
	ctxt->sax->getEntity = xmlp_sax_get_entity;
	ctxt->sax->getParameterEntity = xmlp_sax_get_pentity;
	ctxt->sax->serror = xmlp_sax_error;
	doc = xmlCtxtReadMemory(ctxt, buf, len, NULL, NULL, XMLP_OPTIONS);
	if (st.dtd) {
		err_add(e, "XML_DOCTYPE", ctxt->input ? ctxt->input->line : 0, "",
		    "a DTD construct is not allowed");
		goto fail;
	}
	if (doc == NULL || !ctxt->wellFormed || !ctxt->nsWellFormed ||
	    xmlDocGetRootElement(doc) == NULL) {
		le = xmlCtxtGetLastError(ctxt);
		if (st.err_msg[0] != '\0')
			err_add(e, "XML_MALFORMED", st.err_line, "", "%s",
			    st.err_msg);
		else if (le != NULL && le->code != 0 && le->message != NULL)
			err_add(e, "XML_MALFORMED", le->line, "", "%s",
			    le->message);
		else
			err_add(e, "XML_MALFORMED", 0, "",
			    "the document is not well-formed");
		goto fail;
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
fail:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return NULL;
}

xmlDocPtr
xmlp_parse(const char *buf, size_t len, const struct xmlp_limits *lim,
    struct errs *e)
{
	struct xmlp_limits l = XMLP_DEFAULT_LIMITS;
	xmlDocPtr doc;
	int junk = 0;

	if (lim != NULL) {
		/* a zero cap means the default one, never "none" */
		l.max_bytes = lim->max_bytes;
		if (lim->max_depth > 0)
			l.max_depth = lim->max_depth;
		if (lim->max_attrs > 0)
			l.max_attrs = lim->max_attrs;
	}
	if (buf == NULL || len == 0) {
		err_add(e, "XML_EMPTY", 0, "", "the document is empty");
		return NULL;
	}
	if ((l.max_bytes > 0 && len > l.max_bytes) || len > INT_MAX) {
		err_add(e, "XML_TOO_BIG", 0, "", "document of %zu bytes is over "
		    "the limit of %zu", len, l.max_bytes > 0 ?
		    l.max_bytes : (size_t)INT_MAX);
		return NULL;
	}
	if (xmlp_prescan((const unsigned char *)buf, len, &l, &junk, e) != 0)
		return NULL;
	if ((doc = xmlp_read(buf, (int)len, e)) == NULL)
		return NULL;
	if (junk)
		xmlp_strip(doc);
	return doc;
}

/* Appends s to out at *pos, keeping room for the NUL; sets *cut when it
 * had to stop. */
static void
xmlp_put(char *out, size_t cap, size_t *pos, const char *s, int *cut)
{
	while (*s != '\0') {
		if (*pos + 1 >= cap) {
			*cut = 1;
			return;
		}
		out[(*pos)++] = *s++;
	}
}

static int
xmlp_same_name(const xmlNode *a, const xmlNode *b)
{
	const xmlChar *ha = a->ns ? a->ns->href : NULL;
	const xmlChar *hb = b->ns ? b->ns->href : NULL;

	return a->type == b->type &&
	    (a->name == b->name || xmlStrEqual(a->name, b->name)) &&
	    (ha == hb || xmlStrEqual(ha, hb));
}

static void
xmlp_put_name(const xmlNode *n, char *out, size_t cap, size_t *pos, int *cut)
{
	if (n->ns != NULL && n->ns->prefix != NULL) {
		xmlp_put(out, cap, pos, (const char *)n->ns->prefix, cut);
		xmlp_put(out, cap, pos, ":", cut);
	}
	xmlp_put(out, cap, pos, (const char *)n->name, cut);
}

/* "[k]" when the element has same-named siblings. */
static void
xmlp_put_index(const xmlNode *n, char *out, size_t cap, size_t *pos, int *cut)
{
	const xmlNode *s;
	unsigned long k = 1;
	int others = 0;
	char num[24];

	for (s = n->prev; s != NULL; s = s->prev)
		if (xmlp_same_name(s, n)) {
			k++;
			others = 1;
		}
	for (s = n->next; s != NULL && !others; s = s->next)
		if (xmlp_same_name(s, n))
			others = 1;
	if (!others)
		return;
	snprintf(num, sizeof(num), "[%lu]", k);
	xmlp_put(out, cap, pos, num, cut);
}

void
xmlp_node_path(const xmlNode *n, char *out, size_t cap)
{
	const xmlNode *chain[XMLP_PATH_DEPTH], *attr = NULL, *cur;
	size_t depth = 0, pos = 0;
	int cut = 0, deeper = 0;

	if (out == NULL || cap == 0)
		return;
	out[0] = '\0';
	if (n == NULL)
		return;
	if (n->type == XML_NAMESPACE_DECL)
		return; /* an xmlNs: no parent to follow */
	if (n->type == XML_ATTRIBUTE_NODE) {
		attr = n;
		n = n->parent;
	} else if (n->type != XML_ELEMENT_NODE && n->type != XML_DOCUMENT_NODE) {
		n = n->parent; /* text, CDATA ...: their element */
	}
	for (cur = n; cur != NULL && cur->type == XML_ELEMENT_NODE;
	    cur = cur->parent) {
		if (depth == XMLP_PATH_DEPTH) {
			deeper = 1;
			break;
		}
		chain[depth++] = cur;
	}
	if (deeper)
		xmlp_put(out, cap, &pos, "/...", &cut);
	while (depth > 0 && !cut) {
		cur = chain[--depth];
		xmlp_put(out, cap, &pos, "/", &cut);
		xmlp_put_name(cur, out, cap, &pos, &cut);
		xmlp_put_index(cur, out, cap, &pos, &cut);
	}
	if (attr != NULL && !cut) {
		xmlp_put(out, cap, &pos, "/@", &cut);
		xmlp_put_name(attr, out, cap, &pos, &cut);
	}
	if (pos == 0 && !cut)
		xmlp_put(out, cap, &pos, "/", &cut);
	if (cut)
		pos = utf8_cut(out, pos);
	out[pos] = '\0';
}
