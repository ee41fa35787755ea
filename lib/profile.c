/* profile: document kinds, their schemas and their indexed fields.
 * The XPath evaluation itself is in profile_xpath.c. */
#include "profile.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/xmlschemas.h>

#include "profile_xpath.h"
#include "xmlp.h"

#define PROFILE_SET_MAX 64
#define PROFILE_NAME_MAX 64

struct profile {
	struct profile_def def; /* strings owned */
	xmlSchemaPtr schema;
	xmlNsPtr ns[PROFILE_NS_MAX];
	struct profile_xpath *xp[PF_COUNT];
};

struct profile_set {
	struct profile *v[PROFILE_SET_MAX];
	size_t n;
};

static const char *const profile_field_names[PF_COUNT] = {
	[PF_LRN] = "lrn",
	[PF_DECLARANT] = "declarant",
	[PF_TYPE] = "type",
	[PF_FUNCTION] = "function",
	[PF_REF_MRN] = "ref_mrn",
	[PF_ISSUED] = "issued",
	[PF_IMPORTER] = "importer",
	[PF_EXPORTER] = "exporter",
	[PF_INVOICE_AMOUNT] = "invoice_amount",
	[PF_INVOICE_CURRENCY] = "invoice_currency",
	[PF_ITEM_QUANTITY] = "item_quantity",
	[PF_ITEMS] = "items",
	[PF_ITEM_SEQ] = "item.seq",
	[PF_ITEM_HS] = "item.hs",
	[PF_ITEM_ORIGIN] = "item.origin",
	[PF_ITEM_GROSS] = "item.gross",
	[PF_ITEM_NET] = "item.net",
	[PF_ITEM_VALUE] = "item.value",
	[PF_ITEM_CURRENCY] = "item.currency",
};

/* Where each text field lands: offset and size in struct decl (document
 * fields) or struct decl_item (item fields).  Size 0: not a text slot. */
struct profile_slot {
	size_t off, size;
};

#define PROFILE_DSLOT(f) { offsetof(struct decl, f), sizeof(((struct decl *)0)->f) }
#define PROFILE_ISLOT(f) { offsetof(struct decl_item, f), \
	sizeof(((struct decl_item *)0)->f) }

static const struct profile_slot profile_slots[PF_COUNT] = {
	[PF_LRN] = PROFILE_DSLOT(lrn),
	[PF_DECLARANT] = PROFILE_DSLOT(declarant),
	[PF_TYPE] = PROFILE_DSLOT(type),
	[PF_FUNCTION] = PROFILE_DSLOT(function),
	[PF_REF_MRN] = PROFILE_DSLOT(ref_mrn),
	[PF_ISSUED] = PROFILE_DSLOT(issued),
	[PF_IMPORTER] = PROFILE_DSLOT(importer),
	[PF_EXPORTER] = PROFILE_DSLOT(exporter),
	[PF_INVOICE_AMOUNT] = PROFILE_DSLOT(invoice_amount),
	[PF_INVOICE_CURRENCY] = PROFILE_DSLOT(invoice_currency),
	[PF_ITEM_HS] = PROFILE_ISLOT(hs),
	[PF_ITEM_ORIGIN] = PROFILE_ISLOT(origin),
	[PF_ITEM_GROSS] = PROFILE_ISLOT(gross),
	[PF_ITEM_NET] = PROFILE_ISLOT(net),
	[PF_ITEM_VALUE] = PROFILE_ISLOT(value),
	[PF_ITEM_CURRENCY] = PROFILE_ISLOT(currency),
};

const char *
profile_field_name(enum profile_field f)
{
	return (unsigned)f < PF_COUNT ? profile_field_names[f] : NULL;
}

int
profile_field_by_name(const char *name)
{
	int f;

	for (f = 0; name != NULL && f < PF_COUNT; f++)
		if (strcmp(profile_field_names[f], name) == 0)
			return f;
	return -1;
}

static void
profile_free(struct profile *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < PF_COUNT; i++) {
		profile_xpath_free(p->xp[i]);
		free((char *)p->def.xpath[i]);
	}
	for (i = 0; i < PROFILE_NS_MAX; i++) {
		if (p->ns[i] != NULL)
			xmlFreeNs(p->ns[i]);
		free((char *)p->def.ns_prefix[i]);
		free((char *)p->def.ns_uri[i]);
	}
	if (p->schema != NULL)
		xmlSchemaFree(p->schema);
	free((char *)p->def.name);
	free((char *)p->def.root_ns);
	free((char *)p->def.root_name);
	free((char *)p->def.schema);
	free(p);
}

