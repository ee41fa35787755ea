/* Push delivery.  A slot is one party's stream in this instance: it holds
 * the lease, the acknowledgement being delivered and a keep-alive
 * connection to the party's receiver.  Database work (claims, outcomes,
 * callback registration) goes in one pipelined unit at a time; outbound
 * HTTPS is libevent's evhttp client over bufferevent_openssl. */
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
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "pushq.h"

struct push *
push_new(struct daemon *d, struct errs *e)
{
	struct push *p;
	const char *v;
	char host[64];
	unsigned char rnd[2];
	int i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->d = d;
	p->timeout_s = PUSH_TIMEOUT_DEFAULT;
	p->retention_s = PUSH_RETENTION_DEFAULT;
	if ((v = getenv("DECLARED_PUSH_TIMEOUT_S")) != NULL && atoi(v) > 0 &&
	    atoi(v) <= 300)
		p->timeout_s = atoi(v);
	if ((v = getenv("DECLARED_PUSH_RETENTION_S")) != NULL && atol(v) > 0)
		p->retention_s = atol(v);
	p->lease_s = p->timeout_s * 3 + 20;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		rnd[0] = rnd[1] = 0;
	snprintf(p->instance, sizeof(p->instance), "%s:%d:%02x%02x", host,
	    (int)getpid(), rnd[0], rnd[1]);
	for (i = 0; i < PUSH_SLOTS; i++)
		p->slot[i].p = p;
	if ((p->ctx = pushq_ctx(d->cfg, e)) == NULL)
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
	    "retention_s=%ld", p->instance, p->timeout_s, p->retention_s);
	return p;
fail:
	push_free(p);
	return NULL;
}

void
push_wake(struct push *p)
{
	if (p == NULL || p->stopped)
		return;
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
			pushq_cb_end(p, c, 503, NULL, 0);
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
		pushq_cb_end(p, c, 503, NULL, 0);
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
		pushq_slot_close(&p->slot[i]);
}

void
push_free(struct push *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < PUSH_SLOTS; i++) {
		pushq_slot_close(&p->slot[i]);
		free(p->slot[i].body);
	}
	if (p->tick != NULL)
		event_free(p->tick);
	if (p->kick != NULL)
		event_free(p->kick);
	if (p->dns != NULL)
		evdns_base_free(p->dns, 0);
	SSL_CTX_free(p->ctx);
	free(p);
}
