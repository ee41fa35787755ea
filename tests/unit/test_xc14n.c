/* test_xc14n: lib/xc14n against libxml2's exclusive canonicalizer
 * (xmlC14NDocSaveTo, no node set), byte for byte: case (a) on the document
 * with the left-out element unlinked, case (b) on a copy of the element as
 * the root of its own document (as lib/dsig_c14n.c does for SignedInfo).
 * Documents: every .xml under $CORPUS_DIR (../shared/corpus) and
 * $VECTORS_DIR (../shared/vectors) that parses with lib/xmlp.c's options,
 * hand-written ones per rule, pseudo-random ones (fixed seed).  A
 * comparison is: same bytes; refused by both; xc14n unsupported (the
 * caller falls back: counted); or a failure.  Also refusals, failing
 * writes, and a timing line (not asserted). */
#define _GNU_SOURCE /* nftw */
#include <CUnit/Basic.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "xc14n.h"

#include "unit_util.h"

#define PARSE_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | \
    XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES)
#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"
#define SINK_MAX ((size_t)64 << 20)
#define GEN_CAP 65536

struct sink {
	unsigned char *p;
	size_t len, cap;      /* len counts the bytes even when discarded */
	int calls, fail_at;   /* fail_at > 0: the fail_at-th call fails */
	int discard;          /* count only (timing) */
	size_t max_chunk;
};

struct stats {
	long docs, cmps, same, both_refused, fallback, bad;
};

static struct stats st;            /* over the whole run */
static char big_path[PATH_MAX];    /* largest corpus file compared */
static long big_size;
static int files_corpus;           /* nftw's walk: corpus or vectors */
static long files_seen, files_unparsed;

/* ---- sinks and the two canonicalizers ---- */

static int
sink_put(struct sink *s, const void *p, size_t n)
{
	size_t cap = s->cap ? s->cap : 4096;
	unsigned char *q;

	if (n == 0 || s->discard) {
		s->len += n;
		return 0;
	}
	if (n > SINK_MAX - s->len)
		return -1;
	if (s->len + n > s->cap) {
		while (cap < s->len + n)
			cap *= 2;
		if ((q = realloc(s->p, cap)) == NULL)
			return -1;
		s->p = q;
		s->cap = cap;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	return 0;
}

static int
sink_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct sink *s = ctx;

	s->calls++;
	if (len > s->max_chunk)
		s->max_chunk = len;
	if (s->fail_at > 0 && s->calls >= s->fail_at)
		return -1;
	return sink_put(s, buf, len);
}

static int
ref_write(void *ctx, const char *buf, int len)
{
	return len >= 0 && sink_put(ctx, buf, (size_t)len) == 0 ? len : -1;
}

/* libxml2 on doc without skip (unlinked meanwhile), or on a copy of sub
 * made the root of a new document.  Its return value. */
static int
ref_c14n(xmlDocPtr doc, xmlNodePtr sub, xmlNodePtr skip, struct sink *s)
{
	xmlNodePtr parent = NULL, next = NULL, copy;
	xmlOutputBufferPtr out;
	xmlDocPtr tmp = NULL;
	int n = -1;

	if (sub != NULL) {
		if ((tmp = xmlNewDoc((const xmlChar *)"1.0")) == NULL)
			return -1;
		if ((copy = xmlDocCopyNode(sub, tmp, 1)) == NULL)
			goto cleanup;
		xmlDocSetRootElement(tmp, copy);
	} else if (skip != NULL) {
		parent = skip->parent;
		next = skip->next;
		xmlUnlinkNode(skip);
	}
	if ((out = xmlOutputBufferCreateIO(ref_write, NULL, s, NULL)) != NULL) {
		n = xmlC14NDocSaveTo(tmp ? tmp : doc, NULL,
		    XML_C14N_EXCLUSIVE_1_0, NULL, 0, out);
		if (xmlOutputBufferClose(out) < 0)
			n = -1;
	}
	if (skip != NULL && sub == NULL) {
		if (next != NULL)
			xmlAddPrevSibling(next, skip);
		else
			xmlAddChild(parent, skip);
	}
cleanup:
	if (tmp != NULL)
		xmlFreeDoc(tmp);
	return n;
}

/* One comparison: case (a) when sub is NULL (document, skip left out),
 * else case (b) on sub in place.  Counted in st; a failure is printed and
 * asserted.  Returns what xc14n_write returned. */
