/* loadgen: what its files share (loadgen.c, loadgen_conn.c,
 * loadgen_stats.c); see loadgen.c for what it does. */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#define LG_HIST_BUCKETS 600000   /* 0.1 ms each: up to 60 s, then overflow */
#define LG_MAX_CONNS 100000
#define LG_MAX_SECONDS 86400
#define LG_PER_SEC_MAX 3600      /* per-second counts kept for the first hour */
#define LG_HDR_MAX 65536
#define LG_FILE_MAX (64u << 20)
#define LG_FILES_MAX 10000000
#define LG_ERR_SHOW 3            /* non-202 answers and errors printed */
#define LG_PRELOAD_RATE 10000    /* per second: what a run at --rate 0 may use */
#define LG_REQ_HEAD_MAX 1024

/* a request read and framed before the run: head and body in one piece */
struct lg_req {
	char *p;
	size_t n;
};

enum lg_state { CS_NEW, CS_CONNECTING, CS_IDLE, CS_BUSY, CS_HELD, CS_CLOSED };

struct lg;

struct lg_conn {
	struct lg *lg;
	struct bufferevent *bev;
	enum lg_state st;
	int in_idle;            /* on the idle stack */
	int hdr_done, status, close_after, is_probe;
	size_t body_left;
	uint64_t t_sched, t_sent;
	char body[200];          /* start of a non-202 body, for the report */
	size_t body_n;
	struct lg_conn *next_idle;
};

struct lg_opts {
	const char *host, *cert, *key, *cacert, *dir, *path, *idle_path;
	const char *ready_file;
	int port, conns, idle, handshakes, resume, progress;
	double rate, seconds, grace;
	long count, first, preload_mb;
};

struct lg {
	struct lg_opts o;
	struct event_base *base;
	SSL_CTX *ctx;
	SSL_SESSION *sess;
	struct sockaddr_in sa;
	char **files;
	size_t n_files, next_file, end_file;
	char *fbuf;
	size_t fcap;
	struct lg_req *pre;     /* requests of files pre_first.. in memory */
	size_t pre_first, pre_n, pre_bytes;
	struct lg_conn *conns;
	int n_conns, next_open, opening, connected, conn_failed;
	struct lg_conn *idle_head;
	int running, finished, exhausted, busy;
	uint64_t t_start, t_stop, t_last;
	double cpu_start;       /* loadgen_cpu() when the run started */
	unsigned long long issued;
	unsigned long sent, done, errors, timeouts, reconnects, resumed, shown;
	unsigned long by_status[600];
	unsigned long per_sec[LG_PER_SEC_MAX];
	uint32_t *hist;
	unsigned long hist_n, hist_over;
	uint64_t lat_max, lat_sum;
	/* idle mode */
	int held, dropped, alive, probe_left, probing;
	uint64_t t_established;
	struct event *tick, *stop_ev, *grace_ev, *progress_ev;
	unsigned long prog_last;
};

static inline uint64_t
loadgen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* loadgen.c: run control */
void loadgen_finish(struct lg *lg);
/* Prints what (and detail, n bytes of it) on stderr, the first few times. */
void loadgen_show(struct lg *lg, const char *what, const char *detail, size_t n);
long loadgen_read(struct lg *lg, size_t i);
double loadgen_cpu(void);
int loadgen_frame(struct lg *lg, size_t i, struct lg_req *r);
void loadgen_stop_issuing(struct lg *lg);
void loadgen_ready(struct lg *lg, struct lg_conn *c);
void loadgen_idle_check(struct lg *lg);

/* loadgen_conn.c: connections, requests, responses */
int loadgen_send_get(struct lg *lg, struct lg_conn *c, const char *path);
int loadgen_issue(struct lg *lg, struct lg_conn *c, uint64_t sched);
void loadgen_open_more(struct lg *lg);
SSL_CTX *loadgen_tls(struct lg *lg);

/* loadgen_stats.c: latency, progress, the report */
void loadgen_record(struct lg *lg, struct lg_conn *c, uint64_t now);
void loadgen_report(struct lg *lg);
void loadgen_on_progress(evutil_socket_t fd, short what, void *arg);

#endif
