/* ini: a strict INI reader.  Every line is blank, a comment ('#' or ';'
 * first), a "[section]" header or "key = value"; anything else is an
 * error with its line.  Keys and section names are [A-Za-z0-9_.-]+. */
#include "ini.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INI_MAX_FILE (1024 * 1024)
#define INI_NAME_MAX 128 /* section and key names */

static int
ini_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
ini_is_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > INI_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/* Trims blanks around s[0..*n): returns the new start. */
static const char *
ini_trim(const char *s, size_t *n)
{
	while (*n > 0 && ini_is_blank(s[0])) {
		s++;
		(*n)--;
	}
	while (*n > 0 && ini_is_blank(s[*n - 1]))
		(*n)--;
	return s;
}

void
ini_free(struct ini *ini)
{
	size_t i;

	if (ini == NULL)
		return;
	for (i = 0; i < ini->n; i++) {
		free(ini->v[i].section);
		free(ini->v[i].key);
		free(ini->v[i].value);
	}
	free(ini->v);
	ini->v = NULL;
	ini->n = ini->cap = 0;
}

const struct ini_entry *
ini_find(const struct ini *ini, const char *section, const char *key)
{
	size_t i;

	if (ini == NULL || section == NULL || key == NULL)
		return NULL;
	for (i = 0; i < ini->n; i++)
		if (strcmp(ini->v[i].section, section) == 0 &&
		    strcmp(ini->v[i].key, key) == 0)
			return &ini->v[i];
	return NULL;
}