static int
compare(xmlDocPtr doc, xmlNodePtr sub, xmlNodePtr skip, const char *what)
{
	struct sink a = { 0 }, b = { 0 };
	int ra, rb;
	size_t i;

	rb = ref_c14n(doc, sub, skip, &b);
	ra = xc14n_write(sub ? sub : (xmlNodePtr)doc, skip, sink_write, &a);
	st.cmps++;
	CU_ASSERT(ra == 0 || ra == XC14N_UNSUPPORTED);
	CU_ASSERT(a.max_chunk <= 8192);
	if (ra == XC14N_UNSUPPORTED) {
		CU_ASSERT_EQUAL(a.calls, 0);  /* nothing written before */
		if (rb < 0)
			st.both_refused++;
		else
			st.fallback++;
	} else if (ra == 0 && rb >= 0 && a.len == b.len &&
	    (a.len == 0 || memcmp(a.p, b.p, a.len) == 0)) {
		st.same++;
	} else {
		st.bad++;
		for (i = 0; i < a.len && i < b.len && a.p[i] == b.p[i]; i++)
			;
		printf("\n  MISMATCH %s (%s): xc14n %d, libxml2 %d; from byte "
		    "%zu: \"%.60s\" / \"%.60s\"", what, sub ? "subtree" : skip ?
		    "skip" : "whole", ra, rb, i, i < a.len ? (char *)a.p + i :
		    "", i < b.len ? (char *)b.p + i : "");
		CU_FAIL("xc14n differs from libxml2");
	}
	free(a.p);
	free(b.p);
	return ra;
}

static xmlNodePtr
child_named(xmlNodePtr n, const char *ns, const char *name)
{
	for (n = n ? n->children : NULL; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && n->ns != NULL &&
		    xmlStrEqual(n->ns->href, (const xmlChar *)ns) &&
		    xmlStrEqual(n->name, (const xmlChar *)name))
			return n;
	return NULL;
}

/* The cases the daemon runs: the whole document, and when the root has a
 * ds:Signature child, the document without it and its SignedInfo. */
static int
compare_dsig(xmlDocPtr doc, const char *what)
{
	xmlNodePtr sig, si;
	int rc;

	rc = compare(doc, NULL, NULL, what);
	sig = child_named(xmlDocGetRootElement(doc), DSIG_NS, "Signature");
	if (sig != NULL) {
		if (compare(doc, NULL, sig, what) != 0)
			rc = -1;
		if ((si = child_named(sig, DSIG_NS, "SignedInfo")) != NULL)
			compare(doc, si, NULL, what);
	}
	return rc;
}

/* Every element of a small document as a subtree, and left out; on a
 * larger one every step-th element. */
static void
compare_each(xmlDocPtr doc, const char *what, long step)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), n = root;
	long i = 0;

	while (n != NULL) {
		if (n->type == XML_ELEMENT_NODE && i++ % step == 0) {
			compare(doc, n, NULL, what);
			compare(doc, NULL, n, what);
		}
		if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			continue;
		}
		while (n != root && n->next == NULL)
			n = n->parent;
		n = n == root ? NULL : n->next;
	}
}

static xmlDocPtr
parse(const char *buf, size_t len)
{
	return xmlReadMemory(buf, (int)len, "doc.xml", NULL, PARSE_OPTS);
}

/* ---- fixed expectations ---- */

/* xc14n on the whole document (mode 0), without its ds:Signature (1), on
 * its SignedInfo (2): want, and what libxml2 writes. */
static void
expect(const char *xml, int mode, const char *want)
{
	struct sink s = { 0 };
	xmlDocPtr doc = parse(xml, strlen(xml));
	xmlNodePtr sig, skip = NULL, sub = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	sig = child_named(xmlDocGetRootElement(doc), DSIG_NS, "Signature");
	if (mode == 1)
		skip = sig;
	else if (mode == 2)
		sub = child_named(sig, DSIG_NS, "SignedInfo");
	CU_ASSERT(mode == 0 || skip != NULL || sub != NULL);
	CU_ASSERT_EQUAL(xc14n_write(sub ? sub : (xmlNodePtr)doc, skip,
	    sink_write, &s), 0);
	if (s.len != strlen(want) || memcmp(s.p, want, s.len) != 0) {
		printf("\n  got  \"%.*s\"\n  want \"%s\"", (int)s.len,
		    s.p ? (const char *)s.p : "", want);
		CU_FAIL("canonical bytes differ from the expected ones");
	}
	compare(doc, sub, skip, "expect");
	free(s.p);
	xmlFreeDoc(doc);
}

