/* profile_xpath: field XPaths, by tree walk when they are plain child
 * steps, else by libxml2's XPath engine.  See profile_xpath.h. */
#include "profile_xpath.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/xpathInternals.h>

struct profile_xpath_step {
	char *uri;  /* NULL: no namespace */
	char *name; /* local name */
	/* optional predicate [pname='lit']: a child pname whose string
	 * value is exactly lit */
	struct profile_xpath_step *pred;
	char *lit;
	size_t lit_len;
};

struct profile_xpath {
	char *expr;
	xmlXPathCompExprPtr comp;
	int walk;     /* evaluated by the tree walk */
	/* calls a function: libxml2 caches the function pointer in the
	 * compiled expression while evaluating it, so each run compiles its
	 * own copy instead of sharing comp between threads */
	int per_run;
	int absolute; /* starts at the document node */
	size_t n_steps;
	struct profile_xpath_step step[PROFILE_XPATH_STEPS];
	int has_attr; /* final "@name" */
	struct profile_xpath_step attr;
};

/* Collects trimmed text into a bounded buffer. */
struct profile_xpath_sv {
	char *out;
	size_t cap, pos, keep;
	int started, over;
};

static int
profile_xpath_is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
profile_xpath_name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c >= 0x80;
}

static int
profile_xpath_name_char(unsigned char c)
{
	return profile_xpath_name_start(c) || (c >= '0' && c <= '9') ||
	    c == '.' || c == '-';
}

static const char *
profile_xpath_ns_uri(xmlNsPtr *ns, size_t n_ns, const char *prefix, size_t n)
{
	size_t i;

	for (i = 0; i < n_ns; i++)
		if (ns[i] != NULL && ns[i]->prefix != NULL &&
		    strlen((const char *)ns[i]->prefix) == n &&
		    memcmp(ns[i]->prefix, prefix, n) == 0)
			return (const char *)ns[i]->href;
	if (n == 3 && memcmp(prefix, "xml", 3) == 0)
		return (const char *)XML_XML_NAMESPACE;
	return NULL;
}

/* The XPath 1.0 core functions: the only ones a profile may call. */
static const char *const profile_xpath_funcs[] = {
	"last", "position", "count", "id", "local-name", "namespace-uri",
	"name", "string", "concat", "starts-with", "contains",
	"substring-before", "substring-after", "substring", "string-length",
	"normalize-space", "translate", "boolean", "not", "true", "false",
	"lang", "number", "sum", "floor", "ceiling", "round", NULL
};

static int
profile_xpath_is(const char *s, size_t n, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == n && memcmp(*list, s, n) == 0)
			return 1;
	return 0;
}

/* Checks the names in expr (outside string literals): every prefix
 * bound, only core functions, no variables.  Sets *calls when expr calls
 * a function.  Returns 0, or -1 with the error added. */
static int
profile_xpath_check_names(const char *expr, xmlNsPtr *ns, size_t n_ns,
    const char *what, int *calls, struct errs *e)
{
	static const char *const node_tests[] = { "node", "text", "comment",
	    "processing-instruction", "and", "or", "div", "mod", NULL };
	const unsigned char *p = (const unsigned char *)expr, *start, *q;
	unsigned char quote;
	int prefixed;

	*calls = 0;
	while (*p != '\0') {
		if (*p == '"' || *p == '\'') {
			quote = *p++;
			while (*p != '\0' && *p != quote)
				p++;
			if (*p != '\0')
				p++;
			continue;
		}
		if (*p == '$') {
			err_add(e, "PROFILE_CONFIG", 0, "", "%s: variables are not "
			    "supported in \"%s\"", what, expr);
			return -1;
		}
		if (!profile_xpath_name_start(*p)) {
			p++;
			continue;
		}
		for (start = p; profile_xpath_name_char(*p); p++)
			;
		prefixed = 0;
		if (p[0] == ':' && p[1] != ':') {
			if (profile_xpath_ns_uri(ns, n_ns, (const char *)start,
			    (size_t)(p - start)) == NULL) {
				err_add(e, "PROFILE_CONFIG", 0, "", "%s: prefix "
				    "\"%.*s\" in \"%s\" is not bound (add ns.%.*s = "
				    "URI)", what, (int)(p - start),
				    (const char *)start, expr, (int)(p - start),
				    (const char *)start);
				return -1;
			}
			prefixed = 1;
			for (p++, start = p; profile_xpath_name_char(*p); p++)
				;
		}
		for (q = p; *q == ' ' || *q == '\t' || *q == '\r' || *q == '\n';
		    q++)
			;
		if (*q != '(' || (!prefixed && profile_xpath_is((const char *)
		    start, (size_t)(p - start), node_tests)))
			continue;
		if (prefixed || !profile_xpath_is((const char *)start,
		    (size_t)(p - start), profile_xpath_funcs)) {
			err_add(e, "PROFILE_CONFIG", 0, "", "%s: unknown function "
			    "\"%.*s\" in \"%s\" (XPath 1.0 core functions only)",
			    what, (int)(p - start), (const char *)start, expr);
			return -1;
		}
		*calls = 1;
	}
	return 0;
}