struct profile_set *
profile_set_new(void)
{
	return calloc(1, sizeof(struct profile_set));
}

void
profile_set_free(struct profile_set *ps)
{
	size_t i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->n; i++)
		profile_free(ps->v[i]);
	free(ps);
}

size_t
profile_set_count(const struct profile_set *ps)
{
	return ps->n;
}

static int
profile_is_ncname(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9') ||
	    s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
		    s[i] == '.' || (unsigned char)s[i] >= 0x80))
			return 0;
	return i <= PROFILE_NAME_MAX * 4;
}

/* Checks what can be checked without compiling; 0 or -1 with errors. */
static int
profile_check_def(const struct profile_set *ps, const struct profile_def *d,
    struct errs *e)
{
	const char *nm = d->name != NULL ? d->name : "?";
	const char *rns = d->root_ns != NULL ? d->root_ns : "";
	size_t i, j;
	int f, bad = 0;

	if (d->name == NULL || d->name[0] == '\0' ||
	    strlen(d->name) > PROFILE_NAME_MAX) {
		err_add(e, "PROFILE_CONFIG", 0, "", "profile without a usable "
		    "name");
		bad = 1;
	}
	if (!profile_is_ncname(d->root_name)) {
		err_add(e, "PROFILE_CONFIG", 0, "", "profile %s: root must be "
		    "{namespace}LocalName", nm);
		bad = 1;
	}
	if (d->schema == NULL || d->schema[0] == '\0') {
		err_add(e, "PROFILE_CONFIG", 0, "", "profile %s: no schema", nm);
		bad = 1;
	}
	if (d->n_ns > PROFILE_NS_MAX) {
		err_add(e, "PROFILE_CONFIG", 0, "", "profile %s: more than %d "
		    "namespace prefixes", nm, PROFILE_NS_MAX);
		return -1;
	}
	for (i = 0; i < d->n_ns; i++) {
		if (!profile_is_ncname(d->ns_prefix[i]) || d->ns_uri[i] == NULL ||
		    d->ns_uri[i][0] == '\0') {
			err_add(e, "PROFILE_CONFIG", 0, "", "profile %s: bad "
			    "namespace prefix or URI (ns.%s)", nm,
			    d->ns_prefix[i] != NULL ? d->ns_prefix[i] : "?");
			bad = 1;
			continue;
		}
		for (j = 0; j < i; j++)
			if (d->ns_prefix[j] != NULL &&
			    strcmp(d->ns_prefix[j], d->ns_prefix[i]) == 0) {
				err_add(e, "PROFILE_CONFIG", 0, "", "profile %s: "
				    "prefix %s bound twice", nm, d->ns_prefix[i]);
				bad = 1;
			}
	}
	if (d->xpath[PF_LRN] == NULL || d->xpath[PF_DECLARANT] == NULL) {
		err_add(e, "PROFILE_CONFIG", 0, "", "profile %s: xpath.lrn and "
		    "xpath.declarant are required", nm);
		bad = 1;
	}
	for (f = PF_ITEMS + 1; f < PF_COUNT; f++)
		if (d->xpath[f] != NULL && d->xpath[PF_ITEMS] == NULL) {
			err_add(e, "PROFILE_CONFIG", 0, "", "profile %s: xpath.%s "
			    "needs xpath.items", nm, profile_field_names[f]);
			bad = 1;
			break;
		}
	for (i = 0; i < ps->n; i++) {
		const struct profile_def *o = &ps->v[i]->def;

		if (d->name != NULL && strcmp(o->name, d->name) == 0) {
			err_add(e, "PROFILE_CONFIG", 0, "", "profile %s defined "
			    "twice", nm);
			bad = 1;
		}
		if (d->root_name != NULL && strcmp(o->root_ns, rns) == 0 &&
		    strcmp(o->root_name, d->root_name) == 0) {
			err_add(e, "PROFILE_CONFIG", 0, "", "profiles %s and %s "
			    "have the same root {%s}%s", o->name, nm, rns,
			    d->root_name);
			bad = 1;
		}
	}
	if (ps->n >= PROFILE_SET_MAX) {
		err_add(e, "PROFILE_CONFIG", 0, "", "more than %d profiles",
		    PROFILE_SET_MAX);
		bad = 1;
	}
	return bad ? -1 : 0;
}

static int
profile_dup(const char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	return (*dst = strdup(src)) == NULL ? -1 : 0;
}