#define SIG_DOC \
	"<d:Decl xmlns:d=\"urn:decl\" xmlns:ds=\"" DSIG_NS "\">\n" \
	"  <d:A>1</d:A>\n" \
	"  <ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod " \
	"Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>" \
	"</ds:SignedInfo><ds:SignatureValue>x</ds:SignatureValue>" \
	"</ds:Signature>\n  <d:B/>\n</d:Decl>"

static void
test_expected(void)
{
	expect("<?xml version=\"1.0\"?>\n<?before data?>\n<!-- c -->\n"
	    "<a:r xmlns:a=\"http://a.example/\" xmlns:b=\"urn:b\" b:y=\"1\" "
	    "x=\"&#13;&#9;&#10;&quot;&lt;&amp;>\"><b:c/>t&#13;&lt;&gt;&amp;"
	    "<![CDATA[<&>]]><!-- in --><?in?></a:r>\n<!-- after --><?after?>",
	    0, "<?before data?>\n<a:r xmlns:a=\"http://a.example/\" "
	    "xmlns:b=\"urn:b\" x=\"&#xD;&#x9;&#xA;&quot;&lt;&amp;>\" b:y=\"1\">"
	    "<b:c></b:c>t&#xD;&lt;&gt;&amp;&lt;&amp;&gt;<?in?></a:r>\n"
	    "<?after?>");
	expect("<r xmlns=\"urn:d\"><c xmlns=\"\"><d/></c></r>", 0,
	    "<r xmlns=\"urn:d\"><c xmlns=\"\"><d></d></c></r>");
	expect(SIG_DOC, 1,
	    "<d:Decl xmlns:d=\"urn:decl\">\n  <d:A>1</d:A>\n  \n"
	    "  <d:B></d:B>\n</d:Decl>");
	expect(SIG_DOC, 2,
	    "<ds:SignedInfo xmlns:ds=\"" DSIG_NS "\"><ds:Canonicalization"
	    "Method Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">"
	    "</ds:CanonicalizationMethod></ds:SignedInfo>");
	/* attributes by (URI, name), unqualified first; xml:lang is one */
	expect("<e xmlns:z=\"urn:a\" xmlns:a=\"urn:z\" a:k=\"1\" z:k=\"2\" "
	    "b=\"3\" xml:lang=\"en\" a=\"4\"/>", 0,
	    "<e xmlns:a=\"urn:z\" xmlns:z=\"urn:a\" a=\"4\" b=\"3\" "
	    "xml:lang=\"en\" z:k=\"2\" a:k=\"1\"></e>");
}

/* ---- hand-written documents, one or more rules each ---- */