static int
ini_add(struct ini *ini, const char *section, const char *key, size_t klen,
    const char *val, size_t vlen, int line)
{
	struct ini_entry *it;

	if (ini->n == ini->cap) {
		size_t ncap = ini->cap ? ini->cap * 2 : 32;
		struct ini_entry *nv;

		if (ncap > INI_MAX_ENTRIES)
			ncap = INI_MAX_ENTRIES;
		if ((nv = realloc(ini->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		ini->v = nv;
		ini->cap = ncap;
	}
	it = &ini->v[ini->n];
	it->section = strdup(section);
	it->key = strndup(key, klen);
	it->value = strndup(val, vlen);
	it->line = line;
	if (it->section == NULL || it->key == NULL || it->value == NULL) {
		free(it->section);
		free(it->key);
		free(it->value);
		return -1;
	}
	ini->n++;
	return 0;
}

/* One "key = value" line (trimmed, not empty, not a comment or header).
 * section NULL: none yet, or (bad_section) after a bad header, already
 * reported: the line is checked but not kept. */
static int
ini_kv(struct ini *ini, const char *section, int bad_section, const char *s,
    size_t n, int line, struct errs *e)
{
	const char *eq = memchr(s, '=', n), *key, *val;
	const struct ini_entry *prev;
	size_t klen, vlen;
	char kbuf[INI_NAME_MAX + 1];

	if (eq == NULL) {
		err_add(e, "INI_SYNTAX", line, "", "line %d: expected "
		    "\"key = value\", \"[section]\" or a comment", line);
		return 0;
	}
	klen = (size_t)(eq - s);
	key = ini_trim(s, &klen);
	vlen = n - (size_t)(eq - s) - 1;
	val = ini_trim(eq + 1, &vlen);
	if (!ini_is_name(key, klen)) {
		err_add(e, "INI_SYNTAX", line, "", "line %d: bad key \"%.*s\" "
		    "(letters, digits, '_', '.', '-')", line,
		    (int)(klen > 64 ? 64 : klen), key);
		return 0;
	}
	if (section == NULL) {
		if (!bad_section)
			err_add(e, "INI_SYNTAX", line, "", "line %d: key "
			    "\"%.*s\" before any [section]", line, (int)klen, key);
		return 0;
	}
	if (vlen > 0 && val[0] == '"') {
		if (vlen < 2 || val[vlen - 1] != '"') {
			err_add(e, "INI_SYNTAX", line, "", "line %d: "
			    "unterminated quoted value", line);
			return 0;
		}
		val++;
		vlen -= 2;
	}
	memcpy(kbuf, key, klen);
	kbuf[klen] = '\0';
	if ((prev = ini_find(ini, section, kbuf)) != NULL) {
		err_add(e, "INI_DUPLICATE", line, "", "line %d: [%s] %s "
		    "already set on line %d", line, section, kbuf, prev->line);
		return 0;
	}
	if (ini->n >= INI_MAX_ENTRIES) {
		err_add(e, "INI_SYNTAX", line, "", "line %d: more than %d "
		    "entries", line, INI_MAX_ENTRIES);
		return -1;
	}
	if (ini_add(ini, section, key, klen, val, vlen, line) != 0) {
		err_add(e, "NOMEM", line, "", "out of memory");
		return -1;
	}
	return 0;
}

int
ini_parse(const char *text, size_t len, struct ini *out, struct errs *e)
{
	struct ini ini = { NULL, 0, 0 };
	char section[INI_NAME_MAX + 1];
	const char *s, *nl;
	size_t pos = 0, n, errs0 = e->n + e->dropped;
	int line = 0, have_section = 0, bad_section = 0;

	out->v = NULL; /* overwritten, never freed: callers ini_free it */
	out->n = out->cap = 0;
	if (len > INI_MAX_FILE) {
		err_add(e, "INI_SYNTAX", 0, "", "text larger than %d bytes",
		    INI_MAX_FILE);
		return -1;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* UTF-8 byte order mark */
	while (pos < len) {
		line++;
		s = text + pos;
		nl = memchr(s, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - s) : len - pos;
		pos += n + (nl != NULL);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > INI_MAX_LINE) {
			err_add(e, "INI_SYNTAX", line, "", "line %d: longer than "
			    "%d bytes", line, INI_MAX_LINE);
			continue;
		}
		if (memchr(s, '\0', n) != NULL) {
			err_add(e, "INI_SYNTAX", line, "", "line %d: NUL byte",
			    line);
			continue;
		}
		s = ini_trim(s, &n);
		if (n == 0 || s[0] == '#' || s[0] == ';')
			continue;
		if (s[0] == '[') {
			const char *name = s + 1;
			size_t nlen = n - 1;

			if (s[n - 1] != ']') {
				err_add(e, "INI_SYNTAX", line, "", "line %d: "
				    "section header without ']'", line);
				have_section = 0;
				bad_section = 1;
				continue;
			}
			nlen--;
			name = ini_trim(name, &nlen);
			if (!ini_is_name(name, nlen)) {
				err_add(e, "INI_SYNTAX", line, "", "line %d: bad "
				    "section name", line);
				have_section = 0;
				bad_section = 1;
				continue;
			}
			memcpy(section, name, nlen);
			section[nlen] = '\0';
			have_section = 1;
			bad_section = 0;
			continue;
		}
		if (ini_kv(&ini, have_section ? section : NULL, bad_section, s,
		    n, line, e) != 0)
			break;
	}
	if (e->n + e->dropped != errs0) {
		ini_free(&ini);
		return -1;
	}
	*out = ini;
	return 0;
}

int
ini_load(const char *path, struct ini *out, struct errs *e)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		err_add(e, "INI_IO", 0, "", "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err_add(e, "INI_IO", 0, "", "%s: not a regular file", path);
		goto done;
	}
	if ((buf = malloc(INI_MAX_FILE + 1)) == NULL) {
		err_add(e, "NOMEM", 0, "", "out of memory");
		goto done;
	}
	while (len <= INI_MAX_FILE) {
		r = read(fd, buf + len, INI_MAX_FILE + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_add(e, "INI_IO", 0, "", "%s: %s", path,
			    strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > INI_MAX_FILE) {
		err_add(e, "INI_IO", 0, "", "%s: larger than %d bytes", path,
		    INI_MAX_FILE);
		goto done;
	}
	rc = ini_parse(buf, len, out, e);
done:
	free(buf);
	close(fd);
	return rc;
}
