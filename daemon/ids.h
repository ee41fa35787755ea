/* ids: declaration ids handed out in blocks (hi-lo).  One nextval() on
 * decl_block_seq reserves IDS_BLOCK ids, so ids (and MRNs) are known before
 * a declaration is stored, and several daemons never collide. */
#ifndef DECLARED_IDS_H
#define DECLARED_IDS_H

#include <stdint.h>

#define IDS_BLOCK 4096

struct db;
struct ids;

struct ids *ids_new(struct db *db);
/* The next id, or -1 when none is reserved yet (the caller answers 503). */
int64_t ids_take(struct ids *ids);
/* Reserves another block when running low and a connection is idle. */
void ids_kick(struct ids *ids);
int ids_available(const struct ids *ids);
void ids_free(struct ids *ids); /* NULL ok */

#endif