static const char *const hand_docs[] = {
	/* same prefix, different URIs in nested elements; redeclared same */
	"<p:a xmlns:p=\"urn:one\"><p:b xmlns:p=\"urn:two\"><p:c xmlns:p="
	"\"urn:two\"/><p:d xmlns:p=\"urn:one\"/></p:b><p:e/></p:a>",
	/* declared on the root, used deep only; unused declarations */
	"<r xmlns:u=\"urn:u\" xmlns:v=\"urn:v\" xmlns=\"urn:d\"><x><y><u:z/>"
	"</y><u:w u:at=\"1\"/></x></r>",
	/* default namespace undeclared and declared again */
	"<r xmlns=\"http://d.example/1\"><a xmlns=\"\"><b xmlns="
	"\"http://d.example/1\"><c xmlns=\"\"/></b></a><d/></r>",
	"<r><a xmlns=\"\"><b/></a><n:c xmlns:n=\"urn:n\"><d/></n:c></r>",
	"<n:r xmlns:n=\"urn:n\" xmlns=\"urn:d\"><n:a><b/></n:a></n:r>",
	/* attributes with prefixes sorted by URI, not by prefix */
	"<r xmlns:b=\"urn:a\" xmlns:a=\"urn:b\" xmlns:c=\"http://z/\" "
	"a:x=\"1\" b:x=\"2\" c:a=\"3\" z=\"4\" y=\"5\" b:a=\"6\"/>",
	/* xml:lang / xml:space: not inherited, not declared */
	"<r xml:lang=\"en\"><a xml:space=\"preserve\" xml:lang=\"fr\"> x "
	"</a><b/></r>",
	/* all escapes in attributes and text, CR as &#13; */
	"<r a=\"&amp;&lt;&gt;&quot;&apos;&#9;&#10;&#13;\" b='\"' c=\"x\ty\n"
	"z\">&amp;&lt;&gt;\"'&#13;&#9;\n&#13;\r\n</r>",
	/* CDATA, comments and PIs everywhere */
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><!--a--><?p1 x?><?p2?>"
	"<!--b--><r><![CDATA[a<b>&c\r]]><!--c--><?p3 y\r?><?p4   ?>"
	"<a><![CDATA[]]></a></r><!--d--><?p5 z?><!--e--><?p6?>",
	/* empty elements, whitespace only text */
	"<r>\n  <a/>\n  <b></b>\n  <c> </c>\n</r>",
	/* UTF-8 text and attributes */
	"<r a=\"\xc3\xa9\xe2\x82\xac\">\xf0\x9f\x98\x80 caf\xc3\xa9</r>",
	/* a skipped element in the middle, whitespace around it */
	"<d:D xmlns:d=\"urn:d\">\n  <d:X/>\n  <ds:Signature xmlns:ds=\""
	DSIG_NS "\"><ds:SignedInfo/></ds:Signature>\n  <d:Y/>\n</d:D>",
	/* SignedInfo whose prefix is declared on the root only */
	"<d:D xmlns:d=\"urn:d\" xmlns:ds=\"" DSIG_NS "\" xmlns:x=\"urn:x\">"
	"<d:A x:y=\"1\"/><ds:Signature Id=\"s\"><ds:SignedInfo><ds:"
	"CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-"
	"exc-c14n#\"/><ds:Reference URI=\"\" x:z=\"q\"><ds:DigestValue>AA=="
	"</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>"
	"BB==</ds:SignatureValue></ds:Signature></d:D>",
	/* SignedInfo in a default namespace declared on Signature */
	"<D xmlns=\"urn:d\"><Signature xmlns=\"" DSIG_NS "\"><SignedInfo>"
	"<Reference URI=\"\"><X xmlns=\"\"/></Reference></SignedInfo>"
	"</Signature></D>",
	/* SignedInfo under a default namespace declared on the root */
	"<D xmlns=\"" DSIG_NS "\"><Signature><SignedInfo a=\"1\"/></Signature>"
	"</D>",
	/* an element whose prefix is declared on an ancestor and used by
	 * attributes only */
	"<r xmlns:a=\"urn:a\"><x a:b=\"1\"><y a:c=\"2\"/></x></r>",
	/* two prefixes for one URI; a prefix for the default's URI; xml: */
	"<r xmlns:a=\"urn:x\" xmlns:b=\"urn:x\" b:q=\"2\" a:q2=\"1\"><b:c/>"
	"</r>",
	"<r xmlns=\"urn:x\"><p:c xmlns:p=\"urn:x\"><d/></p:c></r>",
	"<xml:r xml:lang=\"en\"><a xml:space=\"preserve\"/></xml:r>",
	/* namespace URIs with ports, queries, fragments, escapes, dav */
	"<r xmlns:a=\"http://h.example:8080/p?q=1&amp;r=2#f\" xmlns:b=\"dav:"
	"x\" xmlns:c=\"urn:x:%41\" xmlns:d=\"HTTPS://x-y.z/~a/(b)\"><a:x b:y="
	"\"1\" c:z=\"2\" d:w=\"3\"/></r>",
	/* a DTD is ignored (no entities used) */
	"<!DOCTYPE r [<!ELEMENT r ANY><!ATTLIST r a CDATA #IMPLIED>]><r a=\"1\""
	"/>",
	/* absolute namespace URIs without a server: libxml2 2.9 takes them */
	"<r xmlns:a=\"mailto:x@y\" xmlns=\"hmrc:fileupload\"><a:b/></r>",
	"<r xmlns:a=\"http:no-server\"><a:b/></r>",
	"<r xmlns:a=\"file:///x\"><a:b/></r>",
	/* relative or unparsable namespace URIs: libxml2 refuses */
	"<r xmlns=\"rel/ns\"/>",
	"<r xmlns:a=\"urn:a\"><x><y xmlns:b=\"b\"/></x></r>",
	"<r xmlns:a=\"urn:a b\"><a:x/></r>",
	"<r xmlns:a=\"urn:%zz\"><a:x/></r>",
};

static void
test_hand(void)
{
	size_t i;
	xmlDocPtr doc;
	char what[32];

	for (i = 0; i < sizeof(hand_docs) / sizeof(hand_docs[0]); i++) {
		doc = parse(hand_docs[i], strlen(hand_docs[i]));
		CU_ASSERT_PTR_NOT_NULL(doc);
		if (doc == NULL) {
			printf("\n  hand document %zu not parsed", i);
			continue;
		}
		snprintf(what, sizeof(what), "hand %zu", i);
		st.docs++;
		compare_dsig(doc, what);
		compare_each(doc, what, 1);
		xmlFreeDoc(doc);
	}
}

