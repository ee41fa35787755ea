#include "http.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "admin.h"
#include "api.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "tls.h"

#define HTTP_BACKLOG 4096 /* connections the kernel holds until accept() */

int
http_split_hostport(const char *s, char *host, size_t cap, int *port)
{
	const char *colon;
	const char *h = s;
	size_t hl;
	char *end;
	long p;

	if (s == NULL || (colon = strrchr(s, ':')) == NULL)
		return -1;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= cap)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 0 || p > 65535 || end == colon + 1)
		return -1;
	*port = (int)p;
	return 0;
}

#define HTTP_JOIN_MAX 16384 /* a TLS record's plaintext */

void
http_reply(struct evhttp_request *req, int status, struct evbuffer *body)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct evbuffer *out;

	bev = conn != NULL ? evhttp_connection_get_bufferevent(conn) : NULL;
	evhttp_send_reply(req, status, NULL, body);
	/* evhttp only queued it: the write is the next loop pass's */
	if (bev != NULL && (out = bufferevent_get_output(bev)) != NULL &&
	    evbuffer_get_length(out) <= HTTP_JOIN_MAX)
		evbuffer_pullup(out, -1);
}

void
http_error(struct daemon *d, struct evhttp_request *req, int status,
    const char *code, const char *msg, int retry_after)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	json_t *o = json_pack("{s:s, s:s}", "error", code, "message", msg);
	char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
	char ra[16];

	if (b != NULL && txt != NULL) {
		evbuffer_add(b, txt, strlen(txt));
		evbuffer_add(b, "\n", 1);
	}
	evhttp_add_header(h, "Content-Type", "application/json");
	if (retry_after > 0) {
		snprintf(ra, sizeof(ra), "%d", retry_after);
		evhttp_add_header(h, "Retry-After", ra);
	}
	if (status / 100 < 6)
		d->m.resp_by_status[status / 100]++;
	http_reply(req, status, b);
	free(txt);
	json_decref(o);
	if (b != NULL)
		evbuffer_free(b);
}

static void
http_disable_listener(struct evhttp_bound_socket *s, void *arg)
{
	evconnlistener_disable(evhttp_bound_socket_get_listener(s));
}

static void
http_enable_listener(struct evhttp_bound_socket *s, void *arg)
{
	evconnlistener_enable(evhttp_bound_socket_get_listener(s));
}

static int http_conn_idx = -1;

static void
http_listeners(struct daemon *d, int on)
{
	evhttp_foreach_bound_socket(d->http, on ? http_enable_listener :
	    http_disable_listener, NULL);
}

/* Runs when OpenSSL frees a connection's SSL object, whatever closed it:
 * the one place every connection is counted out. */
static void
http_conn_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct daemon *d = ptr;

	if (d == NULL)
		return;
	d->m.conns_open--;
	if (d->accepting_paused && !d->stopping &&
	    d->m.conns_open < (long)d->cfg->max_connections) {
		d->accepting_paused = 0;
		http_listeners(d, 1);
	}
}

/* ---- request deadline (fault suite, issue #8) ----
 * libevent's timeout is an inactivity timeout: a client sending one byte
 * every few seconds (slowloris, slow body, a ClientHello in pieces) would
 * hold its connection for ever.  So each connection also has a deadline:
 * read_timeout seconds from its accept, and again from each reply, to
 * deliver a complete request.  It is off while a request is being handled
 * (evhttp then owns no half-read request).  When it passes, the connection
 * is failed as a read timeout, which evhttp answers by freeing it. */
static int http_dl_idx = -1;

struct http_dl {
	struct event *ev;
	struct bufferevent *bev;
	struct daemon *d;
};

static void
http_dl_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct http_dl *dl = ptr;

	if (dl == NULL)
		return;
	event_free(dl->ev);
	free(dl);
}

