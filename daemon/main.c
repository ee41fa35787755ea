/* declared: the declaration daemon.  Startup, signals, systemd notification
 * and teardown, in one fixed order. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/http.h>
#include <libxml/parser.h>
#include <systemd/sd-daemon.h>

#include "admin.h"
#include "api.h"
#include "batch.h"
#include "config.h"
#include "daemon.h"
#include "db.h"
#include "dsig.h"
#include "feed.h"
#include "http.h"
#include "ids.h"
#include "limit.h"
#include "log.h"
#include "maintain.h"
#include "migrate.h"
#include "officer.h"
#include "pool.h"
#include "push.h"
#include "pushq.h"
#include "status.h"
#include "tls.h"
#include "work.h"

#define DECLARED_VERSION "0.1.0"
#define DRAIN_MAX_S 25
#define MAIN_PREP_MAX 16 /* statements every database connection prepares */

static uint64_t main_watchdog_usec;

uint64_t
daemon_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
main_usage(void)
{
	fprintf(stderr, "usage: declared [-d] [-t | --migrate] -c FILE\n"
	    "       declared -V\n");
	exit(2);
}

static void
main_log_errs(const char *what, const struct errs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		log_errx("msg=\"%s\" code=%s at=\"%s\" line=%d detail=\"%s\"", what,
		    e->v[i].code, e->v[i].pointer, e->v[i].line, e->v[i].msg);
}

/* Connections need descriptors: take the hard limit, and say so when it is
 * below what max_connections implies. */
static void
main_raise_nofile(int max_conns)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("msg=\"cannot raise the descriptor limit\"");
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)max_conns + 64)
		log_warnx("msg=\"descriptor limit below max_connections\" "
		    "nofile=%llu max_connections=%d", (unsigned long long)rl.rlim_cur,
		    max_conns);
}

static void
main_check_ready(struct daemon *d)
{
	const char *why = admin_not_ready(d);

	if (why == NULL && !d->ready_sent) {
		d->ready_sent = 1;
		sd_notify(0, "READY=1\nSTATUS=ready");
		log_notice("msg=\"ready\" version=%s", DECLARED_VERSION);
	}
}

/* A database connection became idle or changed state. */
static void
main_db_idle(void *arg)
{
	struct daemon *d = arg;

	if (d->batch == NULL || d->ids == NULL)
		return;
	/* delivery: feed, status and push each use at most one connection */
	feed_db_idle(d->feed);
	status_db_idle(d->status);
	officer_db_idle(d->officer);
	push_db_idle(d->push);
	if (!db_up(d->db)) {
		/* fast 503s: nothing waits for a database that is gone */
		batch_fail_pending(d->batch);
		return;
	}
	ids_kick(d->ids);
	batch_kick(d->batch);
	main_check_ready(d);
}

/* A replica connection became idle or changed state: officer reads move
 * to it, or back to the primary while it is down. */
static void
main_rdb_idle(void *arg)
{
	struct daemon *d = arg;
	int up = db_up(d->rdb);

	if (up != d->rdb_was_up) {
		if (up)
			log_notice("msg=\"replica up: officer reads on the replica\"");
		else
			log_warnx("msg=\"replica down: officer reads on the primary\"");
		d->rdb_was_up = up;
	}
	if (d->officer != NULL)
		officer_db_idle(d->officer);
}

static void
main_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	static uint64_t last_wd;
	uint64_t now = daemon_now_ns();

	/* the tick is ~1 s (100 ms while stopping): ping when half the
	 * interval, less one tick's slack, has passed */
	if (main_watchdog_usec > 0 && now - last_wd + 500000000u >=
	    main_watchdog_usec * 1000 / 2) {
		sd_notify(0, "WATCHDOG=1");
		last_wd = now;
	}
	if (d->ids != NULL)
		ids_kick(d->ids);
	if (d->ready_sent || d->stopping)
		sd_notifyf(0, "STATUS=%s accepted=%lu invalid=%lu inflight=%d db=%s",
		    d->stopping ? "stopping" : "running", d->m.decl_accepted,
		    d->m.decl_invalid, d->inflight, db_up(d->db) ? "up" : "down");
	main_check_ready(d);
	if (d->stopping) {
		static int waited;

		if (d->inflight == 0 || ++waited > DRAIN_MAX_S * 10) {
			if (d->inflight != 0)
				log_warnx("msg=\"stopping with requests in flight\" n=%d",
				    d->inflight);
			event_base_loopexit(d->base, NULL);
		}
	}
}

static void
main_on_term(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval fast = { 0, 100000 };

	if (d->stopping) {
		log_warnx("msg=\"second signal, exiting at once\"");
		d->exit_code = 1;
		event_base_loopbreak(d->base);
		return;
	}
	d->stopping = 1;
	sd_notify(0, "STOPPING=1");
	log_notice("msg=\"stopping\" signal=%d inflight=%d", (int)sig, d->inflight);
	http_stop_accepting(d);
	feed_drain(d->feed);    /* parked long-polls get their page now */
	push_drain(d->push);    /* no new push leases */
	/* check the drain every 100 ms from now on */
	event_del(d->tick);
	event_add(d->tick, &fast);
}

