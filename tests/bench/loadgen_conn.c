/* loadgen: TLS connections, the HTTP requests written on them and the
 * responses read from them. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "loadgen.h"

static void loadgen_open(struct lg *lg, struct lg_conn *c);

/* ---- requests ---- */

int
loadgen_send_get(struct lg *lg, struct lg_conn *c, const char *path)
{
	if (evbuffer_add_printf(bufferevent_get_output(c->bev),
	    "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, lg->o.host,
	    lg->o.port) < 0)
		return -1;
	c->st = CS_BUSY;
	c->hdr_done = 0;
	c->t_sched = c->t_sent = loadgen_now();
	lg->busy++;
	return 0;
}

/* Sends the next file on c, scheduled at sched; -1 when none is left. */
static void
loadgen_req_free(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	free(arg);
}

int
loadgen_issue(struct lg *lg, struct lg_conn *c, uint64_t sched)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct lg_req r;
	size_t i;

	for (;; lg->errors++) {
		if (lg->next_file >= lg->end_file) {
			lg->exhausted = 1;
			loadgen_stop_issuing(lg);
			return -1;
		}
		i = lg->next_file++;
		/* one piece each: bufferevent_openssl makes a TLS record (and a
		 * write) of each piece, and a head apart would take its own */
		if (i - lg->pre_first < lg->pre_n) { /* read before the run */
			if (evbuffer_add_reference(out, lg->pre[i - lg->pre_first].p,
			    lg->pre[i - lg->pre_first].n, NULL, NULL) != 0)
				goto oom;
			break;
		}
		if (loadgen_frame(lg, i, &r) == 0) {
			if (evbuffer_add_reference(out, r.p, r.n, loadgen_req_free,
			    r.p) != 0)
				goto oom;
			break;
		}
	}
	c->st = CS_BUSY;
	c->hdr_done = 0;
	c->is_probe = 0;
	c->t_sched = sched;
	c->t_sent = loadgen_now();
	lg->sent++;
	lg->busy++;
	return 0;
oom:
	fprintf(stderr, "loadgen: out of memory\n");
	exit(1);
}

/* ---- connections ---- */

static void
loadgen_close(struct lg *lg, struct lg_conn *c)
{
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->st == CS_BUSY)
		lg->busy--;
	c->st = CS_CLOSED;
}

void
loadgen_open_more(struct lg *lg)
{
	while (lg->next_open < lg->n_conns && lg->opening < lg->o.handshakes)
		loadgen_open(lg, &lg->conns[lg->next_open++]);
}

static void
loadgen_complete(struct lg *lg, struct lg_conn *c)
{
	uint64_t now = loadgen_now();
	int st = c->status;

	lg->busy--;
	c->st = CS_IDLE;
	if (lg->o.idle > 0) {
		if (c->is_probe) {
			lg->alive++;
			if (--lg->probe_left == 0)
				loadgen_finish(lg);
		} else {
			lg->held++;
		}
		c->st = CS_HELD;
		if (c->close_after) {
			loadgen_close(lg, c);
			lg->held--;
			lg->dropped++;
		}
		loadgen_idle_check(lg);
		return;
	}
	lg->done++;
	lg->t_last = now;
	lg->by_status[st >= 100 && st < 600 ? st : 0]++;
	if (st == 202)
		loadgen_record(lg, c, now);
	else {
		char what[32];

		snprintf(what, sizeof(what), "HTTP %d", st);
		loadgen_show(lg, what, c->body, c->body_n);
	}
	if (c->close_after) {
		loadgen_close(lg, c);
		if (lg->running) {
			lg->reconnects++;
			loadgen_open(lg, c);
		}
	} else {
		loadgen_ready(lg, c);
	}
	if (!lg->running && lg->busy == 0)
		loadgen_finish(lg);
}

/* Parses a response head; 0 or -1. */
static int
loadgen_head(struct lg_conn *c, const char *h, size_t n)
{
	const char *p = h, *end = h + n, *eol;
	int have_len = 0, st = 0;

	c->close_after = 0;
	c->body_left = 0;
	if (n < 12 || strncmp(h, "HTTP/1.", 7) != 0)
		return -1;
	for (p = h + 9; p < h + 12; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		st = st * 10 + (*p - '0');
	}
	c->status = st;
	for (p = h; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			break;
		if ((size_t)(eol - p) > 15 && strncasecmp(p, "Content-Length:", 15) == 0) {
			c->body_left = strtoul(p + 15, NULL, 10);
			have_len = 1;
		} else if ((size_t)(eol - p) > 11 && strncasecmp(p, "Connection:", 11) == 0 &&
		    memmem(p, (size_t)(eol - p), "close", 5) != NULL) {
			c->close_after = 1;
		} else if ((size_t)(eol - p) > 18 &&
		    strncasecmp(p, "Transfer-Encoding:", 18) == 0) {
			return -1; /* not produced by the daemon; not supported */
		}
	}
	if (!have_len && st != 204 && st != 304 && st >= 200)
		return -1;
	return 0;
}

