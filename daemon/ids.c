#include "ids.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

struct ids {
	struct db *db;
	int64_t next, end;       /* current block */
	int64_t snext, send;     /* spare block */
	int refilling;
	int64_t got;             /* block number read by the result callback */
	int freed;
};

struct ids *
ids_new(struct db *db)
{
	struct ids *ids = calloc(1, sizeof(*ids));

	if (ids != NULL)
		ids->db = db;
	return ids;
}

static int
ids_send(PGconn *c, void *arg)
{
	if (!PQsendQueryPrepared(c, "idblock", 0, NULL, NULL, NULL, 0))
		return -1;
	return PQpipelineSync(c) ? 0 : -1;
}

static int
ids_result(PGresult *r, void *arg)
{
	struct ids *ids = arg;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return -1;
	ids->got = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	return ids->got > 0 ? 0 : -1;
}

static void
ids_done(void *arg, int ok, const char *err)
{
	struct ids *ids = arg;

	ids->refilling = 0;
	if (ids->freed) {
		free(ids);
		return;
	}
	if (!ok) {
		log_warnx("msg=\"cannot reserve declaration ids\" reason=\"%s\"",
		    err ? err : "");
		return;
	}
	if (ids->next >= ids->end) {
		ids->next = ids->got * IDS_BLOCK;
		ids->end = ids->next + IDS_BLOCK;
	} else {
		ids->snext = ids->got * IDS_BLOCK;
		ids->send = ids->snext + IDS_BLOCK;
	}
}

void
ids_kick(struct ids *ids)
{
	struct db_unit u = { ids_send, ids_result, ids_done, ids };

	if (ids->refilling || ids->snext < ids->send)
		return;
	if (ids->end - ids->next > IDS_BLOCK / 2)
		return;
	if (db_idle(ids->db) == 0)
		return;
	ids->refilling = 1;
	db_run(ids->db, &u);
}

int64_t
ids_take(struct ids *ids)
{
	int64_t id;

	if (ids->next >= ids->end) {
		if (ids->snext >= ids->send)
			return -1;
		ids->next = ids->snext;
		ids->end = ids->send;
		ids->snext = ids->send = 0;
	}
	id = ids->next++;
	if (ids->end - ids->next <= IDS_BLOCK / 2)
		ids_kick(ids);
	return id;
}

int
ids_available(const struct ids *ids)
{
	return (int)((ids->end - ids->next) + (ids->send - ids->snext));
}

void
ids_free(struct ids *ids)
{
	if (ids == NULL)
		return;
	if (ids->refilling) {
		ids->freed = 1; /* ids_done frees it */
		return;
	}
	free(ids);
}
