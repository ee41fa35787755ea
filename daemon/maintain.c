/* maintain: one call of declared_maintain() at startup, then one every
 * maintain_interval; sooner while the retention has keys left to forget
 * (the function works for a bounded time per call) or after a failure.
 * The partitions are created months ahead, so a late or failed call costs
 * nothing at once: the next one catches up. */
#include "maintain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "log.h"

#define MAINTAIN_SOON_S 1         /* again after this, while work is pending */
#define MAINTAIN_RETRY_S 60       /* after a failure, at most */
#define MAINTAIN_BUDGET_MS 1000   /* per call, for forgetting keys */

static const char maintain_sql[] =
    "SELECT action, relation, n FROM declared_maintain($1::integer, "
    "$2::integer, $3::integer)";

struct maintain {
	struct daemon *d;
	struct event *timer;
	int running;     /* a call in flight */
	int freed;       /* maintain_free seen while running */
	int again;       /* the call said 'pending' */
	PGresult *res;   /* its rows, acted on once committed */
	struct maintain_stats st;
};

static void
maintain_arm(struct maintain *m, int seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(m->timer, &tv);
}

static int
maintain_send(PGconn *c, void *arg)
{
	struct maintain *m = arg;
	const struct config *cfg = m->d->cfg;
	char ahead[16], keep[16], budget[16];
	const char *v[3] = { ahead, keep, budget };
	int ms = cfg->db_timeout_s * 1000 / 4;

	if (ms > MAINTAIN_BUDGET_MS)
		ms = MAINTAIN_BUDGET_MS;
	snprintf(ahead, sizeof(ahead), "%d", MAINTAIN_AHEAD);
	snprintf(keep, sizeof(keep), "%d", cfg->retention_months);
	snprintf(budget, sizeof(budget), "%d", ms);
	if (!PQsendQueryParams(c, maintain_sql, 3, NULL, v, NULL, NULL, 0))
		return -1;
	return PQpipelineSync(c) ? 0 : -1;
}

/* One row per thing done: (action, relation, n); kept until the pipeline's
 * sync, which commits them, so nothing is logged or counted that a failed
 * commit took back. */
static int
maintain_result(PGresult *r, void *arg)
{
	struct maintain *m = arg;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQnfields(r) != 3)
		return -1;
	PQclear(m->res);
	m->res = PQcopyResult(r, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
	return m->res != NULL ? 0 : -1;
}

static void
maintain_apply(struct maintain *m, const PGresult *r)
{
	const char *action, *rel;
	int i;

	for (i = 0; i < PQntuples(r); i++) {
		action = PQgetvalue(r, i, 0);
		rel = PQgetvalue(r, i, 1);
		if (strcmp(action, "created") == 0) {
			m->st.created++;
			log_notice("msg=\"partition created\" table=%s", rel);
		} else if (strcmp(action, "detached") == 0) {
			m->st.detached++;
			log_notice("msg=\"partition detached: archive it, then drop it\" "
			    "table=%s", rel);
		} else if (strcmp(action, "forgot") == 0) {
			m->st.keys_forgotten += strtoul(PQgetvalue(r, i, 2), NULL, 10);
			log_notice("msg=\"retention: keys forgotten\" table=%s n=%s",
			    rel, PQgetvalue(r, i, 2));
		} else if (strcmp(action, "pending") == 0) {
			m->again = 1;
		} else if (strcmp(action, "locked") == 0) {
			log_debug("msg=\"partition maintenance: another instance "
			    "holds the lock\"");
		} else {
			/* lock_timeout (retried), blocked (rows in DEFAULT) */
			log_warnx("msg=\"partition maintenance\" action=%s table=%s",
			    action, rel);
		}
	}
}

static void
maintain_done(void *arg, int ok, const char *err)
{
	struct maintain *m = arg;
	int next;

	m->running = 0;
	if (ok && !m->freed && m->res != NULL)
		maintain_apply(m, m->res);
	PQclear(m->res);
	m->res = NULL;
	if (m->freed) {
		event_free(m->timer);
		free(m);
		return;
	}
	next = m->d->cfg->maintain_interval_s;
	if (!ok) {
		m->st.failures++;
		log_warnx("msg=\"partition maintenance failed\" reason=\"%s\"",
		    err ? err : "");
		if (next > MAINTAIN_RETRY_S)
			next = MAINTAIN_RETRY_S;
	} else {
		m->st.runs++;
		if (m->again)
			next = MAINTAIN_SOON_S;
	}
	maintain_arm(m, next);
}

static void
maintain_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct maintain *m = arg;
	struct db_unit u = { maintain_send, maintain_result, maintain_done, m };

	if (m->running || m->d->stopping)
		return;
	if (db_idle(m->d->db) == 0) {
		maintain_arm(m, MAINTAIN_SOON_S);   /* connecting, or all busy */
		return;
	}
	m->running = 1;
	m->again = 0;
	if (db_run(m->d->db, &u) != 0)
		maintain_done(m, 0, "no idle connection");
}

struct maintain *
maintain_new(struct daemon *d)
{
	struct maintain *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->d = d;
	if ((m->timer = evtimer_new(d->base, maintain_on_timer, m)) == NULL)
		goto fail;
	maintain_arm(m, 0);
	return m;
fail:
	free(m);
	return NULL;
}

const struct maintain_stats *
maintain_stats(const struct maintain *m)
{
	return &m->st;
}

void
maintain_free(struct maintain *m)
{
	if (m == NULL)
		return;
	evtimer_del(m->timer);
	if (m->running) {
		m->freed = 1;   /* maintain_done frees it */
		return;
	}
	event_free(m->timer);
	free(m);
}
