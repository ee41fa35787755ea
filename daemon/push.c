/* Push delivery, its HTTP edges: the /v1/callback route, the client TLS
 * context and the outbound HTTPS POST of one acknowledgement (libevent's
 * evhttp client over bufferevent_openssl).  The database side (leases,
 * outcomes, registration statements) is pushq.c.  A slot is one party's
 * stream in this instance: the lease, the acknowledgement being delivered
 * and a keep-alive connection to the party's receiver.  Connection objects
 * are freed only from timers and database callbacks, never inside their
 * own callbacks. */
#include "push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "pushq.h"

struct push_ctx {
	SSL_CTX *ssl;
};

struct push_ctx *
push_ctx_new(const struct config *cfg, struct errs *e)
{
	struct push_ctx *c = calloc(1, sizeof(*c));
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	const char *ca = cfg->push_ca;
	char msg[200];

	if (c == NULL || ctx == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		log_warnx("msg=\"push: no system CA store\"");
	if (ca[0] != '\0' && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
		err_add(e, "TLS_CONFIG", 0, "push.ca",
		    "cannot load the CA file %s: %s", ca, msg);
		goto out;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	c->ssl = ctx;
	return c;
fail:
	ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
	err_add(e, "TLS_CONFIG", 0, "tls.cert",
	    "push client certificate: %s", msg);
out:
	SSL_CTX_free(ctx);
	free(c);
	return NULL;
}

void
push_ctx_free(struct push_ctx *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ssl);   /* live SSL objects hold their own reference */
	free(c);
}

int
push_lease_s(const struct push *p)
{
	return p->d->cfg->push_timeout_s * 3 + 20;
}

void
push_conn_free(struct pslot *s)
{
	if (s->evcon == NULL)
		return;
	evhttp_connection_set_closecb(s->evcon, NULL, NULL);
	evhttp_connection_free(s->evcon);
	s->evcon = NULL;
	s->dead = 0;
	s->conn_key[0] = '\0';
}

static void
push_slot_close(struct pslot *s)
{
	struct evhttp_request *r = s->hreq;

	if (s->timer != NULL) {
		event_free(s->timer);
		s->timer = NULL;
	}
	s->hreq = NULL;
	if (r != NULL)
		evhttp_cancel_request(r); /* calls no request callback */
	push_conn_free(s);
}

static void
push_on_conn_close(struct evhttp_connection *c, void *arg)
{
	struct pslot *s = arg;

	if (s->evcon == c)
		s->dead = 1;
}

static void
push_on_error(enum evhttp_request_error err, void *arg)
{
	struct pslot *s = arg;

	s->req_error = (int)err;
}

static const char *
push_error_name(int e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT: return "timeout";
	case EVREQ_HTTP_EOF: return "connection closed";
	case EVREQ_HTTP_INVALID_HEADER: return "invalid response";
	case EVREQ_HTTP_BUFFER_ERROR: return "connection error";
	case EVREQ_HTTP_DATA_TOO_LONG: return "response too long";
	default: return "cannot connect";
	}
}

static void
push_on_response(struct evhttp_request *req, void *arg)
{
	struct pslot *s = arg;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	struct bufferevent *bev;
	unsigned long tls;

	if (s->hreq == NULL)
		return; /* given up already */
	s->hreq = NULL;
	evtimer_del(s->timer);
	s->http_status = code;
	s->err[0] = '\0';
	if (code == 0) {
		s->dead = 1;
		s->out = PO_FAILED;
		bev = s->evcon ? evhttp_connection_get_bufferevent(s->evcon) : NULL;
		tls = bev ? bufferevent_get_openssl_error(bev) : 0;
		if (tls != 0) {
			snprintf(s->err, sizeof(s->err), "tls: ");
			ERR_error_string_n(tls, s->err + 5, sizeof(s->err) - 5);
		} else {
			snprintf(s->err, sizeof(s->err), "%s",
			    push_error_name(s->req_error));
		}
	} else if (code >= 200 && code < 300) {
		s->out = PO_DELIVERED;
	} else if (code >= 400 && code < 500 && code != 408 && code != 429) {
		s->out = PO_REJECTED;
		snprintf(s->err, sizeof(s->err), "HTTP %d", code);
	} else {
		s->out = PO_FAILED;
		snprintf(s->err, sizeof(s->err), "HTTP %d", code);
	}
	s->used_ns = daemon_now_ns();
	pushq_record(s);
}