/* Parses one ASCII QName at *pp into st; 0 if it is not one. */
static int
profile_xpath_qname(const char **pp, xmlNsPtr *ns, size_t n_ns,
    struct profile_xpath_step *st)
{
	const char *p = *pp, *a = p, *b;
	const char *uri = NULL;

	if (!profile_xpath_name_start((unsigned char)*p) ||
	    (unsigned char)*p >= 0x80)
		return 0;
	while (profile_xpath_name_char((unsigned char)*p) &&
	    (unsigned char)*p < 0x80)
		p++;
	b = p;
	if (*p == ':') {
		uri = profile_xpath_ns_uri(ns, n_ns, a, (size_t)(p - a));
		if (uri == NULL)
			return 0;
		a = ++p;
		if (!profile_xpath_name_start((unsigned char)*p) ||
		    (unsigned char)*p >= 0x80)
			return 0;
		while (profile_xpath_name_char((unsigned char)*p) &&
		    (unsigned char)*p < 0x80)
			p++;
		b = p;
	}
	st->uri = uri != NULL ? strdup(uri) : NULL;
	st->name = strndup(a, (size_t)(b - a));
	*pp = p;
	return 1;
}

/* An optional "[QName='literal']" after a step (no other predicate form
 * is walked).  Returns 1 if absent or parsed, 0 if not walkable. */
static int
profile_xpath_pred(const char **pp, xmlNsPtr *ns, size_t n_ns,
    struct profile_xpath_step *st)
{
	const char *p = *pp, *lit;
	char q;

	if (*p != '[')
		return 1;
	p++;
	while (*p == ' ')
		p++;
	if ((st->pred = calloc(1, sizeof(*st->pred))) == NULL ||
	    !profile_xpath_qname(&p, ns, n_ns, st->pred))
		return 0;
	while (*p == ' ')
		p++;
	if (*p++ != '=')
		return 0;
	while (*p == ' ')
		p++;
	if (*p != '\'' && *p != '"')
		return 0;
	q = *p++;
	for (lit = p; *p != '\0' && *p != q; p++)
		;
	if (*p != q)
		return 0;
	st->lit_len = (size_t)(p - lit);
	if ((st->lit = strndup(lit, st->lit_len)) == NULL)
		return 0;
	p++;
	while (*p == ' ')
		p++;
	if (*p != ']')
		return 0;
	*pp = p + 1;
	return 1;
}

/* Recognises the walkable form; 1 if x can be walked. */
static int
profile_xpath_parse_walk(struct profile_xpath *x, xmlNsPtr *ns, size_t n_ns)
{
	const char *p = x->expr;

	if (*p == '/') {
		x->absolute = 1;
		p++;
	}
	for (;;) {
		if (*p == '@') {
			p++;
			if (!profile_xpath_qname(&p, ns, n_ns, &x->attr))
				return 0;
			x->has_attr = 1;
			return *p == '\0' && (x->n_steps > 0 || !x->absolute);
		}
		if (x->n_steps == PROFILE_XPATH_STEPS ||
		    !profile_xpath_qname(&p, ns, n_ns, &x->step[x->n_steps]))
			return 0;
		if (!profile_xpath_pred(&p, ns, n_ns, &x->step[x->n_steps++]))
			return 0;
		if (*p == '\0')
			return 1;
		if (*p != '/')
			return 0;
		p++;
	}
}