/* Copies the strings of src into p->def. */
static int
profile_copy_def(struct profile *p, const struct profile_def *src)
{
	struct profile_def *d = &p->def;
	size_t i;
	int rc = 0;

	d->signature_in_schema = src->signature_in_schema;
	d->signature_required = src->signature_required;
	d->allow_rsa_sha1 = src->allow_rsa_sha1;
	d->apply_rules = src->apply_rules;
	d->n_ns = src->n_ns;
	rc |= profile_dup(&d->name, src->name);
	rc |= profile_dup(&d->root_ns, src->root_ns != NULL ? src->root_ns : "");
	rc |= profile_dup(&d->root_name, src->root_name);
	rc |= profile_dup(&d->schema, src->schema);
	for (i = 0; i < PF_COUNT; i++)
		rc |= profile_dup(&d->xpath[i], src->xpath[i]);
	for (i = 0; i < src->n_ns; i++) {
		rc |= profile_dup(&d->ns_prefix[i], src->ns_prefix[i]);
		rc |= profile_dup(&d->ns_uri[i], src->ns_uri[i]);
		if (rc == 0 && (p->ns[i] = xmlNewNs(NULL, BAD_CAST d->ns_uri[i],
		    BAD_CAST d->ns_prefix[i])) == NULL)
			rc = -1;
	}
	return rc;
}

struct profile_cfg_ctx {
	struct errs *e;
	const struct profile_def *def;
	int n;
};

static void
profile_cfg_error(void *ctx, xmlErrorPtr err)
{
	struct profile_cfg_ctx *c = ctx;

	if (err == NULL || err->level < XML_ERR_ERROR)
		return;
	c->n++;
	err_add(c->e, "PROFILE_CONFIG", err->line, "", "profile %s: schema "
	    "%s: %s:%d: %s", c->def->name, c->def->schema,
	    err->file != NULL ? err->file : "?", err->line,
	    err->message != NULL ? err->message : "error");
}

/* Compiles the XSD; the schema parser reads the XSD files (and what they
 * include or import) from disk: that is configuration. */
static int
profile_compile_schema(struct profile *p, struct errs *e)
{
	struct profile_cfg_ctx c = { e, &p->def, 0 };
	xmlStructuredErrorFunc old = xmlStructuredError;
	void *oldctx = xmlStructuredErrorContext;
	xmlSchemaParserCtxtPtr pc;

	/* errors of the XML parser under the schema parser are reported on
	 * this thread's structured channel: borrow it for the duration */
	xmlSetStructuredErrorFunc(&c, profile_cfg_error);
	if ((pc = xmlSchemaNewParserCtxt(p->def.schema)) != NULL) {
		xmlSchemaSetParserStructuredErrors(pc, profile_cfg_error, &c);
		p->schema = xmlSchemaParse(pc);
		xmlSchemaFreeParserCtxt(pc);
	}
	xmlSetStructuredErrorFunc(oldctx, old);
	if (p->schema == NULL) {
		err_add(e, "PROFILE_CONFIG", 0, "", "profile %s: cannot compile "
		    "schema %s", p->def.name, p->def.schema);
		return -1;
	}
	return 0;
}

int
profile_set_add(struct profile_set *ps, const struct profile_def *def,
    struct errs *e)
{
	struct profile *p = NULL;
	char what[PROFILE_NAME_MAX + 48];
	int f, bad = 0;

	if (profile_check_def(ps, def, e) != 0)
		return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    profile_copy_def(p, def) != 0) {
		err_add(e, "NOMEM", 0, "", "out of memory");
		goto fail;
	}
	for (f = 0; f < PF_COUNT; f++) {
		if (p->def.xpath[f] == NULL)
			continue;
		snprintf(what, sizeof(what), "profile %s: xpath.%s",
		    p->def.name, profile_field_names[f]);
		p->xp[f] = profile_xpath_new(p->def.xpath[f], p->ns, p->def.n_ns,
		    0, what, e);
		if (p->xp[f] == NULL)
			bad = 1;
	}
	if (bad || profile_compile_schema(p, e) != 0)
		goto fail;
	ps->v[ps->n++] = p;
	return 0;
fail:
	profile_free(p);
	return -1;
}

const struct profile *
profile_match(const struct profile_set *ps, xmlDocPtr doc, struct errs *e)
{
	xmlNodePtr root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	const char *ns, *name;
	char ptr[ERR_PTR_MAX];
	size_t i;

	if (root == NULL) {
		err_add(e, "PROFILE_UNKNOWN", 0, "/", "the document has no root "
		    "element");
		return NULL;
	}
	ns = root->ns != NULL && root->ns->href != NULL ?
	    (const char *)root->ns->href : "";
	name = (const char *)root->name;
	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i]->def.root_name, name) == 0 &&
		    strcmp(ps->v[i]->def.root_ns, ns) == 0)
			return ps->v[i];
	xmlp_node_path(root, ptr, sizeof(ptr));
	err_add(e, "PROFILE_UNKNOWN", xmlGetLineNo(root) > 0 ?
	    (int)xmlGetLineNo(root) : 0, ptr, "no profile accepts the root "
	    "element {%s}%s", ns, name);
	return NULL;
}