static void
loadgen_lost(struct lg *lg, struct lg_conn *c, const char *why)
{
	enum lg_state was = c->st;

	if (was == CS_CONNECTING) {
		lg->opening--;
		lg->conn_failed++;
		loadgen_show(lg, "connect failed", why, strlen(why));
	} else if (was == CS_BUSY) {
		lg->errors++;
		loadgen_show(lg, "connection lost with a request in flight", why,
		    strlen(why));
		if (c->is_probe && --lg->probe_left == 0)
			loadgen_finish(lg);
	} else if (was == CS_HELD) {
		lg->dropped++;
		lg->held--;
	}
	loadgen_close(lg, c);
	if (lg->o.idle > 0) {
		loadgen_open_more(lg);
		loadgen_idle_check(lg);
		return;
	}
	if (was != CS_CONNECTING && lg->running) {
		lg->reconnects++;
		loadgen_open(lg, c);
	} else {
		loadgen_open_more(lg);
	}
	if (!lg->running && lg->t_start != 0 && lg->busy == 0)
		loadgen_finish(lg);
}

static void
loadgen_on_read(struct bufferevent *bev, void *arg)
{
	struct lg_conn *c = arg;
	struct lg *lg = c->lg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr p;
	size_t hl, take, avail;

	while (c->st == CS_BUSY && (avail = evbuffer_get_length(in)) > 0) {
		if (!c->hdr_done) {
			p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
			if (p.pos < 0) {
				if (avail > LG_HDR_MAX)
					loadgen_lost(lg, c, "response head too long");
				return;
			}
			hl = (size_t)p.pos + 4;
			if (loadgen_head(c, (const char *)evbuffer_pullup(in,
			    (ev_ssize_t)hl), hl) != 0) {
				loadgen_lost(lg, c, "bad response head");
				return;
			}
			evbuffer_drain(in, hl);
			c->hdr_done = 1;
			c->body_n = 0;
			continue;
		}
		take = avail < c->body_left ? avail : c->body_left;
		if (take > 0) {
			if (c->status != 202 && c->body_n < sizeof(c->body))
				c->body_n += (size_t)evbuffer_copyout(in, c->body + c->body_n,
				    sizeof(c->body) - c->body_n < take ?
				    sizeof(c->body) - c->body_n : take);
			evbuffer_drain(in, take);
			c->body_left -= take;
		}
		if (c->body_left > 0)
			return;
		loadgen_complete(lg, c);
		if (c->bev != bev)
			return; /* closed */
	}
	if (c->st == CS_BUSY && c->hdr_done && c->body_left == 0)
		loadgen_complete(lg, c);
}

static void
loadgen_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct lg_conn *c = arg;
	struct lg *lg = c->lg;
	char why[256];
	unsigned long se;
	socklen_t sl;
	int soerr;

	if (what & BEV_EVENT_CONNECTED) {
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		int one = 1;

		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (ssl != NULL && SSL_session_reused(ssl))
			lg->resumed++;
		lg->opening--;
		lg->connected++;
		c->st = CS_IDLE;
		if (lg->o.idle > 0) {
			if (loadgen_send_get(lg, c, lg->o.idle_path) != 0)
				loadgen_lost(lg, c, "cannot send");
		} else {
			loadgen_ready(lg, c);
		}
		loadgen_open_more(lg);
		return;
	}
	se = bufferevent_get_openssl_error(bev);
	soerr = 0;
	sl = sizeof(soerr);
	getsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (se != 0 && ERR_GET_LIB(se) != 0)
		ERR_error_string_n(se, why, sizeof(why));
	else if (soerr != 0)
		snprintf(why, sizeof(why), "%s", strerror(soerr));
	else if (c->st == CS_CONNECTING)
		snprintf(why, sizeof(why), "refused, or closed during the handshake");
	else
		snprintf(why, sizeof(why), "closed by the server");
	loadgen_lost(lg, c, why);
}

static int
loadgen_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct lg *lg = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (!lg->o.resume)
		return 0;
	if (lg->sess != NULL)
		SSL_SESSION_free(lg->sess);
	lg->sess = sess;
	return 1; /* we keep the reference */
}

static void
loadgen_open(struct lg *lg, struct lg_conn *c)
{
	SSL *ssl;

	c->lg = lg;
	c->hdr_done = 0;
	if ((ssl = SSL_new(lg->ctx)) == NULL)
		goto fail;
	if (lg->sess != NULL)
		SSL_set_session(ssl, lg->sess);
	c->bev = bufferevent_openssl_socket_new(lg->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(ssl);
		goto fail;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, loadgen_on_read, NULL, loadgen_on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->st = CS_CONNECTING;
	lg->opening++;
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&lg->sa,
	    sizeof(lg->sa)) != 0) {
		loadgen_lost(lg, c, "connect() failed");
		return;
	}
	return;
fail:
	lg->conn_failed++;
	c->st = CS_CLOSED;
	loadgen_show(lg, "cannot create a connection", "", 0);
}

SSL_CTX *
loadgen_tls(struct lg *lg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(ctx, lg->o.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, lg->o.key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, lg->o.cacert, NULL) != 1) {
		fprintf(stderr, "loadgen: TLS setup: ");
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_app_data(ctx, lg);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, loadgen_new_session);
	return ctx;
}
