#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define HTTP_URL_MAX 8192

struct http {
	CURL *curl;
	const struct cli *cli;
	volatile sig_atomic_t *stop;
	struct http_resp *cur;  /* response being filled */
	int overflow;
	char errbuf[CURL_ERROR_SIZE];
	char msg[CURL_ERROR_SIZE + 64];
};

static size_t
http_on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http *h = arg;
	struct http_resp *r = h->cur;
	size_t n = size * nmemb;

	if (n > CLI_MAX_FILE || r->len + n > CLI_MAX_FILE) {
		h->overflow = 1;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		size_t ncap = r->cap ? r->cap : 8192;
		char *nb;

		while (ncap < r->len + n + 1)
			ncap *= 2;
		nb = realloc(r->body, ncap);
		if (nb == NULL)
			return 0;
		r->body = nb;
		r->cap = ncap;
	}
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Copies a header's value (trimmed) when the line is "name: value". */
static int
http_header_value(const char *line, size_t n, const char *name, char *out,
    size_t cap)
{
	size_t nl = strlen(name), i, j;

	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return 0;
	for (i = nl + 1; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	for (j = n; j > i && isspace((unsigned char)line[j - 1]); j--)
		;
	if (j - i >= cap)
		j = i + cap - 1;
	memcpy(out, line + i, j - i);
	out[j - i] = '\0';
	return 1;
}

static size_t
http_on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http *h = arg;
	struct http_resp *r = h->cur;
	size_t n = size * nmemb;
	char ra[32];

	/* a new status line (after 100 Continue or a redirect) starts over */
	if (n > 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		r->ctype[0] = r->location[0] = '\0';
		r->retry_after = -1;
		return n;
	}
	if (http_header_value(ptr, n, "Content-Type", r->ctype, sizeof(r->ctype)) ||
	    http_header_value(ptr, n, "Location", r->location, sizeof(r->location)))
		return n;
	if (http_header_value(ptr, n, "Retry-After", ra, sizeof(ra))) {
		long long v = cli_parse_num(ra, 86400);

		r->retry_after = v >= 0 ? (long)v : -1;
	}
	return n;
}

static int
http_on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct http *h = arg;

	return h->stop != NULL && *h->stop ? 1 : 0;
}

struct http *
http_new(const struct cli *c, volatile sig_atomic_t *stop)
{
	struct http *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->cli = c;
	h->stop = stop;
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		return NULL;
	}
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(h->curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h->curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->cert != NULL)
		curl_easy_setopt(h->curl, CURLOPT_SSLCERT, c->cert);
	if (c->key != NULL)
		curl_easy_setopt(h->curl, CURLOPT_SSLKEY, c->key);
	if (c->cacert != NULL)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, c->cacert);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, http_on_progress);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "declctl/1");
	curl_easy_setopt(h->curl, CURLOPT_VERBOSE, c->verbose > 1 ? 1L : 0L);
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

int
http_request(struct http *h, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, long timeout_s,
    struct http_resp *r)
{
	struct curl_slist *hdrs = NULL, *t;
	char url[HTTP_URL_MAX], line[160];
	size_t blen = strlen(h->cli->url);
	CURLcode cc;
	int rc = -1;

	r->len = 0;
	r->status = 0;
	r->ctype[0] = r->location[0] = '\0';
	r->retry_after = -1;
	h->cur = r;
	h->overflow = 0;
	h->errbuf[0] = h->msg[0] = '\0';
	while (blen > 0 && h->cli->url[blen - 1] == '/')
		blen--;
	if (snprintf(url, sizeof(url), "%.*s%s", (int)blen, h->cli->url, path) >=
	    (int)sizeof(url)) {
		snprintf(h->msg, sizeof(h->msg), "URL too long");
		return -1;
	}
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT,
	    timeout_s > 0 ? timeout_s : h->cli->timeout_s);
	/* no "Expect: 100-continue" round trip for large declarations */
	if ((t = curl_slist_append(hdrs, "Expect:")) == NULL)
		goto nomem;
	hdrs = t;
	if (strcmp(method, "POST") == 0) {
		snprintf(line, sizeof(line), "Content-Type: %s",
		    ctype != NULL ? ctype : "application/octet-stream");
		if ((t = curl_slist_append(hdrs, line)) == NULL)
			goto nomem;
		hdrs = t;
		curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(body != NULL ? len : 0));
	} else {
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	}
	if ((t = curl_slist_append(hdrs, "Accept: application/xml, application/json")) == NULL)
		goto nomem;
	hdrs = t;
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(h->curl);
	if (cc != CURLE_OK) {
		if (h->overflow)
			snprintf(h->msg, sizeof(h->msg), "response larger than %u bytes",
			    CLI_MAX_FILE);
		else if (cc == CURLE_ABORTED_BY_CALLBACK)
			snprintf(h->msg, sizeof(h->msg), "interrupted");
		else
			snprintf(h->msg, sizeof(h->msg), "%s%s",
			    h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc),
			    h->cli->cert == NULL && strncmp(url, "https:", 6) == 0 ?
			    " (no client certificate given: --cert and --key)" : "");
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body == NULL) {
		if ((r->body = calloc(1, 1)) == NULL)
			goto nomem;
		r->cap = 1;
	}
	rc = 0;
	goto out;
nomem:
	snprintf(h->msg, sizeof(h->msg), "out of memory");
out:
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	h->cur = NULL;
	return rc;
}

const char *
http_error(const struct http *h)
{
	return h->msg[0] ? h->msg : "unknown error";
}

char *
http_escape(struct http *h, const char *s)
{
	char *e = curl_easy_escape(h->curl, s, 0), *out;

	if (e == NULL)
		return NULL;
	out = strdup(e);
	curl_free(e);
	return out;
}

void
http_resp_clear(struct http_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}
