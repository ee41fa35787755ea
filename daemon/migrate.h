/* migrate: `declared --migrate`: applies the pending sql/NNN_*.sql files in
 * order, each in its own transaction, recorded in schema_migrations.  Runs
 * before the event loop exists, so it may block. */
#ifndef DECLARED_MIGRATE_H
#define DECLARED_MIGRATE_H

struct config;

int migrate_run(const struct config *cfg); /* 0 or -1 (logged) */

#endif
