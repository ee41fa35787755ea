/* ini: a strict INI reader.  "[section]" or "[section.sub]" headers,
 * "key = value" lines, '#' or ';' comments on their own line, values
 * trimmed, optional double quotes around a value.  No includes, no
 * continuation lines.  The daemon's config table sits on top of it. */
#ifndef DECLARED_INI_H
#define DECLARED_INI_H

#include <stddef.h>

#include "err.h"

#define INI_MAX_ENTRIES 1024
#define INI_MAX_LINE 4096

struct ini_entry {
	char *section; /* "server", "profile.wco" */
	char *key;     /* "listen", "xpath.lrn" */
	char *value;
	int line;
};

struct ini {
	struct ini_entry *v;
	size_t n, cap;
};

/* Parses text; every syntax error is an INI_SYNTAX error with its line;
 * a key repeated within a section is INI_DUPLICATE.  Returns 0 or -1. */
int ini_parse(const char *text, size_t len, struct ini *out, struct errs *e);
/* Reads path (at most 1 MiB) and parses it; INI_IO on read failure. */
int ini_load(const char *path, struct ini *out, struct errs *e);
void ini_free(struct ini *ini); /* keeps ini reusable (empty) */
const struct ini_entry *ini_find(const struct ini *ini, const char *section,
    const char *key);

#endif
