#include "migrate.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "config.h"
#include "log.h"

#define MIGRATE_MAX_FILES 256
#define MIGRATE_MAX_BYTES (4 << 20)

static int
migrate_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
migrate_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > MIGRATE_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0)
		goto done;
	if ((buf = malloc((size_t)n + 1)) == NULL)
		goto done;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto done;
	}
	buf[n] = '\0';
done:
	fclose(f);
	return buf;
}

static int
migrate_exec(PGconn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		log_errx("msg=\"migration failed\" step=\"%s\" error=\"%s\"", what,
		    PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

/* Whether a migration was applied already: 1, 0, or -1 on error. */
static int
migrate_done(PGconn *c, const char *name)
{
	const char *v[1] = { name };
	PGresult *r = PQexecParams(c,
	    "SELECT 1 FROM schema_migrations WHERE name = $1", 1, NULL, v,
	    NULL, NULL, 0);
	int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) > 0 : -1;

	PQclear(r);
	return rc;
}

int
migrate_run(const struct config *cfg)
{
	PGconn *c = NULL;
	DIR *dir = NULL;
	struct dirent *de;
	char *files[MIGRATE_MAX_FILES];
	size_t n = 0, i;
	char path[4096];
	char *sql = NULL;
	const char *v[1];
	PGresult *r;
	int rc = -1, applied = 0, done;

	if ((dir = opendir(cfg->sql_dir)) == NULL) {
		log_warn("msg=\"cannot open migrations\" dir=%s", cfg->sql_dir);
		return -1;
	}
	while ((de = readdir(dir)) != NULL && n < MIGRATE_MAX_FILES) {
		size_t l = strlen(de->d_name);

		if (l > 4 && strcmp(de->d_name + l - 4, ".sql") == 0 &&
		    de->d_name[0] >= '0' && de->d_name[0] <= '9')
			files[n++] = strdup(de->d_name);
	}
	closedir(dir);
	qsort(files, n, sizeof(files[0]), migrate_cmp);

	c = PQconnectdb(cfg->conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		log_errx("msg=\"cannot connect to the database\" error=\"%s\"",
		    PQerrorMessage(c));
		goto done;
	}
	if (migrate_exec(c, "SET client_min_messages = warning", "settings") != 0 ||
	    migrate_exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
	    "schema_migrations") != 0)
		goto done;
	for (i = 0; i < n; i++) {
		if ((done = migrate_done(c, files[i])) < 0)
			goto done;
		if (done)
			continue;
		snprintf(path, sizeof(path), "%s/%s", cfg->sql_dir, files[i]);
		if ((sql = migrate_read(path)) == NULL) {
			log_warn("msg=\"cannot read migration\" file=%s", path);
			goto done;
		}
		if (migrate_exec(c, "BEGIN", files[i]) != 0)
			goto done;
		if (migrate_exec(c, sql, files[i]) != 0) {
			migrate_exec(c, "ROLLBACK", files[i]);
			goto done;
		}
		v[0] = files[i];
		r = PQexecParams(c, "INSERT INTO schema_migrations (name) VALUES ($1)",
		    1, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			PQclear(r);
			migrate_exec(c, "ROLLBACK", files[i]);
			goto done;
		}
		PQclear(r);
		if (migrate_exec(c, "COMMIT", files[i]) != 0)
			goto done;
		log_info("msg=\"migration applied\" file=%s", files[i]);
		free(sql);
		sql = NULL;
		applied++;
	}
	log_info("msg=\"migrations up to date\" applied=%d total=%zu", applied, n);
	rc = 0;
done:
	free(sql);
	for (i = 0; i < n; i++)
		free(files[i]);
	PQfinish(c);
	return rc;
}
