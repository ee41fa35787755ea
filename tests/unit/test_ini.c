/* Unit tests for lib/ini.c. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "ini.h"

#include "unit_util.h"

static char tmpdir[] = "/tmp/test_ini.XXXXXX";

/* Tests abort on allocation failure. */
static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		abort();
	return p;
}

static const char *
val(const struct ini *ini, const char *sec, const char *key)
{
	const struct ini_entry *en = ini_find(ini, sec, key);

	return en != NULL ? en->value : NULL;
}

static void
test_good(void)
{
	const char *text =
	    "# declared.conf\r\n"
	    "; another comment\n"
	    "\n"
	    "[server]\n"
	    "listen = 127.0.0.1:8443\n"
	    "  workers=0  \n"
	    "empty =\n"
	    "\t[ tls ]\t\n"
	    "cert = \"/etc/declared/server cert.pem\"\r\n"
	    "key = \"\"\n"
	    "note = a \"quoted\" word\n"
	    "hash = value # not a comment\n"
	    "[profile.wco]\n"
	    "root = {urn:declared:declaration:1}Declaration\n"
	    "xpath.lrn = /d:Declaration/d:FunctionalReferenceID\n"
	    "ns.d = urn:declared:declaration:1\n"
	    "item.hs-x_1 = \" spaced \"\n"
	    "[server]\n"
	    "admin_listen = 127.0.0.1:8080";
	struct ini ini;
	struct errs e;
	const struct ini_entry *en;

	err_init(&e);
	CU_ASSERT_EQUAL_FATAL(ini_parse(text, strlen(text), &ini, &e), 0);
	CU_ASSERT_EQUAL(e.n, 0);
	CU_ASSERT_EQUAL(ini.n, 12);
	CU_ASSERT_STRING_EQUAL(val(&ini, "server", "listen"), "127.0.0.1:8443");
	CU_ASSERT_STRING_EQUAL(val(&ini, "server", "workers"), "0");
	CU_ASSERT_STRING_EQUAL(val(&ini, "server", "empty"), "");
	CU_ASSERT_STRING_EQUAL(val(&ini, "tls", "cert"),
	    "/etc/declared/server cert.pem");
	CU_ASSERT_STRING_EQUAL(val(&ini, "tls", "key"), "");
	CU_ASSERT_STRING_EQUAL(val(&ini, "tls", "note"), "a \"quoted\" word");
	CU_ASSERT_STRING_EQUAL(val(&ini, "tls", "hash"),
	    "value # not a comment");
	CU_ASSERT_STRING_EQUAL(val(&ini, "profile.wco", "xpath.lrn"),
	    "/d:Declaration/d:FunctionalReferenceID");
	CU_ASSERT_STRING_EQUAL(val(&ini, "profile.wco", "item.hs-x_1"),
	    " spaced ");
	CU_ASSERT_STRING_EQUAL(val(&ini, "server", "admin_listen"),
	    "127.0.0.1:8080");
	en = ini_find(&ini, "profile.wco", "root");
	CU_ASSERT_PTR_NOT_NULL_FATAL(en);
	CU_ASSERT_EQUAL(en->line, 14);
	CU_ASSERT_STRING_EQUAL(en->section, "profile.wco");
	CU_ASSERT_PTR_NULL(ini_find(&ini, "server", "cert"));
	CU_ASSERT_PTR_NULL(ini_find(&ini, "nope", "listen"));
	CU_ASSERT_PTR_NULL(ini_find(&ini, NULL, "listen"));
	ini_free(&ini);
	CU_ASSERT_EQUAL(ini.n, 0);
	CU_ASSERT_PTR_NULL(ini.v);
	ini_free(&ini); /* twice is fine */
	/* reusable */
	CU_ASSERT_EQUAL(ini_parse("[a]\nb=c\n", 8, &ini, &e), 0);
	CU_ASSERT_STRING_EQUAL(val(&ini, "a", "b"), "c");
	ini_free(&ini);
	CU_ASSERT_EQUAL(ini_parse("", 0, &ini, &e), 0);
	CU_ASSERT_EQUAL(ini.n, 0);
	CU_ASSERT_EQUAL(ini_parse("\xef\xbb\xbf[a]\nb=c", 10, &ini, &e), 0);
	CU_ASSERT_STRING_EQUAL(val(&ini, "a", "b"), "c");
	ini_free(&ini);
	err_clear(&e);
}