/* SIGHUP: the new config, certificates, CRLs, schemas, rules and risk
 * rules are all built aside; they replace the old ones together, or not at
 * all.  Jobs in flight finish with the env they started with; open
 * connections stay up. */
static void
main_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct errs e;
	struct config *nc = NULL, **keep;
	struct work_env *ne = NULL;
	struct tls *nt = NULL;
	struct push_ctx *np = NULL;

	sd_notify(0, "RELOADING=1");
	log_notice("msg=\"reloading\" config=%s", d->cfg->path);
	err_init(&e);
	if ((nc = config_load(d->cfg->path, &e)) == NULL ||
	    config_check_reload(d->cfg, nc, &e) != 0 ||
	    (ne = work_env_new(nc, &e)) == NULL ||
	    (nt = tls_new(nc, &e)) == NULL ||
	    (np = push_ctx_new(nc, &e)) == NULL ||
	    (keep = realloc(d->old_cfgs, (size_t)(d->n_old_cfgs + 1) *
	    sizeof(*keep))) == NULL) {
		main_log_errs("reload failed, keeping old configuration", &e);
		work_env_free(ne);
		tls_free(nt);
		push_ctx_free(np);
		config_free(nc);
		d->reload_failures++;
	} else {
		pool_set_env(d->pool, ne);
		work_env_retire(d->env);
		d->env = ne;
		tls_free(d->tls);   /* live SSL objects hold their own context */
		d->tls = nt;
		push_set_ctx(d->push, np);
		d->old_cfgs = keep;
		d->old_cfgs[d->n_old_cfgs++] = d->cfg;
		d->cfg = nc;
		d->reloads++;
		log_notice("msg=\"reloaded\" profiles=%zu", nc->n_profiles);
	}
	err_clear(&e);
	sd_notify(0, "READY=1");
}

