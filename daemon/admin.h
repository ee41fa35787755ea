/* admin: /healthz, /readyz and /metrics (Prometheus text) on the plain
 * admin listener, loopback by default. */
#ifndef DECLARED_ADMIN_H
#define DECLARED_ADMIN_H

struct evhttp_request;
struct daemon;

void admin_route(struct evhttp_request *req, void *arg);
/* Why the daemon is not ready, or NULL when it is. */
const char *admin_not_ready(const struct daemon *d);

#endif