/* ---- corpus and vectors ---- */

/* nftw callback: one file of the corpus or the vectors compared. */
static int
file_one(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	size_t l = strlen(path), len;
	long fb = st.fallback;
	xmlDocPtr doc;
	char *buf;

	(void)sb;
	(void)f;
	if (type != FTW_F || l < 4 || strcmp(path + l - 4, ".xml") != 0)
		return 0;
	files_seen++;
	buf = unit_slurp(path, &len);
	doc = buf != NULL ? parse(buf, len) : NULL;
	free(buf);
	if (doc == NULL) {
		files_unparsed++;
		return 0;
	}
	st.docs++;
	if (compare_dsig(doc, path) == 0 && files_corpus &&
	    (long)len > big_size) {
		big_size = (long)len;
		snprintf(big_path, sizeof(big_path), "%s", path);
	}
	/* subtrees and left-out elements spread over the document */
	compare_each(doc, path, 7);
	if (st.fallback > fb)
		printf("\n  fallback (xc14n unsupported): %s", path);
	xmlFreeDoc(doc);
	return 0;
}

static void
run_dir(const char *env, const char *def, int is_corpus)
{
	const char *dir = getenv(env);
	long before = st.docs;

	dir = dir != NULL && *dir != '\0' ? dir : def;
	files_corpus = is_corpus;
	files_seen = files_unparsed = 0;
	if (nftw(dir, file_one, 16, FTW_PHYS) != 0 || files_seen == 0) {
		printf("\n  SKIP: no .xml under %s (set %s) ", dir, env);
		return;
	}
	printf("\n  %s: %ld files, %ld documents compared, %ld not parsed ",
	    dir, files_seen, st.docs - before, files_unparsed);
	CU_ASSERT(st.docs - before > 0);
}

static void
test_files(void)
{
	run_dir("CORPUS_DIR", "../shared/corpus", 1);
	run_dir("VECTORS_DIR", "../shared/vectors", 0);
}

/* ---- pseudo-random documents ---- */

struct gen {
	uint64_t rng;
	char *p;
	size_t len;
	int scope[4];          /* per prefix ("", a, b, c): URI index, -1 */
	int ds_on_root;        /* the root declared the ds prefix */
};

static const char *const gen_prefix[4] = { "", "a", "b", "c" };
static const char *const gen_uri[] = {
	"urn:x:one", "urn:x:two", "http://example.com/ns/a",
	"http://example.org/b#f", "dav:y", "", "rel/ative",
};
#define GEN_URIS 5             /* the absolute ones; 5 is "", 6 relative */

static unsigned
gen_rand(struct gen *g, unsigned n)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return (unsigned)(g->rng % n);
}

static void
gen_put(struct gen *g, const char *s)
{
	size_t n = strlen(s);

	if (g->len + n < GEN_CAP) {
		memcpy(g->p + g->len, s, n + 1);
		g->len += n;
	}
}

/* Text or an attribute value with markup, references and UTF-8. */
static void
gen_text(struct gen *g, int attr)
{
	static const char *const bits[] = {
		"x", "Yz", " ", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;",
		"&#13;", "&#9;", "&#10;", "\t", "\n", "\xc3\xa9",
		"\xe2\x82\xac",
		"'", "]]", "0.5", "&#x20AC;", "\r\n", /* no raw > after ]] */
	};
	unsigned i, n = gen_rand(g, 7);

	for (i = 0; i < n; i++)
		gen_put(g, bits[gen_rand(g, sizeof(bits) / sizeof(bits[0]))]);
	if (attr && gen_rand(g, 4) == 0)
		gen_put(g, ">");
}

/* Declares prefix p with a random URI (the default may be undeclared;
 * rarely a relative URI). */
static void
gen_decl(struct gen *g, int p)
{
	unsigned u = gen_rand(g, 200) == 0 ? 6 :
	    gen_rand(g, GEN_URIS + (p == 0));
	char decl[80];

	snprintf(decl, sizeof(decl), " xmlns%s%s=\"%s\"", p ? ":" : "",
	    gen_prefix[p], gen_uri[u]);
	gen_put(g, decl);
	g->scope[p] = u == 5 ? -1 : (int)u;
}

