/* config_int: what config.c and config_profile.c share while loading.
 * Internal to the config module. */
#ifndef DECLARED_CONFIG_INT_H
#define DECLARED_CONFIG_INT_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "ini.h"

#define CFG_MAX_ROWS 128 /* rows of the key table (checked in config.c) */
#define CFG_PTR_MAX 160
#define CFG_PROFILE_NAME_MAX 32

/* Every allocation a config owns; freed all at once by config_free. */
struct cfg_pool {
	char **v;
	size_t n, cap;
};

/* Per-profile bookkeeping while loading (lines for later checks). */
struct cfg_prof {
	int first_line;
	int root_line, schema_line;
	int xp_line[PF_COUNT];
};

struct cfg_ctx {
	struct config *c;
	struct cfg_pool *pool;
	struct errs *e;
	size_t errs_before;
	const char *dir;     /* absolute directory of the config file */
	int loose_keys;      /* DECLARED_ALLOW_LOOSE_KEYS=1 */
	int row_line[CFG_MAX_ROWS]; /* line where each row was set, 0 = unset */
	int section_line[CFG_MAX_ROWS]; /* first line seen of each row's section */
	struct cfg_prof prof[CONFIG_MAX_PROFILES];
	char refused[CFG_PTR_MAX]; /* last [profile.X] refused */
};


char *config_strdup(struct cfg_ctx *x, const char *s);
char *config_strndup(struct cfg_ctx *x, const char *s, size_t n);
char *config_resolve(struct cfg_ctx *x, const char *v);
void config_check_path(struct cfg_ctx *x, const char *path, int is_dir,
    int secret, int line, const char *ptr);
int config_parse_bool(const char *v);
int config_hostchar(int ch);
int config_ncname(const char *s, size_t n);
void config_missing(struct cfg_ctx *x, int line, const char *ptr,
    const char *what);
/* config_profile.c: one key of a [profile.NAME] section, and the checks
 * that need the whole file (required keys, prefixes, duplicate roots). */
void config_profile_entry(struct cfg_ctx *x, const struct ini_entry *en,
    const char *ptr);
void config_profile_check(struct cfg_ctx *x);

#endif