static void
http_dl_fire(evutil_socket_t fd, short what, void *arg)
{
	struct http_dl *dl = arg;

	dl->d->m.deadline_closed++;
	/* evhttp frees the connection, the SSL object and dl with it */
	bufferevent_trigger_event(dl->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

static void
http_dl_arm(struct http_dl *dl, int on)
{
	struct timeval tv = { dl->d->cfg->read_timeout_s, 0 };

	if (on)
		evtimer_add(dl->ev, &tv);
	else
		evtimer_del(dl->ev);
}

static struct http_dl *
http_dl_of(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;

	return ssl != NULL ? SSL_get_ex_data(ssl, http_dl_idx) : NULL;
}

/* The reply is out: the next request has read_timeout from now. */
static void
http_dl_replied(struct evhttp_request *req, void *arg)
{
	struct http_dl *dl = http_dl_of(req);

	if (dl != NULL)
		http_dl_arm(dl, 1);
}

static void
http_dl_start(struct daemon *d, SSL *ssl, struct bufferevent *bev)
{
	struct http_dl *dl = calloc(1, sizeof(*dl));

	if (dl == NULL)
		return;
	dl->bev = bev;
	dl->d = d;
	if ((dl->ev = evtimer_new(d->base, http_dl_fire, dl)) == NULL ||
	    SSL_set_ex_data(ssl, http_dl_idx, dl) != 1) {
		if (dl->ev != NULL)
			event_free(dl->ev);
		free(dl);
		return;
	}
	http_dl_arm(dl, 1);
}

static struct bufferevent *
http_bevcb(struct event_base *base, void *arg)
{
	struct daemon *d = arg;
	SSL *ssl = SSL_new(tls_ctx(d->tls));
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	if (SSL_set_ex_data(ssl, http_conn_idx, d) == 1)
		d->m.conns_open++;
	if (d->m.conns_open >= (long)d->cfg->max_connections && !d->accepting_paused) {
		/* as memcached does on EMFILE: stop accepting, not spin */
		d->accepting_paused = 1;
		d->m.accept_paused++;
		http_listeners(d, 0);
		log_warnx("msg=\"max_connections reached, not accepting\" open=%ld",
		    d->m.conns_open);
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	http_dl_start(d, ssl, bev);
	d->m.tls_conns++;
	return bev;
}

static void
http_api_cb(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;

	struct http_dl *dl = http_dl_of(req);

	d->m.req_total++;
	if (dl != NULL) {
		/* the request is complete: no deadline while it is handled */
		http_dl_arm(dl, 0);
		evhttp_request_set_on_complete_cb(req, http_dl_replied, NULL);
	}
	api_route(d, req);
}

static int
http_bind(struct evhttp *h, const char *what, const char *addr, struct errs *e)
{
	struct evhttp_bound_socket *bs;
	char host[256];
	int port, one = 1;

	if (http_split_hostport(addr, host, sizeof(host), &port) != 0) {
		err_add(e, "CONFIG_VALUE", 0, what, "bad address %s", addr);
		return -1;
	}
	if ((bs = evhttp_bind_socket_with_handle(h, host, (ev_uint16_t)port)) == NULL) {
		err_add(e, "LISTEN", 0, what, "cannot listen on %s", addr);
		return -1;
	}
	/* accepted sockets inherit it: replies leave at once, not after the
	 * client's delayed ACK */
	if (setsockopt(evhttp_bound_socket_get_fd(bs), IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one)) != 0)
		log_warn("msg=\"cannot set TCP_NODELAY\" listener=%s", what);
	/* evhttp listens with a backlog of 128: a burst of connections beyond
	 * it (thousands of clients reconnecting, or opening handshakes that
	 * never finish) has its SYNs dropped and retried by the clients 1, 3,
	 * 7 s later.  listen() again raises it (the kernel caps it at
	 * net.core.somaxconn). */
	if (listen(evhttp_bound_socket_get_fd(bs), HTTP_BACKLOG) != 0)
		log_warn("msg=\"cannot raise the listen backlog\" listener=%s", what);
	log_info("msg=\"listening\" listener=%s address=%s", what, addr);
	return 0;
}

int
http_start(struct daemon *d, struct errs *e)
{
	const struct config *c = d->cfg;

	if (http_conn_idx < 0 && (http_conn_idx = SSL_get_ex_new_index(0, NULL,
	    NULL, NULL, http_conn_gone)) < 0)
		return -1;
	if (http_dl_idx < 0 && (http_dl_idx = SSL_get_ex_new_index(0, NULL,
	    NULL, NULL, http_dl_gone)) < 0)
		return -1;
	if ((d->http = evhttp_new(d->base)) == NULL)
		return -1;
	evhttp_set_bevcb(d->http, http_bevcb, d);
	evhttp_set_gencb(d->http, http_api_cb, d);
	evhttp_set_max_body_size(d->http, (ev_ssize_t)c->max_body);
	evhttp_set_max_headers_size(d->http, (ev_ssize_t)c->max_headers);
	evhttp_set_timeout(d->http, c->read_timeout_s);
	evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD);
	if (http_bind(d->http, "api", c->listen, e) != 0)
		return -1;
	if (c->admin_listen != NULL && *c->admin_listen) {
		if ((d->admin = evhttp_new(d->base)) == NULL)
			return -1;
		evhttp_set_gencb(d->admin, admin_route, d);
		evhttp_set_max_body_size(d->admin, 4096);
		evhttp_set_timeout(d->admin, 10);
		evhttp_set_allowed_methods(d->admin, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
		if (http_bind(d->admin, "admin", c->admin_listen, e) != 0)
			return -1;
	}
	return 0;
}


void
http_stop_accepting(struct daemon *d)
{
	if (d->http != NULL)
		evhttp_foreach_bound_socket(d->http, http_disable_listener, NULL);
}

void
http_free(struct daemon *d)
{
	if (d->http != NULL)
		evhttp_free(d->http);
	if (d->admin != NULL)
		evhttp_free(d->admin);
	d->http = d->admin = NULL;
}
