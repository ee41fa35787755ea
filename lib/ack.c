/* ack: builds Response documents (xsd/response.xsd) with libxml2.
 * Every text that ends up in a Response goes through ack_text(), which
 * keeps only valid UTF-8 XML characters and bounds the length, so that a
 * Response always serializes, re-parses and validates whatever the
 * submitted document or an error message contained. */
#include "ack.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Adds <name>text</name> under parent; text is cleaned and capped at max
 * bytes.  Returns the new element or NULL (allocation failure). */
static xmlNodePtr
ack_add(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text,
    size_t max)
{
	char buf[ACK_BUF];

	if (text == NULL)
		return xmlNewChild(parent, ns, BAD_CAST name, NULL);
	if (max >= sizeof(buf))
		max = sizeof(buf) - 1;
	ack_text(buf, max, text);
	return xmlNewTextChild(parent, ns, BAD_CAST name, BAD_CAST buf);
}

static int
ack_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int
ack_add_declaration(xmlNodePtr root, xmlNsPtr ns, const struct ack_info *ai,
    const char *issued)
{
	xmlNodePtr d, st;

	if (!ack_set(ai->declaration_id) && !ack_set(ai->mrn) &&
	    !ack_set(ai->status) && !ack_set(ai->lane))
		return 0;
	if ((d = ack_add(root, ns, "Declaration", NULL, 0)) == NULL)
		return -1;
	if (ack_set(ai->declaration_id) &&
	    ack_add(d, ns, "ID", ai->declaration_id, ACK_REF_MAX) == NULL)
		return -1;
	if (ack_set(ai->mrn) && ack_add(d, ns, "MRN", ai->mrn, ACK_REF_MAX) == NULL)
		return -1;
	if (ack_set(ai->status)) {
		if ((st = ack_add(d, ns, "Status", NULL, 0)) == NULL ||
		    ack_add(st, ns, "NameCode", ai->status, ACK_REF_MAX) == NULL ||
		    ack_add(st, ns, "EffectiveDateTime", issued, ACK_REF_MAX) == NULL)
			return -1;
	}
	if (ack_set(ai->lane) && ack_add(d, ns, "Lane", ai->lane, ACK_REF_MAX) == NULL)
		return -1;
	return 0;
}

static int
ack_add_error(xmlNodePtr root, xmlNsPtr ns, const char *code, const char *msg,
    const char *pointer, int line)
{
	xmlNodePtr er;
	char num[24];

	if ((er = ack_add(root, ns, "Error", NULL, 0)) == NULL ||
	    ack_add(er, ns, "ValidationCode", ack_set(code) ? code : "UNKNOWN",
	    ACK_CODE_MAX) == NULL ||
	    ack_add(er, ns, "Description", msg != NULL ? msg : "", ACK_MSG_MAX) == NULL)
		return -1;
	if (ack_set(pointer) &&
	    ack_add(er, ns, "Pointer", pointer, ACK_MSG_MAX) == NULL)
		return -1;
	if (line > 0) {
		snprintf(num, sizeof(num), "%d", line);
		if (ack_add(er, ns, "Line", num, ACK_REF_MAX) == NULL)
			return -1;
	}
	return 0;
}

static int
ack_add_errors(xmlNodePtr root, xmlNsPtr ns, const struct errs *e)
{
	char msg[80];
	size_t i;

	if (e == NULL)
		return 0;
	for (i = 0; i < e->n && i < ERR_LIST_CAP; i++) {
		const struct err_item *it = &e->v[i];

		if (ack_add_error(root, ns, it->code, it->msg, it->pointer,
		    it->line) == -1)
			return -1;
	}
	if (e->dropped > 0) {
		snprintf(msg, sizeof(msg), "%zu more errors not listed", e->dropped);
		if (ack_add_error(root, ns, "ERRORS_TRUNCATED", msg, NULL, 0) == -1)
			return -1;
	}
	return 0;
}

xmlDocPtr
ack_build(const struct ack_info *ai)
{
	xmlDocPtr doc;
	xmlNodePtr root, n;
	xmlNsPtr ns;
	char now[40];
	const char *issued;

	if ((doc = xmlNewDoc(BAD_CAST "1.0")) == NULL)
		return NULL;
	if ((root = xmlNewDocNode(doc, NULL, BAD_CAST "Response", NULL)) == NULL)
		goto fail;
	xmlDocSetRootElement(doc, root);
	if ((ns = xmlNewNs(root, BAD_CAST ACK_NS, NULL)) == NULL)
		goto fail;
	xmlSetNs(root, ns);

	if (ack_set(ai->issued)) {
		issued = ai->issued;
	} else {
		ack_now(now, sizeof(now));
		issued = now;
	}
	if (ack_add(root, ns, "FunctionCode",
	    ack_set(ai->function_code) ? ai->function_code : ACK_ERROR,
	    ACK_REF_MAX) == NULL)
		goto fail;
	if (ack_set(ai->lrn) &&
	    ack_add(root, ns, "FunctionalReferenceID", ai->lrn, ACK_REF_MAX) == NULL)
		goto fail;
	if (ack_add(root, ns, "IssueDateTime", issued, ACK_REF_MAX) == NULL)
		goto fail;
	if (ack_add_declaration(root, ns, ai, issued) == -1)
		goto fail;
	if (ack_set(ai->reason) &&
	    ack_add(root, ns, "AdditionalInformation", ai->reason,
	    ACK_REASON_MAX) == NULL)
		goto fail;
	if (ack_add_errors(root, ns, ai->errors) == -1)
		goto fail;
	if (ack_set(ai->digest_hex)) {
		if ((n = ack_add(root, ns, "SubmittedDocumentDigest", ai->digest_hex,
		    ACK_REF_MAX)) == NULL ||
		    xmlNewProp(n, BAD_CAST "algorithm", BAD_CAST "sha256") == NULL)
			goto fail;
	}
	return doc;
fail:
	xmlFreeDoc(doc);
	return NULL;
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