static void
profile_xpath_silent(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

/* Every name the walk needs was allocated. */
static int
profile_xpath_walk_complete(const struct profile_xpath *x)
{
	size_t i;

	for (i = 0; i < x->n_steps; i++)
		if (x->step[i].name == NULL || (x->step[i].pred != NULL &&
		    (x->step[i].pred->name == NULL || x->step[i].lit == NULL)))
			return 0;
	return !x->has_attr || x->attr.name != NULL;
}

struct profile_xpath *
profile_xpath_new(const char *expr, xmlNsPtr *ns, size_t n_ns,
    int engine_only, const char *what, struct errs *e)
{
	struct profile_xpath *x = NULL;
	xmlXPathContextPtr cc = NULL;
	int calls;

	if (expr == NULL || expr[0] == '\0') {
		err_add(e, "PROFILE_CONFIG", 0, "", "%s: empty XPath", what);
		return NULL;
	}
	if (profile_xpath_check_names(expr, ns, n_ns, what, &calls, e) != 0)
		return NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->expr = strdup(expr)) == NULL ||
	    (cc = xmlXPathNewContext(NULL)) == NULL) {
		err_add(e, "NOMEM", 0, "", "out of memory");
		goto fail;
	}
	/* the same prefixes for a streaming compilation */
	cc->namespaces = ns;
	cc->nsNr = (int)n_ns;
	cc->error = profile_xpath_silent;
	if ((x->comp = xmlXPathCtxtCompile(cc, BAD_CAST expr)) == NULL) {
		err_add(e, "PROFILE_CONFIG", 0, "", "%s: bad XPath \"%s\": %s",
		    what, expr, cc->lastError.message != NULL ?
		    cc->lastError.message : "syntax error");
		goto fail;
	}
	x->per_run = calls;
	if (!engine_only && profile_xpath_parse_walk(x, ns, n_ns)) {
		if (!profile_xpath_walk_complete(x)) {
			err_add(e, "NOMEM", 0, "", "out of memory");
			goto fail;
		}
		x->walk = 1;
	}
	cc->namespaces = NULL;
	xmlXPathFreeContext(cc);
	return x;
fail:
	if (cc != NULL)
		cc->namespaces = NULL;
	xmlXPathFreeContext(cc);
	profile_xpath_free(x);
	return NULL;
}

static void
profile_xpath_step_clear(struct profile_xpath_step *st)
{
	if (st->pred != NULL) {
		free(st->pred->uri);
		free(st->pred->name);
		free(st->pred);
	}
	free(st->uri);
	free(st->name);
	free(st->lit);
}

void
profile_xpath_free(struct profile_xpath *x)
{
	size_t i;

	if (x == NULL)
		return;
	for (i = 0; i < PROFILE_XPATH_STEPS; i++)
		profile_xpath_step_clear(&x->step[i]);
	free(x->attr.uri);
	free(x->attr.name);
	xmlXPathFreeCompExpr(x->comp);
	free(x->expr);
	free(x);
}

int
profile_xpath_is_walk(const struct profile_xpath *x)
{
	return x->walk;
}

const char *
profile_xpath_expr(const struct profile_xpath *x)
{
	return x->expr;
}

void
profile_xpath_run_init(struct profile_xpath_run *r, xmlDocPtr doc,
    xmlNsPtr *ns, size_t n_ns)
{
	r->doc = doc;
	r->ns = ns;
	r->n_ns = n_ns;
	r->xp = NULL;
	r->n_own = 0;
}

void
profile_xpath_run_done(struct profile_xpath_run *r)
{
	size_t i;

	for (i = 0; i < r->n_own; i++)
		xmlXPathFreeCompExpr(r->own[i].comp);
	r->n_own = 0;
	if (r->xp != NULL) {
		r->xp->namespaces = NULL;
		xmlXPathFreeContext(r->xp);
		r->xp = NULL;
	}
}

static int
profile_xpath_match_name(const xmlNode *n, const struct profile_xpath_step *st)
{
	if (strcmp((const char *)n->name, st->name) != 0)
		return 0;
	if (st->uri == NULL)
		return n->ns == NULL || n->ns->href == NULL;
	return n->ns != NULL && n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, st->uri) == 0;
}

/* Is the string value of element n exactly lit[0..len)? */
static int
profile_xpath_text_is(const xmlNode *n, const char *lit, size_t len)
{
	const xmlNode *c = n->children;
	size_t pos = 0, k;

	while (c != NULL) {
		if ((c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) && c->content != NULL) {
			k = strlen((const char *)c->content);
			if (k > len - pos || memcmp(lit + pos, c->content, k) != 0)
				return 0;
			pos += k;
		}
		if (c->type == XML_ELEMENT_NODE && c->children != NULL) {
			c = c->children;
			continue;
		}
		while (c != NULL && c != n && c->next == NULL)
			c = c->parent;
		c = (c == NULL || c == n) ? NULL : c->next;
	}
	return pos == len;
}

