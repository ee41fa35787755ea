/* config_profile: the [profile.NAME] sections of declared.conf. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "profile.h"

/* ---- [profile.NAME] ---- */

static struct profile_def *
cfg_profile(struct cfg_ctx *x, const char *section, int line, size_t *idx)
{
	const char *name = section + strlen("profile.");
	struct config *c = x->c;
	size_t i, n = strlen(name);

	for (i = 0; i < c->n_profiles; i++)
		if (strcmp(c->profiles[i].name, name) == 0) {
			*idx = i;
			return &c->profiles[i];
		}
	/* report a refused section once, not once per key */
	if (strcmp(x->refused, section) == 0)
		return NULL;
	snprintf(x->refused, sizeof(x->refused), "%s", section);
	if (n == 0 || n > CFG_PROFILE_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") != n) {
		err_add(x->e, "CONFIG_KEY", line, section,
		    "bad profile name [%s]: use 1-%d letters, digits, '_' or '-'",
		    section, CFG_PROFILE_NAME_MAX);
		return NULL;
	}
	if (c->n_profiles == CONFIG_MAX_PROFILES) {
		err_add(x->e, "CONFIG_VALUE", line, section,
		    "too many profiles: at most %d", CONFIG_MAX_PROFILES);
		return NULL;
	}
	x->refused[0] = '\0';
	i = c->n_profiles;
	if ((c->profiles[i].name = config_strdup(x, name)) == NULL)
		return NULL;
	c->n_profiles++;
	c->profiles[i].root_ns = "";
	c->profiles[i].root_name = "";
	c->profiles[i].schema = "";
	c->profiles[i].signature_required = 1;
	c->profiles[i].apply_rules = 1;
	x->prof[i].first_line = line;
	*idx = i;
	return &c->profiles[i];
}

static void
cfg_profile_root(struct cfg_ctx *x, struct profile_def *p, const char *v,
    int line, const char *ptr)
{
	const char *local = v, *ns = "";
	size_t nslen = 0;

	if (v[0] == '{') {
		const char *rb = strchr(v, '}');

		if (rb == NULL) {
			err_add(x->e, "CONFIG_VALUE", line, ptr,
			    "%s = \"%s\": missing '}' after the namespace", ptr, v);
			return;
		}
		ns = v + 1;
		nslen = (size_t)(rb - ns);
		local = rb + 1;
	}
	if (!config_ncname(local, strlen(local)) || memchr(ns, '{', nslen) != NULL) {
		err_add(x->e, "CONFIG_VALUE", line, ptr,
		    "%s = \"%s\": expected {namespace}LocalName", ptr, v);
		return;
	}
	if ((ns = config_strndup(x, ns, nslen)) == NULL ||
	    (local = config_strdup(x, local)) == NULL)
		return;
	p->root_ns = ns;
	p->root_name = local;
}

void
config_profile_entry(struct cfg_ctx *x, const struct ini_entry *en,
    const char *ptr)
{
	struct profile_def *p;
	struct cfg_prof *pp;
	const char *k = en->key, *v = en->value;
	size_t idx;
	int b, f;

	if ((p = cfg_profile(x, en->section, en->line, &idx)) == NULL)
		return;
	pp = &x->prof[idx];
	if (strcmp(k, "root") == 0) {
		pp->root_line = en->line;
		cfg_profile_root(x, p, v, en->line, ptr);
	} else if (strcmp(k, "schema") == 0) {
		const char *s;

		pp->schema_line = en->line;
		if (v[0] == '\0')
			err_add(x->e, "CONFIG_VALUE", en->line, ptr,
			    "%s must not be empty", ptr);
		else if ((s = config_resolve(x, v)) != NULL) {
			config_check_path(x, s, 0, 0, en->line, ptr);
			p->schema = s;
		}
	} else if (strcmp(k, "signature_in_schema") == 0 ||
	    strcmp(k, "allow_rsa_sha1") == 0 || strcmp(k, "rules") == 0) {
		if ((b = config_parse_bool(v)) < 0)
			err_add(x->e, "CONFIG_VALUE", en->line, ptr,
			    "%s = \"%s\": expected yes or no", ptr, v);
		else if (k[0] == 's')
			p->signature_in_schema = b;
		else if (k[0] == 'r')
			p->apply_rules = b;
		else
			p->allow_rsa_sha1 = b;
	} else if (strcmp(k, "signature") == 0) {
		if (strcmp(v, "required") == 0)
			p->signature_required = 1;
		else if (strcmp(v, "optional") == 0)
			p->signature_required = 0;
		else
			err_add(x->e, "CONFIG_VALUE", en->line, ptr,
			    "%s = \"%s\": expected required or optional", ptr, v);
	} else if (strncmp(k, "ns.", 3) == 0) {
		size_t i;

		if (!config_ncname(k + 3, strlen(k + 3)) || strcmp(k + 3, "xml") == 0) {
			err_add(x->e, "CONFIG_KEY", en->line, ptr,
			    "bad namespace prefix '%s'", k + 3);
			return;
		}
		if (v[0] == '\0') {
			err_add(x->e, "CONFIG_VALUE", en->line, ptr,
			    "%s must not be empty", ptr);
			return;
		}
		for (i = 0; i < p->n_ns; i++)
			if (strcmp(p->ns_prefix[i], k + 3) == 0) {
				err_add(x->e, "CONFIG_KEY", en->line, ptr,
				    "prefix '%s' declared twice", k + 3);
				return;
			}
		if (p->n_ns == PROFILE_NS_MAX) {
			err_add(x->e, "CONFIG_VALUE", en->line, ptr,
			    "too many namespaces: at most %d", PROFILE_NS_MAX);
			return;
		}
		if ((p->ns_prefix[p->n_ns] = config_strdup(x, k + 3)) == NULL ||
		    (p->ns_uri[p->n_ns] = config_strdup(x, v)) == NULL)
			return;
		p->n_ns++;
	} else if (strncmp(k, "xpath.", 6) == 0 &&
	    (f = profile_field_by_name(k + 6)) >= 0 && f < PF_COUNT) {
		if (v[0] == '\0') {
			err_add(x->e, "CONFIG_VALUE", en->line, ptr,
			    "%s must not be empty", ptr);
			return;
		}
		if ((p->xpath[f] = config_strdup(x, v)) != NULL)
			pp->xp_line[f] = en->line;
	} else {
		err_add(x->e, "CONFIG_KEY", en->line, ptr, "unknown key %s", ptr);
	}
}