struct bad {
	const char *text;
	int line;
};

static void
test_syntax_errors(void)
{
	static const struct bad bad[] = {
		{ "[a]\nb = 1\njust words\n", 3 },
		{ "[a]\n\n\nb c = 1\n", 4 },
		{ "[a]\nb\xc3\xa9 = 1\n", 2 },
		{ "[a]\n= 1\n", 2 },
		{ "b = 1\n[a]\n", 1 },
		{ "[a]\nb = \"open\n", 2 },
		{ "[a]\nb = \"\n", 2 },
		{ "[a]\n[a b]\n", 2 },
		{ "[a]\n[]\n", 2 },
		{ "[a]\n[x\n", 2 },
		{ "[a]\n[x] y\n", 2 },
		{ "[a]\r\nb = 1\r\nc\r\n", 3 },
		{ "[a]\nb = 1\n[bad\nc = 2\n", 3 },
	};
	struct ini ini = { NULL, 0, 0 };
	struct errs e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_init(&e);
		CU_ASSERT_EQUAL(ini_parse(bad[i].text, strlen(bad[i].text), &ini,
		    &e), -1);
		CU_ASSERT_PTR_NULL(ini.v);
		CU_ASSERT_EQUAL(ini.n, 0);
		if (e.n == 0 || strcmp(e.v[0].code, "INI_SYNTAX") != 0 ||
		    e.v[0].line != bad[i].line)
			printf("\n  case %zu: %s line %d", i,
			    e.n ? e.v[0].code : "(none)", e.n ? e.v[0].line : 0);
		CU_ASSERT_EQUAL(e.n, 1);
		CU_ASSERT_STRING_EQUAL(err_first_code(&e), "INI_SYNTAX");
		CU_ASSERT_EQUAL(e.v[0].line, bad[i].line);
		err_clear(&e);
	}
	/* every error is reported, each with its own line */
	err_init(&e);
	CU_ASSERT_EQUAL(ini_parse("x\n[a]\ny\nok = 1\n[\nz", 18, &ini, &e), -1);
	CU_ASSERT_EQUAL_FATAL(e.n, 4);
	CU_ASSERT_EQUAL(e.v[0].line, 1);
	CU_ASSERT_EQUAL(e.v[1].line, 3);
	CU_ASSERT_EQUAL(e.v[2].line, 5);
	CU_ASSERT_EQUAL(e.v[3].line, 6);
	err_clear(&e);
	/* a NUL byte */
	err_init(&e);
	CU_ASSERT_EQUAL(ini_parse("[a]\nb = x\0y\n", 12, &ini, &e), -1);
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "INI_SYNTAX");
	CU_ASSERT_EQUAL(e.v[0].line, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.v[0].msg, "NUL"));
	err_clear(&e);
}

static void
test_duplicates(void)
{
	struct ini ini;
	struct errs e;

	err_init(&e);
	CU_ASSERT_EQUAL(ini_parse("[a]\nk = 1\n[b]\nk = 2\n[a]\nj = 3\nk = 4\n",
	    36, &ini, &e), -1);
	CU_ASSERT_EQUAL_FATAL(e.n, 1);
	CU_ASSERT_STRING_EQUAL(e.v[0].code, "INI_DUPLICATE");
	CU_ASSERT_EQUAL(e.v[0].line, 7);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.v[0].msg, "line 2"));
	err_clear(&e);
	/* keys are case-sensitive: not duplicates */
	CU_ASSERT_EQUAL(ini_parse("[a]\nk = 1\nK = 2\n", 16, &ini, &e), 0);
	CU_ASSERT_EQUAL(ini.n, 2);
	ini_free(&ini);
	err_clear(&e);
}

