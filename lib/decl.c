/* decl: the indexed fields of one declaration. */
#include "decl.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

void
decl_init(struct decl *d)
{
	memset(d, 0, sizeof(*d));
	d->goods_item_quantity = -1;
}

void
decl_clear(struct decl *d)
{
	free(d->items);
	decl_init(d);
}

/* An element is written bare only when it is all digits (an HS code);
 * anything else is quoted and escaped. */
static int
decl_is_bare(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Appends one element (quoted and escaped unless bare), preceded by a
 * comma unless first, at *pos; keeps room for "}" and the NUL. */
static int
decl_put_elem(char *out, size_t cap, size_t *pos, const char *s, int first)
{
	int bare = decl_is_bare(s);
	size_t need = first ? 0 : 1;
	const char *p;

	for (p = s; *p != '\0'; p++)
		need += (*p == '"' || *p == '\\') ? 2 : 1;
	if (!bare)
		need += 2;
	if (need + 2 > cap - *pos)
		return -1;
	if (!first)
		out[(*pos)++] = ',';
	if (!bare)
		out[(*pos)++] = '"';
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			out[(*pos)++] = '\\';
		out[(*pos)++] = *p;
	}
	if (!bare)
		out[(*pos)++] = '"';
	return 0;
}

/* Slots of the table that finds values seen before: a power of two, at
 * least twice the items, so that probing stays short and always ends. */
#define DECL_SEEN_SLOTS 2048
_Static_assert(DECL_SEEN_SLOTS >= 2 * DECL_ITEMS_MAX,
    "the table of values seen must stay at most half full");

/* The distinct non-empty values of one item field (at byte offset off in
 * struct decl_item), in order of first appearance, as an array literal.
 * Linear in the items (a 999-item declaration took ~3 ms comparing each
 * value with all before it, on the daemon's event loop). */
static int
decl_item_array(const struct decl *d, size_t off, char *out, size_t cap)
{
	unsigned short seen[DECL_SEEN_SLOTS]; /* item index + 1; 0: free */
	size_t i, pos = 0, h;
	int first = 1;

	if (out == NULL || cap < 3 || d->n_items > DECL_ITEMS_MAX) {
		if (out != NULL && cap > 0)
			out[0] = '\0';
		return -1;
	}
	memset(seen, 0, sizeof(seen));
	out[pos++] = '{';
	for (i = 0; i < d->n_items; i++) {
		const char *v = (const char *)&d->items[i] + off;

		if (v[0] == '\0')
			continue;
		h = hash_str(v) & (DECL_SEEN_SLOTS - 1);
		while (seen[h] != 0 && strcmp((const char *)&d->items[seen[h] -
		    1] + off, v) != 0)
			h = (h + 1) & (DECL_SEEN_SLOTS - 1);
		if (seen[h] != 0)
			continue; /* seen before */
		seen[h] = (unsigned short)(i + 1);
		if (decl_put_elem(out, cap, &pos, v, first) != 0) {
			out[0] = '\0';
			return -1;
		}
		first = 0;
	}
	if (pos + 2 > cap || pos + 1 > INT_MAX) {
		out[0] = '\0';
		return -1;
	}
	out[pos++] = '}';
	out[pos] = '\0';
	return (int)pos;
}

int
decl_hs_array(const struct decl *d, char *out, size_t cap)
{
	return decl_item_array(d, offsetof(struct decl_item, hs), out, cap);
}

int
decl_origin_array(const struct decl *d, char *out, size_t cap)
{
	return decl_item_array(d, offsetof(struct decl_item, origin), out, cap);
}