/* Every "prefix:" an XPath uses must be declared with ns.PREFIX. */
static void
cfg_check_prefixes(struct cfg_ctx *x, const struct profile_def *p, int f,
    int line)
{
	const char *s = p->xpath[f];
	char ptr[CFG_PTR_MAX];
	size_t i = 0, j, k, n;

	snprintf(ptr, sizeof(ptr), "profile.%s.xpath.%s", p->name,
	    profile_field_name((enum profile_field)f));
	n = strlen(s);
	while (i < n) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\'' || ch == '"') {
			const char *q = strchr(s + i + 1, ch);

			i = q != NULL ? (size_t)(q - s) + 1 : n;
			continue;
		}
		if (!(isalpha(ch) || ch == '_') ||
		    (i > 0 && (config_hostchar((unsigned char)s[i - 1]) ||
		    s[i - 1] == '$'))) {
			i++;
			continue;
		}
		for (j = i; j < n && config_hostchar((unsigned char)s[j]); j++)
			;
		if (j < n && s[j] == ':' && s[j + 1] != ':') {
			for (k = 0; k < p->n_ns; k++)
				if (strlen(p->ns_prefix[k]) == j - i &&
				    strncmp(p->ns_prefix[k], s + i, j - i) == 0)
					break;
			if (k == p->n_ns && !(j - i == 3 && strncmp(s + i, "xml", 3) == 0))
				err_add(x->e, "CONFIG_VALUE", line, ptr,
				    "%s uses prefix '%.*s' without ns.%.*s", ptr,
				    (int)(j - i), s + i, (int)(j - i), s + i);
		}
		i = j;
	}
}


void
config_profile_check(struct cfg_ctx *x)
{
	struct config *c = x->c;
	static const int need[] = { PF_LRN, PF_DECLARANT };
	char ptr[CFG_PTR_MAX];
	size_t i, j;
	int f, item_f = -1;

	if (c->n_profiles == 0)
		err_add(x->e, "CONFIG_MISSING", 0, "profile",
		    "at least one [profile.NAME] section is required");
	for (i = 0; i < c->n_profiles; i++) {
		struct profile_def *p = &c->profiles[i];
		struct cfg_prof *pp = &x->prof[i];

		if (pp->root_line == 0) {
			snprintf(ptr, sizeof(ptr), "profile.%s.root", p->name);
			config_missing(x, pp->first_line, ptr, "");
		}
		if (pp->schema_line == 0) {
			snprintf(ptr, sizeof(ptr), "profile.%s.schema", p->name);
			config_missing(x, pp->first_line, ptr, "");
		}
		for (j = 0; j < sizeof(need) / sizeof(need[0]); j++)
			if (p->xpath[need[j]] == NULL) {
				snprintf(ptr, sizeof(ptr), "profile.%s.xpath.%s", p->name,
				    profile_field_name((enum profile_field)need[j]));
				config_missing(x, pp->first_line, ptr, "");
			}
		for (f = 0; f < PF_COUNT; f++) {
			if (p->xpath[f] == NULL)
				continue;
			cfg_check_prefixes(x, p, f, pp->xp_line[f]);
			if (f > PF_ITEMS && item_f < 0)
				item_f = f;
		}
		if (item_f >= 0 && p->xpath[PF_ITEMS] == NULL) {
			snprintf(ptr, sizeof(ptr), "profile.%s.xpath.items", p->name);
			config_missing(x, pp->xp_line[item_f], ptr,
			    " by the item.* XPaths");
		}
		item_f = -1;
		for (j = 0; j < i && pp->root_line != 0; j++)
			if (x->prof[j].root_line != 0 &&
			    strcmp(c->profiles[j].root_ns, p->root_ns) == 0 &&
			    strcmp(c->profiles[j].root_name, p->root_name) == 0) {
				snprintf(ptr, sizeof(ptr), "profile.%s.root", p->name);
				err_add(x->e, "CONFIG_VALUE", pp->root_line, ptr,
				    "profiles %s and %s have the same root",
				    c->profiles[j].name, p->name);
			}
	}
}
