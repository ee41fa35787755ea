#include "err.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
err_init(struct errs *e)
{
	memset(e, 0, sizeof(*e));
}

void
err_clear(struct errs *e)
{
	free(e->v);
	err_init(e);
}

static void
err_copy(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src != NULL && src[i] != '\0' && i + 1 < cap; i++)
		dst[i] = (src[i] == '\n' || src[i] == '\r') ? ' ' : src[i];
	if (src != NULL && src[i] != '\0')
		i = utf8_cut(dst, i); /* truncated: never half a character */
	dst[i] = '\0';
	/* drop trailing blanks that libxml2 messages carry */
	while (i > 0 && dst[i - 1] == ' ')
		dst[--i] = '\0';
}

void
err_add(struct errs *e, const char *code, int line, const char *pointer,
    const char *fmt, ...)
{
	struct err_item *it;
	char msg[ERR_MSG_MAX];
	va_list ap;

	if (e->n >= ERR_LIST_CAP) {
		e->dropped++;
		return;
	}
	if (e->n == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 4;
		struct err_item *nv = realloc(e->v, ncap * sizeof(*nv));

		if (nv == NULL) {
			e->dropped++;
			return;
		}
		e->v = nv;
		e->cap = ncap;
	}
	it = &e->v[e->n++];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_copy(it->code, sizeof(it->code), code);
	err_copy(it->msg, sizeof(it->msg), msg);
	err_copy(it->pointer, sizeof(it->pointer), pointer);
	it->line = line;
}

const char *
err_first_code(const struct errs *e)
{
	return e->n > 0 ? e->v[0].code : NULL;
}
