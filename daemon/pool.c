#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "log.h"
#include "work.h"

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;       /* waiting for a worker */
	int queued, cap;
	int stopping;
	struct work_env *env;          /* loop thread only */
	unsigned long long busy_ns;

	pthread_mutex_t done_mu;
	struct job *done_head, *done_tail;
	int efd;
	struct event *ev;
	pool_done_fn *done;
	void *done_arg;
	int inflight;                  /* loop thread only */

	pthread_t *threads;
	int nthreads;
};

static uint64_t
pool_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *
pool_main(void *arg)
{
	struct pool *p = arg;
	struct job *j;
	uint64_t t0, t1, one = 1;
	int wake;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->head == NULL) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		j = p->head;
		p->head = j->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->mu);

		j->next = NULL;
		t0 = pool_now_ns();
		work_run(j->env, j);
		t1 = pool_now_ns();
		if (j->t_work1_ns == 0) { /* the first pass: its checks */
			j->t_work0_ns = t0;
			j->t_work1_ns = t1;
		}

		pthread_mutex_lock(&p->mu);
		p->busy_ns += t1 - t0;
		pthread_mutex_unlock(&p->mu);

		pthread_mutex_lock(&p->done_mu);
		wake = p->done_head == NULL;
		if (p->done_tail != NULL)
			p->done_tail->next = j;
		else
			p->done_head = j;
		p->done_tail = j;
		pthread_mutex_unlock(&p->done_mu);
		if (wake && write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("msg=\"eventfd write failed\"");
	}
	return NULL;
}

/* Loop thread: deliver finished jobs. */
static void
pool_on_done(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	struct job *j, *next;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("msg=\"eventfd read failed\"");
	pthread_mutex_lock(&p->done_mu);
	j = p->done_head;
	p->done_head = p->done_tail = NULL;
	pthread_mutex_unlock(&p->done_mu);
	for (; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		p->inflight--;
		p->done(j, p->done_arg);
	}
}

struct pool *
pool_new(struct event_base *base, int nthreads, int queue_max,
    struct work_env *env, pool_done_fn *done, void *arg)
{
	struct pool *p;
	int i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->efd = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	pthread_mutex_init(&p->done_mu, NULL);
	p->cap = queue_max;
	p->env = env;
	p->done = done;
	p->done_arg = arg;
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0)
		goto fail;
	p->ev = event_new(base, p->efd, EV_READ | EV_PERSIST, pool_on_done, p);
	if (p->ev == NULL || event_add(p->ev, NULL) != 0)
		goto fail;
	if ((p->threads = calloc((size_t)nthreads, sizeof(pthread_t))) == NULL)
		goto fail;
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0)
			goto fail;
		p->nthreads++;
	}
	return p;
fail:
	pool_free(p);
	return NULL;
}

int
pool_submit(struct pool *p, struct job *j)
{
	pthread_mutex_lock(&p->mu);
	if (p->stopping || p->queued >= p->cap) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	if (j->env == NULL) {
		j->env = p->env;
		work_env_ref(j->env);
	}
	j->next = NULL;
	if (p->tail != NULL)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	p->inflight++;
	return 0;
}

int
pool_inflight(const struct pool *p)
{
	return p->inflight;
}

int
pool_queued(struct pool *p)
{
	int n;

	pthread_mutex_lock(&p->mu);
	n = p->queued;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
pool_set_env(struct pool *p, struct work_env *env)
{
	p->env = env;
}

unsigned long long
pool_busy_ns(struct pool *p)
{
	unsigned long long v;

	pthread_mutex_lock(&p->mu);
	v = p->busy_ns;
	pthread_mutex_unlock(&p->mu);
	return v;
}

void
pool_free(struct pool *p)
{
	struct job *j, *next;
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* finished but undelivered jobs have no one left to answer them */
	for (j = p->done_head; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	if (p->ev != NULL)
		event_free(p->ev);
	if (p->efd >= 0)
		close(p->efd);
	free(p->threads);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->done_mu);
	free(p);
}
