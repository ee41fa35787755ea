/* ack: writes Response documents (xsd/response.xsd) directly in exclusive
 * canonical form, so that signing needs no tree and no c14n pass: the
 * digest is taken over the bytes as written (dsig_sign_c14n).  Every text that ends up in a Response goes through ack_text(), which
 * keeps only valid UTF-8 XML characters and bounds the length, so that a
 * Response always serializes, re-parses and validates whatever the
 * submitted document or an error message contained. */
#include "ack.h"
#include "dsig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <openssl/evp.h>

/* Byte caps of each field (the schema's maxLength are the same or larger). */
#define ACK_REF_MAX 71     /* LRN, declaration id, MRN, codes */
#define ACK_MSG_MAX 255    /* error description and pointer */
#define ACK_CODE_MAX 39    /* ValidationCode */
#define ACK_REASON_MAX 2000
#define ACK_BUF 2048       /* > every cap above */

/* Decodes one UTF-8 character at s (n bytes available) into *cp; returns its
 * length, or 0 if the bytes are not a valid, shortest-form sequence. */
static size_t
ack_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0; /* overlong or out of range */
	*cp = c;
	return len;
}

static int
ack_xml_char(uint32_t c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
	    (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/* Copies at most max bytes of src into dst (cap > max) as valid XML text:
 * invalid UTF-8 becomes '?', characters XML forbids become ' ', and a
 * character that would not fit whole is dropped.  Returns the length. */
static size_t
ack_text(char *dst, size_t max, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t in = 0, out = 0, srclen = strlen(src), k;
	uint32_t c;

	while (in < srclen) {
		k = ack_utf8(s + in, srclen - in, &c);
		if (k == 0) {
			if (out + 1 > max)
				break;
			dst[out++] = '?';
			in++;
			continue;
		}
		if (out + k > max)
			break;
		if (!ack_xml_char(c)) {
			dst[out++] = c < 0x20 ? ' ' : '?';
		} else {
			memcpy(dst + out, s + in, k);
			out += k;
		}
		in += k;
	}
	dst[out] = '\0';
	return out;
}

/* The Response being written, in exclusive canonical form (what c14n
 * would make of the tree: no self-closing tags, c14n escaping, the one
 * namespace declared on the root).  A write past ACK_DOC_MAX or a failed
 * allocation sets failed; the writer checks it once at the end. */
struct ack_out {
	char *p;
	size_t len, cap;
	int failed;
};

#define ACK_DOC_MAX (1024 * 1024)

static void
ack_put(struct ack_out *o, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (o->failed)
		return;
	if (n > o->cap - o->len) {
		cap = o->cap > 0 ? o->cap : 1024;
		while (cap - o->len < n && cap < ACK_DOC_MAX)
			cap *= 2;
		if (cap - o->len < n || (p = realloc(o->p, cap)) == NULL) {
			o->failed = 1;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
ack_puts(struct ack_out *o, const char *s)
{
	ack_put(o, s, strlen(s));
}

/* text, cleaned and capped at max bytes, escaped as c14n escapes text. */
static void
ack_put_text(struct ack_out *o, const char *text, size_t max)
{
	char buf[ACK_BUF];
	const char *p, *run, *esc;

	if (max >= sizeof(buf))
		max = sizeof(buf) - 1;
	ack_text(buf, max, text);
	for (p = run = buf; *p != '\0'; p++) {
		switch (*p) {
		case '&': esc = "&amp;"; break;
		case '<': esc = "&lt;"; break;
		case '>': esc = "&gt;"; break;
		case '\r': esc = "&#xD;"; break;
		default: continue;
		}
		ack_put(o, run, (size_t)(p - run));
		ack_puts(o, esc);
		run = p + 1;
	}
	ack_put(o, run, (size_t)(p - run));
}

static void
ack_end(struct ack_out *o, const char *name)
{
	ack_puts(o, "</");
	ack_puts(o, name);
	ack_puts(o, ">");
}

/* <name>text</name>; text NULL: only the start tag. */
static void
ack_add(struct ack_out *o, const char *name, const char *text, size_t max)
{
	ack_puts(o, "<");
	ack_puts(o, name);
	ack_puts(o, ">");
	if (text == NULL)
		return;
	ack_put_text(o, text, max);
	ack_end(o, name);
}

static int
ack_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static void
ack_add_declaration(struct ack_out *o, const struct ack_info *ai,
    const char *issued)
{
	if (!ack_set(ai->declaration_id) && !ack_set(ai->mrn) &&
	    !ack_set(ai->status) && !ack_set(ai->lane))
		return;
	ack_add(o, "Declaration", NULL, 0);
	if (ack_set(ai->declaration_id))
		ack_add(o, "ID", ai->declaration_id, ACK_REF_MAX);
	if (ack_set(ai->mrn))
		ack_add(o, "MRN", ai->mrn, ACK_REF_MAX);
	if (ack_set(ai->status)) {
		ack_add(o, "Status", NULL, 0);
		ack_add(o, "NameCode", ai->status, ACK_REF_MAX);
		ack_add(o, "EffectiveDateTime", issued, ACK_REF_MAX);
		ack_end(o, "Status");
	}
	if (ack_set(ai->lane))
		ack_add(o, "Lane", ai->lane, ACK_REF_MAX);
	ack_end(o, "Declaration");
}

static void
ack_add_error(struct ack_out *o, const char *code, const char *msg,
    const char *pointer, int line)
{
	char num[24];

	ack_add(o, "Error", NULL, 0);
	ack_add(o, "ValidationCode", ack_set(code) ? code : "UNKNOWN",
	    ACK_CODE_MAX);
	ack_add(o, "Description", msg != NULL ? msg : "", ACK_MSG_MAX);
	if (ack_set(pointer))
		ack_add(o, "Pointer", pointer, ACK_MSG_MAX);
	if (line > 0) {
		snprintf(num, sizeof(num), "%d", line);
		ack_add(o, "Line", num, ACK_REF_MAX);
	}
	ack_end(o, "Error");
}

static void
ack_add_errors(struct ack_out *o, const struct errs *e)
{
	char msg[80];
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n && i < ERR_LIST_CAP; i++) {
		const struct err_item *it = &e->v[i];

		ack_add_error(o, it->code, it->msg, it->pointer, it->line);
	}
	if (e->dropped > 0) {
		snprintf(msg, sizeof(msg), "%zu more errors not listed", e->dropped);
		ack_add_error(o, "ERRORS_TRUNCATED", msg, NULL, 0);
	}
}

/* The Response up to the root's end tag (ACK_END) into o.  0, or -1. */
static int
ack_write(const struct ack_info *ai, struct ack_out *o)
{
	char now[40];
	const char *issued;

	if (ack_set(ai->issued)) {
		issued = ai->issued;
	} else {
		ack_now(now, sizeof(now));
		issued = now;
	}
	ack_puts(o, "<Response xmlns=\"" ACK_NS "\">");
	ack_add(o, "FunctionCode",
	    ack_set(ai->function_code) ? ai->function_code : ACK_ERROR,
	    ACK_REF_MAX);
	if (ack_set(ai->lrn))
		ack_add(o, "FunctionalReferenceID", ai->lrn, ACK_REF_MAX);
	ack_add(o, "IssueDateTime", issued, ACK_REF_MAX);
	ack_add_declaration(o, ai, issued);
	if (ack_set(ai->reason))
		ack_add(o, "AdditionalInformation", ai->reason, ACK_REASON_MAX);
	ack_add_errors(o, ai->errors);
	if (ack_set(ai->digest_hex)) {
		ack_puts(o, "<SubmittedDocumentDigest algorithm=\"sha256\">");
		ack_put_text(o, ai->digest_hex, ACK_REF_MAX);
		ack_end(o, "SubmittedDocumentDigest");
	}
	return o->failed ? -1 : 0;
}

#define ACK_END "</Response>"
#define ACK_PROLOG "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

xmlDocPtr
ack_build(const struct ack_info *ai)
{
	struct ack_out o = { NULL, 0, 0, 0 };
	xmlDocPtr doc = NULL;

	ack_write(ai, &o);
	ack_puts(&o, ACK_END);
	if (!o.failed && o.len <= (size_t)ACK_DOC_MAX)
		doc = xmlReadMemory(o.p, (int)o.len, NULL, "UTF-8",
		    XML_PARSE_NONET);
	free(o.p);
	return doc;
}

int
ack_sign(const struct ack_info *ai, const struct dsig_signer *s, char **out,
    size_t *len, struct errs *e)
{
	struct ack_out o = { NULL, 0, 0, 0 };
	int rc = -1;

	*out = NULL;
	*len = 0;
	if (ack_write(ai, &o) < 0) {
		err_add(e, "DSIG_SIGN", 0, "", "cannot write the Response");
		goto cleanup;
	}
	rc = dsig_sign_c14n(s, ACK_PROLOG, o.p, o.len, ACK_END, out, len, e);
cleanup:
	free(o.p);
	return rc;
}

int
ack_serialize(xmlDocPtr doc, char **out, size_t *len)
{
	xmlChar *mem = NULL;
	int n = 0;
	int rc = -1;

	*out = NULL;
	*len = 0;
	if (doc == NULL)
		return -1;
	xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
	if (mem == NULL || n <= 0)
		goto done;
	/* copied so that callers free() it whatever xmlMemSetup says */
	if ((*out = malloc((size_t)n + 1)) == NULL)
		goto done;
	memcpy(*out, mem, (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	rc = 0;
done:
	xmlFree(mem);
	return rc;
}

void
ack_now(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL)
		return;
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000L);
}

void
ack_sha256_hex(const void *buf, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	out[0] = '\0';
	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return;
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[64] = '\0';
}