/* An element with random prefix, declarations, attributes and children;
 * the root may declare ds and gets a Signature child half of the time. */
static void
gen_elem(struct gen *g, int depth, int is_root)
{
	static const char *const names[] = { "e", "f", "Item" };
	static const char *const locals[] = { "id", "x", "Algorithm" };
	int saved[4], ep, p, k, bit;
	unsigned n, seen = 0;     /* one bit per attribute (URI, local) */
	char qn[32], tag[64];

	memcpy(saved, g->scope, sizeof(saved));
	ep = (int)gen_rand(g, 4);
	snprintf(qn, sizeof(qn), "%s%s%s", gen_prefix[ep], ep ? ":" : "",
	    names[gen_rand(g, 3)]);
	snprintf(tag, sizeof(tag), "<%s", qn);
	gen_put(g, tag);
	for (p = 0; p < 4; p++)
		if (gen_rand(g, 5) == 0 || (p == ep && p && g->scope[p] < 0))
			gen_decl(g, p);
	if (is_root && (g->ds_on_root = (int)gen_rand(g, 2)) != 0)
		gen_put(g, " xmlns:ds=\"" DSIG_NS "\"");
	for (n = gen_rand(g, 5); n > 0; n--) {
		p = (int)gen_rand(g, 5);          /* 0 unqualified, 4 xml: */
		k = (int)gen_rand(g, p == 4 ? 2 : 3);
		if (p >= 1 && p <= 3 && g->scope[p] < 0)
			continue;                 /* undeclared prefix */
		bit = 3 * (p >= 1 && p <= 3 ? 2 + g->scope[p] : p / 4) + k;
		if (seen >> bit & 1)
			continue;                 /* same URI and name */
		seen |= 1u << bit;
		snprintf(tag, sizeof(tag), " %s%s%s=\"", p == 4 ? "xml" :
		    gen_prefix[p], p ? ":" : "", p == 4 ? (k ? "lang" :
		    "space") : locals[k]);
		gen_put(g, tag);
		if (p == 4 && k == 0)
			gen_put(g, gen_rand(g, 2) ? "preserve" : "default");
		else
			gen_text(g, 1);
		gen_put(g, "\"");
	}
	gen_put(g, ">");
	for (n = depth < 5 ? gen_rand(g, 5) : 0; n > 0; n--) {
		k = (int)gen_rand(g, 8);
		if (k < 3)
			gen_elem(g, depth + 1, 0);
		else if (k == 3)
			gen_put(g, gen_rand(g, 2) ? "<![CDATA[a<b>&c\r]]>" :
			    "<![CDATA[]]>");
		else if (k == 4)
			gen_put(g, gen_rand(g, 2) ? "<!-- c -->" :
			    "<?pi d\r ?>");
		else
			gen_text(g, 0);
	}
	if (is_root && gen_rand(g, 2) == 0) {
		/* ds declared on the root or on Signature; SignedInfo may
		 * use a prefix of the root */
		gen_put(g, "\n <ds:Signature");
		if (!g->ds_on_root || gen_rand(g, 2))
			gen_put(g, " xmlns:ds=\"" DSIG_NS "\"");
		gen_put(g, "><ds:SignedInfo><ds:Reference URI=\"\"");
		gen_put(g, g->scope[1] >= 0 ? " a:t=\"1\">" : ">");
		gen_put(g, "<ds:DigestValue>AA</ds:DigestValue></ds:Reference>"
		    "</ds:SignedInfo></ds:Signature>\n ");
		if (gen_rand(g, 2))
			gen_elem(g, depth + 1, 0);
	}
	snprintf(tag, sizeof(tag), "</%s>", qn);
	gen_put(g, tag);
	memcpy(g->scope, saved, sizeof(saved));
}

static void
test_random(void)
{
	struct gen g = { .rng = 0x9e3779b97f4a7c15ull };
	long before = st.docs, unparsed = 0;
	xmlDocPtr doc;
	char what[32];
	int i;

	g.p = malloc(GEN_CAP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g.p);
	for (i = 0; i < 400; i++) {
		g.len = 0;
		g.p[0] = '\0';
		memset(g.scope, -1, sizeof(g.scope));
		if (gen_rand(&g, 2))
			gen_put(&g, "<?xml version=\"1.0\"?>\n");
		if (gen_rand(&g, 2))
			gen_put(&g, "<?first a b?><!-- x -->\n");
		gen_elem(&g, 0, 1);
		if (gen_rand(&g, 2))
			gen_put(&g, "\n<!-- y --><?last?>");
		if ((doc = parse(g.p, g.len)) == NULL) {
			unparsed++;   /* ds undeclared, attribute clashes */
			continue;
		}
		snprintf(what, sizeof(what), "random %d", i);
		st.docs++;
		compare_dsig(doc, what);
		compare_each(doc, what, 1);
		xmlFreeDoc(doc);
	}
	printf("\n  %ld random documents compared, %ld not well-formed ",
	    st.docs - before, unparsed);
	CU_ASSERT(st.docs - before >= 300);
	free(g.p);
}

