/* pgarr: PostgreSQL binary arrays, see pgarr.h. */
#include "pgarr.h"

#include <stdlib.h>
#include <string.h>

#define PGARR_DEFAULT_MAX ((size_t)1 << 30)

static void
pgarr_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static int
pgarr_grow(struct pgarr *a, size_t more)
{
	size_t max = a->max ? a->max : PGARR_DEFAULT_MAX;
	size_t cap = a->cap ? a->cap : 256;
	unsigned char *p;

	if (more > max || a->len > max - more)
		return -1;
	if (a->len + more <= a->cap)
		return 0;
	while (cap < a->len + more)
		cap *= 2;
	if ((p = realloc(a->p, cap)) == NULL)
		return -1;
	a->p = p;
	a->cap = cap;
	return 0;
}

int
pgarr_init(struct pgarr *a, unsigned oid, int n, size_t hint)
{
	a->len = 0;
	if (n < 0 || pgarr_grow(a, 20 + hint) != 0)
		return -1;
	pgarr_put32(a->p, 1);
	pgarr_put32(a->p + 4, 0);
	pgarr_put32(a->p + 8, oid);
	pgarr_put32(a->p + 12, (uint32_t)n);
	pgarr_put32(a->p + 16, 1);
	a->len = 20;
	return 0;
}

int
pgarr_put(struct pgarr *a, const void *v, size_t len)
{
	if (a->len < 20 || len > INT32_MAX ||
	    pgarr_grow(a, 4 + (v ? len : 0)) != 0)
		return -1;
	pgarr_put32(a->p + a->len, v ? (uint32_t)len : 0xffffffffu);
	a->len += 4;
	if (v == NULL) {
		pgarr_put32(a->p + 4, 1);
		return 0;
	}
	memcpy(a->p + a->len, v, len);
	a->len += len;
	return 0;
}

int
pgarr_str(struct pgarr *a, const char *s)
{
	return pgarr_put(a, s, s ? strlen(s) : 0);
}

int
pgarr_int(struct pgarr *a, int64_t v, size_t size)
{
	unsigned char be[8];
	size_t k;

	if (size != 4 && size != 8)
		return -1;
	for (k = 0; k < size; k++)
		be[k] = (unsigned char)((uint64_t)v >> (8 * (size - 1 - k)));
	return pgarr_put(a, be, size);
}

void
pgarr_free(struct pgarr *a)
{
	free(a->p);
	a->p = NULL;
	a->len = a->cap = 0;
}
