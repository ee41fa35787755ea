#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>

#include "daemon.h"
#include "http.h"

static int
json_to_evbuffer(const char *buf, size_t size, void *data)
{
	return evbuffer_add(data, buf, size);
}

void
json_reply_raw(struct daemon *d, struct evhttp_request *req, int status,
    const char *ctype, const void *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (b != NULL && body != NULL)
		evbuffer_add(b, body, len);
	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (status / 100 < 6)
		d->m.resp_by_status[status / 100]++;
	if (status == 404)
		d->m.resp_404++;
	else if (status == 503)
		d->m.resp_503++;
	http_reply(req, status, b);
	if (b != NULL)
		evbuffer_free(b);
}

void
json_reply(struct daemon *d, struct evhttp_request *req, int status,
    const json_t *o)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (b != NULL && (json_dump_callback(o, json_to_evbuffer, b,
	    JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 || evbuffer_add(b, "\n", 1) != 0)) {
		/* out of memory: an empty 500 rather than half a document */
		evbuffer_free(b);
		b = NULL;
		status = 500;
	}
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (status / 100 < 6)
		d->m.resp_by_status[status / 100]++;
	http_reply(req, status, b);
	if (b != NULL)
		evbuffer_free(b);
}

int
json_parse_u63(const char *s, int64_t *v)
{
	int64_t n = 0;
	size_t i;

	if (s == NULL || *s == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 18 || s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	*v = n;
	return 0;
}

int64_t
json_pg_int8(const PGresult *r, int row, int col)
{
	const unsigned char *p;
	uint64_t v = 0;
	int i;

	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
		return 0;
	p = (const unsigned char *)PQgetvalue(r, row, col);
	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

json_t *
json_acks_page(const PGresult *r, int64_t after, size_t cap)
{
	json_t *root = NULL, *list = NULL, *o;
	int i, n = PQntuples(r);
	int64_t last = after, seq;
	size_t total = 0, blen, elen;
	char *b64, idbuf[24];

	if ((root = json_object()) == NULL || (list = json_array()) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		seq = json_pg_int8(r, i, 0);
		blen = (size_t)PQgetlength(r, i, 4);
		elen = (blen + 2) / 3 * 4;
		if (elen > cap || total + elen > cap) {
			if (i == 0)
				goto fail;
			break; /* the rest comes with the next page */
		}
		if ((b64 = malloc(elen + 1)) == NULL)
			goto fail;
		EVP_EncodeBlock((unsigned char *)b64,
		    (const unsigned char *)PQgetvalue(r, i, 4), (int)blen);
		total += elen;
		snprintf(idbuf, sizeof(idbuf), "%lld",
		    (long long)json_pg_int8(r, i, 1));
		o = json_pack("{s:I, s:s?, s:s, s:s, s:s}", "seq", (json_int_t)seq,
		    "declaration_id", PQgetisnull(r, i, 1) ? NULL : idbuf,
		    "kind", PQgetvalue(r, i, 2), "created_at", PQgetvalue(r, i, 3),
		    "body", b64);
		free(b64);
		if (o == NULL || json_array_append_new(list, o) != 0)
			goto fail;
		last = seq;
	}
	if (json_object_set_new(root, "acks", list) != 0) {
		list = NULL;
		goto fail;
	}
	list = NULL;
	if (json_object_set_new(root, "next", json_integer(last)) != 0)
		goto fail;
	return root;
fail:
	json_decref(list);
	json_decref(root);
	return NULL;
}