static void
push_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct pslot *s = arg;
	struct evhttp_request *r = s->hreq;

	if (r == NULL)
		return;
	s->hreq = NULL;
	evhttp_cancel_request(r);
	s->dead = 1;
	s->out = PO_FAILED;
	s->http_status = 0;
	snprintf(s->err, sizeof(s->err), "timeout after %d s", s->timeout_s);
	pushq_record(s);
}

static struct evhttp_connection *
push_connect(struct pslot *s, const char *host, int port)
{
	struct push *p = s->p;
	struct event_base *base = p->d->base;
	struct bufferevent *bev;
	struct evhttp_connection *c;
	unsigned char ip[16];
	int is_ip;
	SSL *ssl;

	if ((ssl = SSL_new(p->ctx->ssl)) == NULL)
		return NULL;
	is_ip = evutil_inet_pton(AF_INET, host, ip) == 1 ||
	    evutil_inet_pton(AF_INET6, host, ip) == 1;
	if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) :
	    SSL_set1_host(ssl, host)) != 1 ||
	    (!is_ip && SSL_set_tlsext_host_name(ssl, host) != 1)) {
		SSL_free(ssl);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	c = evhttp_connection_base_bufferevent_new(base, p->dns, bev, host,
	    (ev_uint16_t)port);
	if (c == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	evhttp_connection_set_retries(c, 0);
	evhttp_connection_set_max_body_size(c, PUSH_RESP_MAX);
	evhttp_connection_set_max_headers_size(c, 64 * 1024);
	evhttp_connection_set_closecb(c, push_on_conn_close, s);
	return c;
}

/* POSTs the slot's acknowledgement: 0, or -1 with s->err set. */
int
push_http(struct pslot *s)
{
	struct push *p = s->p;
	struct evhttp_uri *u = evhttp_uri_parse_with_flags(s->url, 0);
	const char *uhost = u ? evhttp_uri_get_host(u) : NULL;
	const char *path, *query;
	char host[PUSH_URL_MAX], key[PUSH_URL_MAX + 8], target[PUSH_URL_MAX];
	char hv[PUSH_URL_MAX + 8], n[24];
	struct evhttp_request *req = NULL;
	struct evkeyvalq *h;
	struct timeval tv;
	int port, rc = -1;

	if (uhost == NULL || *uhost == '\0') {
		snprintf(s->err, sizeof(s->err), "bad callback URL");
		goto out;
	}
	/* an IPv6 literal without its brackets */
	snprintf(host, sizeof(host), "%s", uhost + (uhost[0] == '['));
	if (uhost[0] == '[' && host[0] != '\0' && host[strlen(host) - 1] == ']')
		host[strlen(host) - 1] = '\0';
	port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 443;
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	snprintf(target, sizeof(target), "%s%s%s", path && *path ? path : "/",
	    query ? "?" : "", query ? query : "");
	snprintf(key, sizeof(key), "%s:%d", host, port);
	if (s->evcon != NULL && (s->dead || strcmp(key, s->conn_key) != 0))
		push_conn_free(s);
	if (s->evcon == NULL) {
		if ((s->evcon = push_connect(s, host, port)) == NULL) {
			snprintf(s->err, sizeof(s->err), "cannot create a connection");
			goto out;
		}
		snprintf(s->conn_key, sizeof(s->conn_key), "%s", key);
	}
	/* a reload may have changed it since the connection was made */
	s->timeout_s = p->d->cfg->push_timeout_s;
	evhttp_connection_set_timeout(s->evcon, s->timeout_s);
	tv.tv_sec = s->timeout_s + 2;
	tv.tv_usec = 0;
	if (s->timer == NULL &&
	    (s->timer = evtimer_new(p->d->base, push_on_deadline, s)) == NULL)
		goto nomem;
	if ((req = evhttp_request_new(push_on_response, s)) == NULL)
		goto nomem;
	evhttp_request_set_error_cb(req, push_on_error);
	h = evhttp_request_get_output_headers(req);
	if (port == 443)
		snprintf(hv, sizeof(hv), strchr(host, ':') ? "[%s]" : "%s", host);
	else
		snprintf(hv, sizeof(hv), strchr(host, ':') ? "[%s]:%d" : "%s:%d",
		    host, port);
	snprintf(n, sizeof(n), "%lld", (long long)s->seq);
	if (evhttp_add_header(h, "Host", hv) != 0 ||
	    evhttp_add_header(h, "Content-Type", "application/xml") != 0 ||
	    evhttp_add_header(h, "User-Agent", "declared") != 0 ||
	    evhttp_add_header(h, "Declared-Party", s->party) != 0 ||
	    evhttp_add_header(h, "Declared-Ack-Seq", n) != 0 ||
	    (s->decl[0] && evhttp_add_header(h, "Declared-Declaration-Id",
	    s->decl) != 0) ||
	    evbuffer_add(evhttp_request_get_output_buffer(req), s->body,
	    s->blen) != 0)
		goto nomem;
	s->req_error = -1;
	s->hreq = req;
	evtimer_add(s->timer, &tv);
	/* may call push_on_response at once (connection refused) */
	if (evhttp_make_request(s->evcon, req, EVHTTP_REQ_POST, target) != 0) {
		/* not queued, not freed, no callback */
		s->hreq = NULL;
		evtimer_del(s->timer);
		evhttp_request_free(req);
		s->dead = 1;
		snprintf(s->err, sizeof(s->err), "cannot send the request");
		req = NULL;
		goto out;
	}
	req = NULL;
	rc = 0;
	goto out;
nomem:
	snprintf(s->err, sizeof(s->err), "out of memory");
out:
	if (req != NULL)
		evhttp_request_free(req);
	if (u != NULL)
		evhttp_uri_free(u);
	return rc;
}

void
push_cb_end(struct push *p, struct pcb *c, int status, const char *json,
    size_t len)
{
	if (c->req != NULL) {
		if (json != NULL)
			json_reply_raw(p->d, c->req, status, "application/json",
			    json, len);
		else if (status == 204)
			evhttp_send_reply(c->req, 204, NULL, NULL);
		else if (status == 404)
			http_error(p->d, c->req, 404, "NO_CALLBACK",
			    "no callback registered", 0);
		else if (status == 503)
			http_error(p->d, c->req, 503, "DB_UNAVAILABLE",
			    "the database is unavailable, try again", 2);
		else
			http_error(p->d, c->req, 500, "INTERNAL",
			    "cannot store the callback", 0);
	}
	p->d->inflight--;
	free(c);
}

struct push *
push_new(struct daemon *d, struct errs *e)
{
	struct push *p;
	char host[64];
	unsigned char rnd[2];
	int i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->d = d;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		rnd[0] = rnd[1] = 0;
	snprintf(p->instance, sizeof(p->instance), "%s:%d:%02x%02x", host,
	    (int)getpid(), rnd[0], rnd[1]);
	for (i = 0; i < PUSH_SLOTS; i++)
		p->slot[i].p = p;
	if ((p->ctx = push_ctx_new(d->cfg, e)) == NULL)
		goto fail;
	p->dns = evdns_base_new(d->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (p->dns == NULL)
		log_warnx("msg=\"push: no DNS resolver, callback hosts resolve "
		    "with getaddrinfo\"");
	if ((p->tick = event_new(d->base, -1, EV_PERSIST, pushq_on_tick, p)) == NULL ||
	    (p->kick = event_new(d->base, -1, 0, pushq_on_kick, p)) == NULL) {
		err_add(e, "NO_MEMORY", 0, "push", "cannot create events");
		goto fail;
	}
	{
		struct timeval tv = { 0, PUSH_TICK_MS * 1000 };

		event_add(p->tick, &tv);
	}
	log_info("msg=\"push delivery ready\" instance=%s timeout_s=%d "
	    "retention_s=%d", p->instance, d->cfg->push_timeout_s,
	    d->cfg->push_retention_s);
	return p;
fail:
	push_free(p);
	return NULL;
}

void
push_set_ctx(struct push *p, struct push_ctx *c)
{
	int i;

	push_ctx_free(p->ctx);
	p->ctx = c;
	/* new connections use the new context: idle ones are closed by the
	 * next tick, busy ones after their delivery */
	for (i = 0; i < PUSH_SLOTS; i++)
		if (p->slot[i].evcon != NULL)
			p->slot[i].dead = 1;
}

void
push_stats(const struct push *p, struct push_stats *out)
{
	int i;

	*out = p->st;
	out->leases = 0;
	for (i = 0; i < PUSH_SLOTS; i++)
		out->leases += p->slot[i].busy;
}

void
push_wake(struct push *p, const char *party)
{
	if (p == NULL || p->stopped)
		return;
	if (party != NULL && !pushq_known(p, party)) {
		p->st.wakes_skipped++;
		return;
	}
	p->want_claim = 1;
	event_active(p->kick, EV_TIMEOUT, 0);
}

void
push_db_idle(struct push *p)
{
	struct pcb *c;

	if (p == NULL || p->stopped)
		return;
	if (!db_up(p->d->db)) {
		while ((c = p->cbhead) != NULL) {
			p->cbhead = c->next;
			p->ncb--;
			push_cb_end(p, c, 503, NULL, 0);
		}
		p->cbtail = NULL;
		return;
	}
	pushq_kick(p);
}

void
push_drain(struct push *p)
{
	if (p != NULL)
		p->draining = 1;
}

/* Validates a callback URL: https, a host, no user info, no fragment, no
 * control characters or spaces, at most PUSH_URL_MAX - 1 bytes. */
static int
push_url_ok(const char *url)
{
	struct evhttp_uri *u;
	const char *s;
	int ok;

	if (url == NULL || strlen(url) >= PUSH_URL_MAX)
		return 0;
	for (s = url; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	if ((u = evhttp_uri_parse_with_flags(url, 0)) == NULL)
		return 0;
	ok = evhttp_uri_get_scheme(u) != NULL &&
	    strcmp(evhttp_uri_get_scheme(u), "https") == 0 &&
	    evhttp_uri_get_host(u) != NULL && *evhttp_uri_get_host(u) != '\0' &&
	    evhttp_uri_get_userinfo(u) == NULL &&
	    evhttp_uri_get_fragment(u) == NULL;
	evhttp_uri_free(u);
	return ok;
}

void
push_route(struct push *p, struct evhttp_request *req, const char *party,
    enum role role)
{
	struct daemon *d = p->d;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	char body[PUSH_URL_MAX + 256];
	const char *url = NULL;
	json_t *j = NULL;
	struct pcb *c;
	size_t len;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_PUT &&
	    cmd != EVHTTP_REQ_DELETE) {
		http_error(d, req, 405, "METHOD", "use GET, PUT or DELETE", 0);
		return;
	}
	if (role != ROLE_ENTERPRISE) {
		http_error(d, req, 403, "ROLE_FORBIDDEN",
		    "callbacks are for enterprise certificates", 0);
		return;
	}
	if (cmd == EVHTTP_REQ_PUT) {
		len = evbuffer_get_length(in);
		if (len >= sizeof(body)) {
			http_error(d, req, 413, "TOO_LARGE", "callback body too large", 0);
			return;
		}
		evbuffer_copyout(in, body, len);
		j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
		url = json_string_value(json_object_get(j, "url"));
		if (!json_is_object(j) || json_object_size(j) != 1 || !push_url_ok(url)) {
			json_decref(j);
			http_error(d, req, 400, "BAD_CALLBACK", "want {\"url\": "
			    "\"https://host[:port]/path\"}, at most 1023 bytes", 0);
			return;
		}
	}
	if (p->stopped || !db_up(d->db)) {
		json_decref(j);
		http_error(d, req, 503, "DB_UNAVAILABLE",
		    "the database is unavailable, try again", 2);
		return;
	}
	if (p->ncb >= PUSH_CB_QUEUE_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
		json_decref(j);
		http_error(d, req, 503, "OVERLOADED", "too many requests", 1);
		return;
	}
	c->req = req;
	c->cmd = cmd;
	snprintf(c->party, sizeof(c->party), "%s", party);
	snprintf(c->url, sizeof(c->url), "%s", url ? url : "");
	json_decref(j);
	if (p->cbtail != NULL)
		p->cbtail->next = c;
	else
		p->cbhead = c;
	p->cbtail = c;
	p->ncb++;
	d->inflight++;
	pushq_kick(p);
}

void
push_stop(struct push *p)
{
	struct pcb *c;
	int i;

	if (p == NULL)
		return;
	p->stopped = p->draining = 1;
	if (p->tick != NULL)
		event_del(p->tick);
	while ((c = p->cbhead) != NULL) {
		p->cbhead = c->next;
		p->ncb--;
		push_cb_end(p, c, 503, NULL, 0);
	}
	p->cbtail = NULL;
	/* callback requests of the unit in flight not answered yet (the
	 * answered ones are freed already); the unit ends in db_free */
	for (i = p->cur ? p->cur->next : 0; p->cur != NULL && i < p->cur->n; i++)
		if (p->cur->op[i].kind == OP_CB && p->cur->op[i].cb->req != NULL) {
			http_error(p->d, p->cur->op[i].cb->req, 503, "SHUTTING_DOWN",
			    "the daemon is stopping", 5);
			p->cur->op[i].cb->req = NULL;
		}
	for (i = 0; i < PUSH_SLOTS; i++)
		push_slot_close(&p->slot[i]);
}

void
push_free(struct push *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < PUSH_SLOTS; i++) {
		push_slot_close(&p->slot[i]);
		free(p->slot[i].body);
	}
	if (p->tick != NULL)
		event_free(p->tick);
	if (p->kick != NULL)
		event_free(p->kick);
	if (p->dns != NULL)
		evdns_base_free(p->dns, 0);
	push_ctx_free(p->ctx);
	free(p);
}