/* ---- what xc14n refuses, and failing writes ---- */

/* xc14n's answer on top; the callback must not have been called. */
static int
mine_only(xmlNodePtr top)
{
	struct sink s = { 0 };
	int rc = xc14n_write(top, NULL, sink_write, &s);

	if (rc == XC14N_UNSUPPORTED)
		CU_ASSERT_EQUAL(s.calls, 0);
	free(s.p);
	return rc;
}

static void
test_unsupported(void)
{
	static const char *const ent[] = {
		"<!DOCTYPE r [<!ENTITY e \"x y\">]><r>a&e;b</r>",
		"<!DOCTYPE r [<!ENTITY e \"x\">]><r><s a=\"1&e;2\"/></r>",
	};
	struct sink s = { 0 };
	xmlNodePtr n, root;
	xmlDocPtr doc;
	size_t i;
	int d;

	/* entity reference nodes: parsed without XML_PARSE_NOENT */
	for (i = 0; i < 2; i++) {
		doc = xmlReadMemory(ent[i], (int)strlen(ent[i]), "e.xml", NULL,
		    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
		CU_ASSERT_EQUAL(mine_only((xmlNodePtr)doc), XC14N_UNSUPPORTED);
		CU_ASSERT_EQUAL(mine_only(xmlDocGetRootElement(doc)),
		    XC14N_UNSUPPORTED);
		xmlFreeDoc(doc);
	}
	/* a relative namespace URI: libxml2 fails, xc14n does not write */
	doc = parse("<r xmlns=\"rel\"/>", 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT(ref_c14n(doc, NULL, NULL, &s) < 0);
	CU_ASSERT_EQUAL(mine_only((xmlNodePtr)doc), XC14N_UNSUPPORTED);
	xmlFreeDoc(doc);
	/* nesting beyond the cap (a tree no parser limit stopped) */
	doc = xmlNewDoc((const xmlChar *)"1.0");
	root = n = xmlNewDocNode(doc, NULL, (const xmlChar *)"r", NULL);
	xmlDocSetRootElement(doc, root);
	for (d = 0; d < 300; d++)
		n = xmlNewChild(n, NULL, (const xmlChar *)"e", NULL);
	CU_ASSERT_EQUAL(mine_only((xmlNodePtr)doc), XC14N_UNSUPPORTED);
	/* ... while a subtree within it is fine */
	for (d = 0, n = root; d < 100; d++)
		n = n->children;
	CU_ASSERT_EQUAL(compare(doc, n, NULL, "deep subtree"), 0);
	/* a document not in UTF-8 */
	doc->charset = XML_CHAR_ENCODING_8859_1;
	CU_ASSERT_EQUAL(mine_only(n), XC14N_UNSUPPORTED);
	xmlFreeDoc(doc);
	/* bad arguments */
	CU_ASSERT_EQUAL(xc14n_write(NULL, NULL, sink_write, &s), -1);
	doc = parse("<r/>", 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(xc14n_write((xmlNodePtr)doc, NULL, NULL, NULL), -1);
	CU_ASSERT_EQUAL(xc14n_write((xmlNodePtr)doc, (xmlNodePtr)doc,
	    sink_write, &s), -1);
	xmlFreeDoc(doc);
	free(s.p);
}

static void
test_write_fail(void)
{
	struct sink s = { 0 };
	struct gen g = { .rng = 7 };
	xmlDocPtr doc;
	size_t whole;
	int i;

	/* a small document: the one call (the final flush) fails */
	doc = parse("<r a=\"1\">x</r>", 14);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	s.fail_at = 1;
	CU_ASSERT_EQUAL(xc14n_write((xmlNodePtr)doc, NULL, sink_write, &s), -1);
	CU_ASSERT_EQUAL(s.calls, 1);
	xmlFreeDoc(doc);
	/* a large one: chunks of 8 KB; a failure stops the writing */
	g.p = malloc(GEN_CAP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g.p);
	g.len = 0;
	gen_put(&g, "<r>");
	for (i = 0; i < 2000; i++)
		gen_put(&g, "<i a=\"&amp;\">text &lt;</i>");
	gen_put(&g, "</r>");
	doc = parse(g.p, g.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	s.len = 0;
	s.calls = s.fail_at = 0;
	CU_ASSERT_EQUAL(xc14n_write((xmlNodePtr)doc, NULL, sink_write, &s), 0);
	whole = s.len;
	CU_ASSERT(s.calls > 3);
	CU_ASSERT(s.max_chunk > 4096 && s.max_chunk <= 8192);
	compare(doc, NULL, NULL, "large");
	for (i = 1; i <= 3; i++) {
		s.len = 0;
		s.calls = 0;
		s.fail_at = i;
		CU_ASSERT_EQUAL(xc14n_write((xmlNodePtr)doc, NULL, sink_write,
		    &s), -1);
		CU_ASSERT_EQUAL(s.calls, i);   /* not called after refusing */
		CU_ASSERT(s.len < whole);
	}
	xmlFreeDoc(doc);
	free(g.p);
	free(s.p);
}

/* ---- timing (printed, not asserted) ---- */

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Case (a) as the daemon runs it (the Signature left out if any), the
 * best average of 10 batches for each (the machine is shared). */
static void
time_doc(const char *buf, size_t len, const char *what)
{
	struct sink sk[2] = { { .discard = 1 }, { .discard = 1 } };
	xmlDocPtr doc = parse(buf, len);
	double best[2] = { 1e30, 1e30 }, t;
	int b, i, r, n = len > 30000 ? 20 : 50, ok = 1;
	xmlNodePtr sig;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	sig = child_named(xmlDocGetRootElement(doc), DSIG_NS, "Signature");
	for (r = 0; r < 2; r++)
		for (b = 0; b < 10; b++) {
			t = now_us();
			for (i = 0; i < n; i++)
				ok &= r ? ref_c14n(doc, NULL, sig, &sk[1]) >= 0
				    : xc14n_write((xmlNodePtr)doc, sig,
				    sink_write, &sk[0]) == 0;
			t = (now_us() - t) / n;
			best[r] = t < best[r] ? t : best[r];
		}
	printf("\ntiming: %s (%zu bytes in, %zu out): xc14n %.1f us, "
	    "libxml2 %.1f us (best of 10 batches), %.1fx%s\n", what, len,
	    sk[0].len / (size_t)(10 * n), best[0], best[1], best[1] / best[0],
	    ok ? "" : " FAILED");
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(sk[0].len, sk[1].len);
	xmlFreeDoc(doc);
}

static void
test_timing(void)
{
	char *buf, tmp[64];
	size_t len = 0;

	if (big_path[0] != '\0' && (buf = unit_slurp(big_path, &len)) != NULL) {
		time_doc(buf, len, big_path);
		free(buf);
	} else
		printf("\n  SKIP: no corpus document for the timing ");
	/* a 20-item declaration as the daemon receives them */
	snprintf(tmp, sizeof(tmp), "/tmp/test_xc14n.%d.xml", (int)getpid());
	if (unit_sh("build/gendecl --items 20 >%s 2>/dev/null", tmp) == 0 &&
	    (buf = unit_slurp(tmp, &len)) != NULL) {
		time_doc(buf, len, "gendecl --items 20");
		free(buf);
	} else
		printf("\n  SKIP: build/gendecl did not run ");
	unlink(tmp);
}

/* libxml2's canonicalizer reports its refusals on stderr */
static void
quiet(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

static int
suite_init(void)
{
	xmlInitParser();
	xmlSetStructuredErrorFunc(NULL, quiet);
	return 0;
}

int
main(void)
{
	static const struct unit_test tests[] = {
		{ "expected bytes", test_expected },
		{ "hand-written documents", test_hand },
		{ "random documents", test_random },
		{ "corpus and vectors", test_files },
		{ "unsupported", test_unsupported },
		{ "write failures", test_write_fail },
		{ "timing", test_timing },
	};
	int fails = UNIT_SUITE("xc14n", suite_init, NULL, tests);

	printf("xc14n: %ld documents, %ld comparisons: %ld same bytes, %ld "
	    "refused by both, %ld unsupported (fallback), %ld wrong\n",
	    st.docs, st.cmps, st.same, st.both_refused, st.fallback, st.bad);
	xmlCleanupParser();
	return fails != 0 || st.bad != 0;
}