static void
test_limits(void)
{
	size_t cap = (INI_MAX_ENTRIES + 2) * 16 + INI_MAX_LINE + 64, pos;
	char *text = xmalloc(cap);
	struct ini ini;
	struct errs e;
	int i;

	err_init(&e);
	/* a line of exactly INI_MAX_LINE bytes, then one byte longer */
	pos = (size_t)sprintf(text, "[a]\nk = ");
	memset(text + pos, 'v', INI_MAX_LINE - 4);
	pos += INI_MAX_LINE - 4;
	text[pos] = '\0';
	CU_ASSERT_EQUAL(ini_parse(text, pos, &ini, &e), 0);
	CU_ASSERT_EQUAL(strlen(val(&ini, "a", "k")), INI_MAX_LINE - 4);
	ini_free(&ini);
	strcpy(text + pos, "v\r\n");
	CU_ASSERT_EQUAL(ini_parse(text, pos + 3, &ini, &e), -1);
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "INI_SYNTAX");
	CU_ASSERT_EQUAL(e.v[0].line, 2);
	err_clear(&e);
	/* INI_MAX_ENTRIES entries, then one more */
	pos = (size_t)sprintf(text, "[s]\n");
	for (i = 0; i < INI_MAX_ENTRIES; i++)
		pos += (size_t)sprintf(text + pos, "k%d = %d\n", i, i);
	CU_ASSERT_EQUAL(ini_parse(text, pos, &ini, &e), 0);
	CU_ASSERT_EQUAL(ini.n, INI_MAX_ENTRIES);
	CU_ASSERT_STRING_EQUAL(val(&ini, "s", "k1023"), "1023");
	ini_free(&ini);
	pos += (size_t)sprintf(text + pos, "extra = 1\n");
	CU_ASSERT_EQUAL(ini_parse(text, pos, &ini, &e), -1);
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "INI_SYNTAX");
	CU_ASSERT_EQUAL(e.v[0].line, INI_MAX_ENTRIES + 2);
	CU_ASSERT_EQUAL(ini.n, 0);
	err_clear(&e);
	free(text);
}

static void
test_load(void)
{
	char path[128], big[128];
	struct ini ini;
	struct errs e;
	FILE *f;
	int i;

	err_init(&e);
	snprintf(path, sizeof(path), "%s/ok.conf", tmpdir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("[database]\nconninfo = \"dbname=declared user=declared\"\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(ini_load(path, &ini, &e), 0);
	CU_ASSERT_STRING_EQUAL(val(&ini, "database", "conninfo"),
	    "dbname=declared user=declared");
	ini_free(&ini);
	unlink(path);
	CU_ASSERT_EQUAL(ini_load(path, &ini, &e), -1); /* gone */
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "INI_IO");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.v[0].msg, path));
	err_clear(&e);
	CU_ASSERT_EQUAL(ini_load(tmpdir, &ini, &e), -1); /* a directory */
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "INI_IO");
	err_clear(&e);
	snprintf(big, sizeof(big), "%s/big.conf", tmpdir);
	f = fopen(big, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("[a]\n", f);
	for (i = 0; i < 1024 * 1024 / 8; i++)
		fputs("# 12345\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(ini_load(big, &ini, &e), -1); /* over 1 MiB */
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "INI_IO");
	err_clear(&e);
	unlink(big);
}

int
main(void)
{
	int fails;

	if (mkdtemp(tmpdir) == NULL)
		return 2;
	static const struct unit_test tests[] = {
		{ "good file", test_good },
		{ "syntax errors and their lines", test_syntax_errors },
		{ "duplicates", test_duplicates },
		{ "limits", test_limits },
		{ "load", test_load },
	};

	fails = UNIT_SUITE("ini", NULL, NULL, tests);
	rmdir(tmpdir);
	return fails != 0;
}