const char *
profile_name(const struct profile *p)
{
	return p->def.name;
}

int
profile_signature_in_schema(const struct profile *p)
{
	return p->def.signature_in_schema;
}

int
profile_signature_required(const struct profile *p)
{
	return p->def.signature_required;
}

int
profile_allow_rsa_sha1(const struct profile *p)
{
	return p->def.allow_rsa_sha1;
}

static int
profile_line(const xmlNode *n)
{
	long l;

	if (n == NULL || n->type == XML_NAMESPACE_DECL)
		return 0;
	if (n->type == XML_ATTRIBUTE_NODE)
		n = n->parent;
	l = n != NULL ? xmlGetLineNo(n) : 0;
	return l > 0 && l < INT_MAX ? (int)l : 0;
}

/* libxml2 reports an attribute's error on its element, naming it in the
 * message ("Element 'x', attribute '{ns}a': ..."): point at the attribute. */
static const xmlNode *
profile_err_attr(const xmlNode *el, const char *msg)
{
	const char *a, *b, *uri = NULL, *name;
	size_t ulen = 0, nlen;
	xmlAttrPtr at;

	if (el == NULL || el->type != XML_ELEMENT_NODE || msg == NULL ||
	    (a = strstr(msg, "', attribute '")) == NULL)
		return el;
	a += 14;
	if ((b = strchr(a, '\'')) == NULL)
		return el;
	name = a;
	if (*a == '{') {
		const char *close = memchr(a, '}', (size_t)(b - a));

		if (close == NULL)
			return el;
		uri = a + 1;
		ulen = (size_t)(close - uri);
		name = close + 1;
	}
	nlen = (size_t)(b - name);
	for (at = el->properties; at != NULL; at = at->next) {
		const char *an = (const char *)at->name;
		const char *au = at->ns != NULL ? (const char *)at->ns->href : NULL;

		if (strlen(an) != nlen || memcmp(an, name, nlen) != 0)
			continue;
		if (uri == NULL ? au == NULL : (au != NULL &&
		    strlen(au) == ulen && memcmp(au, uri, ulen) == 0))
			return (const xmlNode *)at;
	}
	return el;
}

struct profile_val_ctx {
	struct errs *e;
	int n;
};

static void
profile_val_error(void *ctx, xmlErrorPtr err)
{
	struct profile_val_ctx *c = ctx;
	char ptr[ERR_PTR_MAX] = "";
	const xmlNode *node;
	int line;

	if (err == NULL || err->level < XML_ERR_ERROR)
		return;
	c->n++;
	if (c->e->n >= ERR_LIST_CAP) { /* only counted: skip the pointer */
		err_add(c->e, "XSD_INVALID", 0, "", "schema error");
		return;
	}
	node = profile_err_attr(err->node, err->message);
	xmlp_node_path(node, ptr, sizeof(ptr));
	line = err->line > 0 ? err->line : profile_line(node);
	err_add(c->e, "XSD_INVALID", line, ptr, "%s",
	    err->message != NULL ? err->message : "schema error");
}

int
profile_validate(const struct profile *p, xmlDocPtr doc, struct errs *e)
{
	struct profile_val_ctx c = { e, 0 };
	xmlSchemaValidCtxtPtr vc;
	int rc;

	if ((vc = xmlSchemaNewValidCtxt(p->schema)) == NULL) {
		err_add(e, "NOMEM", 0, "", "out of memory");
		return -1;
	}
	xmlSchemaSetValidStructuredErrors(vc, profile_val_error, &c);
	rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	if (rc == 0 && c.n == 0)
		return 0;
	if (c.n == 0)
		err_add(e, "XSD_INVALID", 0, "", "schema validation failed "
		    "(libxml2 code %d)", rc);
	return -1;
}

/* One text field into dst[size]; FIELD_TOO_LONG when cut.  Returns 1 if
 * found, 0 if not, -1 on error. */
