/* decl: the indexed fields of one declaration. */
#include "decl.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

/* The distinct non-empty values of one item field (at byte offset off in
 * struct decl_item), in order of first appearance, as an array literal. */
static int
decl_item_array(const struct decl *d, size_t off, char *out, size_t cap)
{
	size_t i, j, pos = 0;
	int first = 1;

	if (out == NULL || cap < 3) {
		if (out != NULL && cap > 0)
			out[0] = '\0';
		return -1;
	}
	out[pos++] = '{';
	for (i = 0; i < d->n_items; i++) {
		const char *hs = (const char *)&d->items[i] + off;

		if (hs[0] == '\0')
			continue;
		for (j = 0; j < i; j++)
			if (strcmp((const char *)&d->items[j] + off, hs) == 0)
				break;
		if (j < i)
			continue; /* seen before */
		if (decl_put_elem(out, cap, &pos, hs, first) != 0) {
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