static int
main_check(struct config *cfg)
{
	struct errs e;
	struct work_env *env;
	struct tls *t = NULL;
	struct push_ctx *pc = NULL;
	int rc = 0;

	err_init(&e);
	if ((env = work_env_new(cfg, &e)) == NULL ||
	    (t = tls_new(cfg, &e)) == NULL ||
	    (pc = push_ctx_new(cfg, &e)) == NULL) {
		main_log_errs("configuration check failed", &e);
		rc = 1;
	} else {
		printf("configuration OK: %s (%zu profiles)\n", cfg->path,
		    cfg->n_profiles);
	}
	tls_free(t);
	push_ctx_free(pc);
	work_env_free(env);
	err_clear(&e);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 't' },
		{ "migrate", no_argument, NULL, 'M' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon dd, *d = &dd;
	struct db_opts dbo;
	struct db_prepare prep[MAIN_PREP_MAX];
	size_t i, nprep = 0;
	struct errs e;
	const char *path = NULL;
	int ch, check = 0, migrate = 0, debug = 0, workers;
	int rc = 1;
	struct timeval sec = { 1, 0 };

	memset(d, 0, sizeof(*d));
	err_init(&e);
	while ((ch = getopt_long(argc, argv, "c:tdV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': check = 1; break;
		case 'M': migrate = 1; break;
		case 'd': debug = 1; break;
		case 'V': printf("declared %s\n", DECLARED_VERSION); return 0;
		default: main_usage();
		}
	}
	if (path == NULL || optind != argc)
		main_usage();
	log_init(debug);
	signal(SIGPIPE, SIG_IGN);
	xmlInitParser();
	if (dsig_global_init() != 0) {
		log_errx("msg=\"cannot initialise xmlsec\"");
		return 1;
	}
	if ((d->cfg = config_load(path, &e)) == NULL) {
		main_log_errs("bad configuration", &e);
		goto out;
	}
	if (check) {
		rc = main_check(d->cfg);
		goto out;
	}
	if (migrate) {
		rc = migrate_run(d->cfg) == 0 ? 0 : 1;
		goto out;
	}
	sd_watchdog_enabled(0, &main_watchdog_usec);
	main_raise_nofile(d->cfg->max_connections);
	workers = d->cfg->workers > 0 ? d->cfg->workers :
	    (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (workers < 1)
		workers = 1;
	if ((d->base = event_base_new()) == NULL)
		goto out;
	if ((d->env = work_env_new(d->cfg, &e)) == NULL ||
	    (d->tls = tls_new(d->cfg, &e)) == NULL) {
		main_log_errs("cannot start", &e);
		goto out;
	}
	if ((d->pool = pool_new(d->base, workers, d->cfg->queue_max, d->env,
	    api_worked, d)) == NULL)
		goto out;
	memset(&dbo, 0, sizeof(dbo));
	dbo.conninfo = d->cfg->conninfo;
	dbo.nconn = d->cfg->db_connections;
	dbo.timeout_s = d->cfg->db_timeout_s;
	for (i = 0; i < batch_nprepare && nprep < MAIN_PREP_MAX; i++)
		prep[nprep++] = batch_prepare[i];
	for (i = 0; i < pushq_nprepare && nprep < MAIN_PREP_MAX; i++)
		prep[nprep++] = pushq_prepare[i];
	dbo.prep = prep;
	dbo.nprep = nprep;
	dbo.idle = main_db_idle;
	dbo.listen = FEED_CHANNEL;          /* new acknowledgements, any instance */
	dbo.notify = feed_on_notify;
	dbo.arg = d;
	if ((d->db = db_new(d->base, &dbo)) == NULL ||
	    (d->batch = batch_new(d->base, d->db, d->cfg->batch_max,
	    d->cfg->batch_delay_ms, d->cfg->batch_max * 8, api_stored, d)) == NULL ||
	    (d->ids = ids_new(d->db)) == NULL)
		goto out;
	if (d->cfg->replica_conninfo != NULL && d->cfg->replica_conninfo[0] != '\0') {
		memset(&dbo, 0, sizeof(dbo));
		dbo.conninfo = d->cfg->replica_conninfo;
		dbo.nconn = 1;              /* officer units run one at a time */
		dbo.timeout_s = d->cfg->db_timeout_s;
		dbo.idle = main_rdb_idle;
		dbo.arg = d;
		if ((d->rdb = db_new(d->base, &dbo)) == NULL)
			goto out;
	}
	if ((d->feed = feed_new(d)) == NULL || (d->status = status_new(d)) == NULL ||
	    (d->push = push_new(d, &e)) == NULL) {
		main_log_errs("cannot start", &e);
		goto out;
	}
	if ((d->limit = limit_new()) == NULL)   /* before the listeners */
		goto out;
	if ((d->officer = officer_new(d)) == NULL ||
	    (d->maintain = maintain_new(d)) == NULL)
		goto out;
	if (http_start(d, &e) != 0) {
		main_log_errs("cannot start", &e);
		goto out;
	}
	/* PUT and DELETE /v1/callback (push.c) */
	evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	d->sig_term = evsignal_new(d->base, SIGTERM, main_on_term, d);
	d->sig_int = evsignal_new(d->base, SIGINT, main_on_term, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, main_on_hup, d);
	d->tick = event_new(d->base, -1, EV_PERSIST, main_tick, d);
	if (d->sig_term == NULL || d->sig_int == NULL || d->sig_hup == NULL ||
	    d->tick == NULL || event_add(d->sig_term, NULL) != 0 ||
	    event_add(d->sig_int, NULL) != 0 || event_add(d->sig_hup, NULL) != 0 ||
	    event_add(d->tick, &sec) != 0)
		goto out;
	log_notice("msg=\"starting\" version=%s workers=%d db_connections=%d "
	    "batch_max=%d", DECLARED_VERSION, workers, d->cfg->db_connections,
	    d->cfg->batch_max);
	event_base_dispatch(d->base);
	rc = d->exit_code;
	log_notice("msg=\"stopped\" accepted=%lu", d->m.decl_accepted);
out:
	/* teardown in one fixed order: listeners, workers, batcher, db */
	feed_stop(d->feed);     /* held requests answered before evhttp_free */
	status_stop(d->status);
	officer_stop(d->officer);
	push_stop(d->push);
	http_free(d);
	limit_free(d->limit);   /* after http_free: close callbacks use it */
	d->limit = NULL;
	if (d->tick) event_free(d->tick);
	if (d->sig_term) event_free(d->sig_term);
	if (d->sig_int) event_free(d->sig_int);
	if (d->sig_hup) event_free(d->sig_hup);
	pool_free(d->pool);
	batch_free(d->batch);
	d->batch = NULL;
	ids_free(d->ids);
	d->ids = NULL;
	maintain_free(d->maintain);  /* before db_free, as ids */
	d->maintain = NULL;
	db_free(d->rdb);
	d->rdb = NULL;
	db_free(d->db);
	feed_free(d->feed);     /* after db_free: no unit refers to them */
	status_free(d->status);
	officer_free(d->officer);
	push_free(d->push);
	tls_free(d->tls);
	work_env_free(d->env);
	config_free(d->cfg);
	while (d->n_old_cfgs > 0)
		config_free(d->old_cfgs[--d->n_old_cfgs]);
	free(d->old_cfgs);
	if (d->base) event_base_free(d->base);
	err_clear(&e);
	dsig_global_shutdown();
	xmlCleanupParser();
	return rc;
}