static int
profile_xpath_match(const xmlNode *n, const struct profile_xpath_step *st)
{
	const xmlNode *c;

	if (!profile_xpath_match_name(n, st))
		return 0;
	if (st->pred == NULL)
		return 1;
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    profile_xpath_match_name(c, st->pred) &&
		    profile_xpath_text_is(c, st->lit, st->lit_len))
			return 1;
	return 0;
}

static xmlNodePtr
profile_xpath_attr(xmlNodePtr n, const struct profile_xpath_step *st)
{
	xmlAttrPtr a;

	if (n->type != XML_ELEMENT_NODE)
		return NULL;
	for (a = n->properties; a != NULL; a = a->next)
		if (profile_xpath_match_name((const xmlNode *)a, st))
			return (xmlNodePtr)a;
	return NULL;
}

/* The tree walk: selected nodes in document order, stopping at limit. */
static size_t
profile_xpath_walk(const struct profile_xpath *x, xmlDocPtr doc,
    xmlNodePtr ctx, xmlNodePtr *out, size_t cap, size_t limit)
{
	xmlNodePtr cur[PROFILE_XPATH_STEPS], start, n, hit;
	size_t count = 0, last = x->n_steps - 1, k = 0;

	start = (x->absolute || ctx == NULL) ? (xmlNodePtr)doc : ctx;
	if (x->n_steps == 0) { /* "@name" of the context node */
		hit = profile_xpath_attr(start, &x->attr);
		if (hit != NULL && cap > 0)
			out[0] = hit;
		return hit != NULL;
	}
	if (start->type != XML_ELEMENT_NODE &&
	    start->type != XML_DOCUMENT_NODE)
		return 0;
	cur[0] = start->children;
	for (;;) {
		for (n = cur[k]; n != NULL; n = n->next)
			if (n->type == XML_ELEMENT_NODE &&
			    profile_xpath_match(n, &x->step[k]))
				break;
		if (n == NULL) {
			if (k == 0)
				break;
			k--;
			cur[k] = cur[k]->next;
			continue;
		}
		cur[k] = n;
		if (k < last) {
			cur[++k] = n->children;
			continue;
		}
		hit = x->has_attr ? profile_xpath_attr(n, &x->attr) : n;
		if (hit != NULL) {
			if (count < cap)
				out[count] = hit;
			if (++count >= limit)
				break;
		}
		cur[k] = n->next;
	}
	return count;
}

/* The compiled expression this run may evaluate: x's own, or for one
 * that calls functions a copy compiled for this run (kept for the next
 * item; *tmp set when the run's table is full and the caller frees it). */
static xmlXPathCompExprPtr
profile_xpath_comp(struct profile_xpath_run *r, const struct profile_xpath *x,
    int *tmp)
{
	xmlXPathCompExprPtr c;
	size_t i;

	*tmp = 0;
	if (!x->per_run)
		return x->comp;
	for (i = 0; i < r->n_own; i++)
		if (r->own[i].x == x)
			return r->own[i].comp;
	if ((c = xmlXPathCtxtCompile(r->xp, BAD_CAST x->expr)) == NULL)
		return NULL;
	if (r->n_own == PROFILE_XPATH_RUN_OWN) {
		*tmp = 1;
		return c;
	}
	r->own[r->n_own].x = x;
	r->own[r->n_own++].comp = c;
	return c;
}

static xmlXPathObjectPtr
profile_xpath_eval(struct profile_xpath_run *r, const struct profile_xpath *x,
    xmlNodePtr ctx, struct errs *e)
{
	xmlXPathCompExprPtr comp;
	xmlXPathObjectPtr obj = NULL;
	int tmp;

	if (r->xp == NULL) {
		if ((r->xp = xmlXPathNewContext(r->doc)) == NULL) {
			err_add(e, "NOMEM", 0, "", "out of memory");
			return NULL;
		}
		r->xp->namespaces = r->ns;
		r->xp->nsNr = (int)r->n_ns;
		r->xp->error = profile_xpath_silent;
	}
	r->xp->node = ctx != NULL ? ctx : (xmlNodePtr)r->doc;
	if ((comp = profile_xpath_comp(r, x, &tmp)) != NULL)
		obj = xmlXPathCompiledEval(comp, r->xp);
	if (tmp)
		xmlXPathFreeCompExpr(comp);
	if (obj == NULL) {
		err_add(e, "PROFILE_XPATH", 0, "", "XPath \"%s\" failed: %s",
		    x->expr, r->xp->lastError.message != NULL ?
		    r->xp->lastError.message : "evaluation error");
		return NULL;
	}
	if (obj->type == XPATH_NODESET && obj->nodesetval != NULL &&
	    obj->nodesetval->nodeNr > 1)
		xmlXPathNodeSetSort(obj->nodesetval);
	return obj;
}

