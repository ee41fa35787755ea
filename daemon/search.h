/* search: GET /v1/declarations for officers.  The query string becomes one
 * parameterised SQL statement (values only ever travel as parameters) that
 * reads one page in the order newest first, (received_at, id) descending,
 * and a keyset cursor for the next page: new declarations arriving while an
 * officer pages never shift, repeat or hide the rows of the next pages.
 *
 * Filters (all optional, combined with AND):
 *   status     a lifecycle state name
 *   declarant  the declarant party (exact)
 *   lane       green | yellow | red
 *   hs         an item's HS code, exactly (6, 8 or 10 digits)
 *   origin     an item's origin country (ISO 3166 alpha-2)
 *   mrn, lrn   exact
 *   from, to   received at or after from, before to: YYYY-MM-DD or
 *              YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|+HH:MM|-HH:MM] (UTC if no zone)
 *   cursor     next_cursor of the previous page
 *   limit      1..200, default 50 */
#ifndef DECLARED_SEARCH_H
#define DECLARED_SEARCH_H

#include <stddef.h>
#include <jansson.h>
#include <libpq-fe.h>

#define SEARCH_LIMIT_DEFAULT 50
#define SEARCH_LIMIT_MAX 200
#define SEARCH_PARAMS_MAX 12
#define SEARCH_VALUE_MAX 80

struct search {
	char sql[2048];
	int nparams;
	const char *params[SEARCH_PARAMS_MAX];   /* point into val */
	char val[SEARCH_PARAMS_MAX][SEARCH_VALUE_MAX];
	int limit;
};

/* Builds s from a raw (still %-encoded) query string, NULL = none.  -1
 * with a message in err for an unknown, repeated or malformed parameter. */
int search_parse(struct search *s, const char *query, char *err, size_t cap);

/* The page for the rows of s's statement:
 * {"items": [...], "count": N, "limit": L, "next_cursor": "..." | null}.
 * NULL on allocation failure. */
json_t *search_page(const struct search *s, const PGresult *r);

#endif
