/* fuzz_config: the configuration parser.  Each input is parsed by lib/ini
 * directly and then loaded as a whole declared.conf by daemon/config.c
 * (through a memfd, so that config_load reads it like a file, checks the
 * keys, the values and the paths, and frees everything). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ini ini;
	struct errs e;
	struct config *c, *c2;
	char path[64];
	int fd;

	memset(&ini, 0, sizeof(ini));
	err_init(&e);
	if (ini_parse((const char *)data, size, &ini, &e) == 0) {
		if (ini.n > 0)
			(void)ini_find(&ini, ini.v[0].section, ini.v[0].key);
	}
	ini_free(&ini);
	err_clear(&e);
	if (size > (1u << 20) || (fd = memfd_create("fuzz.conf", MFD_CLOEXEC)) < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		err_init(&e);
		if ((c = config_load(path, &e)) != NULL) {
			/* a reload onto itself changes nothing */
			if ((c2 = config_load(path, &e)) != NULL) {
				if (config_check_reload(c, c2, &e) != 0)
					abort();
				config_free(c2);
			}
			config_free(c);
		}
		err_clear(&e);
	}
	close(fd);
	return 0;
}
