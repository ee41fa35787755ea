/* maintain: the periodic upkeep of the monthly partitions (sql/007).  At
 * startup and then every [database] maintain_interval seconds, one call of
 * declared_maintain() on the primary, through the async db layer: it
 * creates the partitions of this month and the next MAINTAIN_AHEAD, and
 * with [database] retention_months > 0 has the registry forget the keys of
 * the months past the retention and detaches their partitions (the tables
 * stay for the archive: docs/scaling.md).  Several daemons may share the
 * database: the function takes an advisory lock, so one call works at a
 * time and the others return at once.  Every partition created or
 * detached is logged. */
#ifndef DECLARED_MAINTAIN_H
#define DECLARED_MAINTAIN_H

#define MAINTAIN_AHEAD 3      /* months created ahead of the current one */

struct daemon;
struct maintain;

/* Counters since startup (for /metrics), loop thread only. */
struct maintain_stats {
	unsigned long runs;          /* calls completed */
	unsigned long failures;      /* calls that failed (logged) */
	unsigned long created;       /* partitions created */
	unsigned long detached;      /* partitions detached */
	unsigned long keys_forgotten;
};

/* Schedules the first call at once; NULL when out of memory. */
struct maintain *maintain_new(struct daemon *d);
const struct maintain_stats *maintain_stats(const struct maintain *m);
/* NULL ok.  Before db_free: a call in flight frees it when it ends. */
void maintain_free(struct maintain *m);

#endif