static int
profile_field(struct profile_xpath_run *r, const struct profile *p, int f,
    xmlNodePtr ctx, char *dst, size_t size, struct errs *e)
{
	char ptr[ERR_PTR_MAX];
	xmlNodePtr node;
	int rc;

	if (p->xp[f] == NULL)
		return 0;
	rc = profile_xpath_string(r, p->xp[f], ctx, dst, size, &node, e);
	if (rc == 2) {
		xmlp_node_path(node, ptr, sizeof(ptr));
		err_add(e, "FIELD_TOO_LONG", profile_line(node), ptr, "%s is "
		    "longer than %zu bytes", profile_field_names[f], size - 1);
		return -1;
	}
	return rc;
}

/* An integer field: *out = value, or dflt when absent. */
static void
profile_int_field(struct profile_xpath_run *r, const struct profile *p, int f,
    xmlNodePtr ctx, int dflt, int *out, struct errs *e)
{
	char buf[32], ptr[ERR_PTR_MAX], *end;
	xmlNodePtr node;
	long v;
	int rc;

	*out = dflt;
	if (p->xp[f] == NULL)
		return;
	rc = profile_xpath_string(r, p->xp[f], ctx, buf, sizeof(buf), &node, e);
	if (rc <= 0 || (rc == 1 && buf[0] == '\0'))
		return;
	v = strtol(buf, &end, 10);
	if (rc == 2 || *end != '\0' || end == buf || v < 0 || v > INT_MAX) {
		xmlp_node_path(node, ptr, sizeof(ptr));
		err_add(e, "FIELD_INVALID", profile_line(node), ptr, "%s is not "
		    "a whole number", profile_field_names[f]);
		return;
	}
	*out = (int)v;
}

static void
profile_item(struct profile_xpath_run *r, const struct profile *p,
    xmlNodePtr item, struct decl_item *it, struct errs *e)
{
	int f;

	xmlp_node_path(item, it->path, sizeof(it->path));
	profile_int_field(r, p, PF_ITEM_SEQ, item, 0, &it->seq, e);
	for (f = PF_ITEM_SEQ + 1; f < PF_COUNT; f++)
		profile_field(r, p, f, item,
		    (char *)it + profile_slots[f].off, profile_slots[f].size, e);
}

static int
profile_items(struct profile_xpath_run *r, const struct profile *p,
    struct decl *d, struct errs *e)
{
	xmlNodePtr nodes[DECL_ITEMS_MAX + 1]; /* one more, to point at it */
	char ptr[ERR_PTR_MAX];
	long n;
	size_t i;

	if (p->xp[PF_ITEMS] == NULL)
		return 0;
	n = profile_xpath_nodes(r, p->xp[PF_ITEMS], NULL, nodes,
	    DECL_ITEMS_MAX + 1, e);
	if (n < 0)
		return -1;
	if (n > DECL_ITEMS_MAX) {
		xmlp_node_path(nodes[DECL_ITEMS_MAX], ptr, sizeof(ptr));
		err_add(e, "ITEMS_TOO_MANY", profile_line(nodes[DECL_ITEMS_MAX]),
		    ptr, "more than %d goods items", DECL_ITEMS_MAX);
		return -1;
	}
	if (n == 0)
		return 0;
	if ((d->items = calloc((size_t)n, sizeof(*d->items))) == NULL) {
		err_add(e, "NOMEM", 0, "", "out of memory");
		return -1;
	}
	d->n_items = (size_t)n;
	for (i = 0; i < d->n_items; i++)
		profile_item(r, p, nodes[i], &d->items[i], e);
	return 0;
}

int
profile_extract(const struct profile *p, xmlDocPtr doc, struct decl *d,
    struct errs *e)
{
	struct profile_xpath_run r;
	size_t errs0 = e->n + e->dropped;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	char ptr[ERR_PTR_MAX];
	int f;

	decl_clear(d);
	profile_xpath_run_init(&r, doc, (xmlNsPtr *)p->ns, p->def.n_ns);
	for (f = 0; f < PF_ITEM_QUANTITY; f++)
		profile_field(&r, p, f, NULL, (char *)d + profile_slots[f].off,
		    profile_slots[f].size, e);
	profile_int_field(&r, p, PF_ITEM_QUANTITY, NULL, -1,
	    &d->goods_item_quantity, e);
	xmlp_node_path(root, ptr, sizeof(ptr));
	if (d->lrn[0] == '\0')
		err_add(e, "FIELD_MISSING", profile_line(root), ptr, "no LRN "
		    "(%s)", p->def.xpath[PF_LRN]);
	/* a missing declarant is the caller's policy: amendment and
	 * cancellation requests (CDS) name only the MRN */
	profile_items(&r, p, d, e);
	profile_xpath_run_done(&r);
	return e->n + e->dropped == errs0 ? 0 : -1;
}