long
profile_xpath_nodes(struct profile_xpath_run *r, const struct profile_xpath *x,
    xmlNodePtr ctx, xmlNodePtr *out, size_t cap, struct errs *e)
{
	xmlXPathObjectPtr obj;
	size_t i, n = 0;

	if (x->walk)
		return (long)profile_xpath_walk(x, r->doc, ctx, out, cap, cap + 1);
	if ((obj = profile_xpath_eval(r, x, ctx, e)) == NULL)
		return -1;
	if (obj->type == XPATH_NODESET && obj->nodesetval != NULL) {
		/* namespace nodes are copies freed with obj: left out */
		for (i = 0; i < (size_t)obj->nodesetval->nodeNr && n <= cap; i++) {
			xmlNodePtr hit = obj->nodesetval->nodeTab[i];

			if (hit->type == XML_NAMESPACE_DECL)
				continue;
			if (n < cap)
				out[n] = hit;
			n++;
		}
	}
	xmlXPathFreeObject(obj);
	return (long)n;
}

static void
profile_xpath_sv_feed(struct profile_xpath_sv *sv, const xmlChar *s)
{
	unsigned char c;

	for (; s != NULL && *s != '\0'; s++) {
		c = *s;
		if (!sv->started) {
			if (profile_xpath_is_ws(c))
				continue;
			sv->started = 1;
		}
		if (sv->pos + 1 < sv->cap) {
			sv->out[sv->pos++] = (char)c;
			if (!profile_xpath_is_ws(c))
				sv->keep = sv->pos;
		} else if (!profile_xpath_is_ws(c)) {
			sv->over = 1;
			return;
		}
	}
}

/* XPath string value of n: its text descendants in document order. */
static void
profile_xpath_node_text(const xmlNode *n, struct profile_xpath_sv *sv)
{
	const xmlNode *c;

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		profile_xpath_sv_feed(sv, n->content);
		return;
	}
	if (n->type == XML_NAMESPACE_DECL) {
		profile_xpath_sv_feed(sv, ((const xmlNs *)n)->href);
		return;
	}
	if (n->type != XML_ELEMENT_NODE && n->type != XML_ATTRIBUTE_NODE &&
	    n->type != XML_DOCUMENT_NODE)
		return; /* comments, PIs: not in a string value here */
	c = n->children;
	while (c != NULL && !sv->over) {
		if (c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE)
			profile_xpath_sv_feed(sv, c->content);
		if (c->type == XML_ELEMENT_NODE && c->children != NULL) {
			c = c->children;
			continue;
		}
		while (c != NULL && c != n && c->next == NULL)
			c = c->parent;
		c = (c == NULL || c == n) ? NULL : c->next;
	}
}

int
profile_xpath_string(struct profile_xpath_run *r, const struct profile_xpath *x,
    xmlNodePtr ctx, char *out, size_t cap, xmlNodePtr *node, struct errs *e)
{
	struct profile_xpath_sv sv = { out, cap, 0, 0, 0, 0 };
	xmlXPathObjectPtr obj = NULL;
	xmlNodePtr hit = NULL;
	xmlChar *str;
	int rc = 1;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	*node = NULL;
	if (x->walk) {
		if (profile_xpath_walk(x, r->doc, ctx, &hit, 1, 1) == 0)
			return 0;
		profile_xpath_node_text(hit, &sv);
	} else {
		if ((obj = profile_xpath_eval(r, x, ctx, e)) == NULL)
			return -1;
		if (obj->type == XPATH_NODESET) {
			if (obj->nodesetval == NULL ||
			    obj->nodesetval->nodeNr == 0) {
				xmlXPathFreeObject(obj);
				return 0;
			}
			hit = obj->nodesetval->nodeTab[0];
			profile_xpath_node_text(hit, &sv);
			if (hit->type == XML_NAMESPACE_DECL) /* a copy */
				hit = ctx != NULL ? ctx : (xmlNodePtr)r->doc;
		} else {
			hit = ctx != NULL ? ctx : (xmlNodePtr)r->doc;
			str = xmlXPathCastToString(obj);
			profile_xpath_sv_feed(&sv, str);
			xmlFree(str);
		}
		xmlXPathFreeObject(obj);
	}
	if (sv.over) {
		sv.keep = utf8_cut(out, sv.keep);
		rc = 2;
	}
	out[sv.keep] = '\0';
	*node = hit;
	return rc;
}
