/* config: declared.conf, a declarative table of keys over lib/ini.
 * config_load builds a complete new struct config or fails naming the bad
 * key and its line; reload swaps whole structs, never fields. */
#ifndef DECLARED_CONFIG_H
#define DECLARED_CONFIG_H

#include <stddef.h>

#include "err.h"
#include "profile.h"

#define CONFIG_MAX_PROFILES 16

struct config {
	char *path;               /* the file it came from */
	/* [server] */
	char *listen;             /* host:port, default 127.0.0.1:8443 */
	char *admin_listen;       /* default 127.0.0.1:8080; "" = off */
	int workers;              /* 0 = cores */
	size_t max_body;          /* bytes, default 10 MiB */
	size_t max_headers;       /* bytes, default 16 KiB */
	int read_timeout_s;       /* default 30 */
	int write_timeout_s;      /* default 30 */
	int queue_max;            /* jobs waiting for a worker, default 4096 */
	int max_connections;      /* default 20000 */
	char *web_root;           /* officer console files, "" = off */
	/* [tls] */
	char *tls_cert, *tls_key;
	char *enterprise_ca, *officer_ca, *tls_crl;
	/* [signing] */
	char *sign_cert, *sign_key;   /* the daemon's acknowledgement signer */
	char *trusted_ca;             /* CA bundle of declaration signers */
	char *signing_crl;            /* optional CRL of declaration signers */
	/* [database] */
	char *conninfo;
	char *replica_conninfo;       /* "" = none */
	int db_connections;           /* default 2 */
	int batch_max;                /* declarations per transaction, default 256 */
	int batch_delay_ms;           /* flush after this when not full, default 2 */
	int db_timeout_s;             /* statement / connect timeout, default 10 */
	char *sql_dir;                /* migrations, default /usr/share/declared/sql */
	int retention_months;         /* detach older monthly partitions, 0 = keep */
	int maintain_interval_s;      /* partition upkeep period, default 3600 */
	/* [customs] */
	char *country;                /* MRN country code, default "XX" */
	char *data_dir;               /* code lists, default /usr/share/declared/data */
	char *risk_rules;             /* lane rules file, "" = all green */
	int auto_release;             /* release green-lane declarations at once */
	char *value_tolerance;        /* |sum(items) - invoice| allowed, "0.01" */
	int future_skew_s;            /* IssueDateTime may be this far ahead */
	/* [limits] per enterprise party (limit.c); 0 = off */
	int limit_rate;               /* requests per second */
	int limit_burst;              /* token bucket size, 0 = 2 * rate */
	int limit_connections;        /* concurrent connections */
	/* [push] delivery to the parties' callbacks (push.c) */
	char *push_ca;                /* extra CA file for receivers, "" = none */
	int push_timeout_s;           /* per delivery attempt, default 10 */
	int push_retention_s;         /* expire older acknowledgements, 7 days */
	/* [profile.NAME] */
	struct profile_def profiles[CONFIG_MAX_PROFILES];
	size_t n_profiles;
	/* storage owned by the config for the profile strings */
	void *priv;
};

/* Loads and checks path.  On failure returns NULL with errors (code
 * CONFIG_KEY / CONFIG_VALUE / CONFIG_MISSING / INI_SYNTAX, line set,
 * pointer = "section.key"). */
struct config *config_load(const char *path, struct errs *e);
void config_free(struct config *c); /* NULL ok */
/* -1 with a CONFIG_RELOAD error per changed key that needs a restart. */
int config_check_reload(const struct config *old, const struct config *nw,
    struct errs *e);

#endif
