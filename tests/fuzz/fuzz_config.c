/*
 * libFuzzer target for the config parser: any bytes must load or fail with
 * diagnostics, never crash, hang or leak. Commands are not checked (no filesystem).
 *
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Isrc \
 *       tests/fuzz/fuzz_config.c src/config/config.c src/config/yaml.c \
 *       src/core/{xmalloc,buf,log,err,util,json}.c \
 *       $(pkg-config --cflags --libs yaml-0.1 libsodium jansson) -o fuzz_config
 *   ./fuzz_config -dict=tests/fuzz/config.dict -max_total_time=60 \
 *       tests/fuzz/corpus/config
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct cfg_diags diags;
	char digest[65];
	size_t i;

	if (config_load_string("fuzz.yaml", (const char *)data, size, false,
	    &cfg, &diags) == 0) {
		for (i = 0; i < cfg.napps; i++)
			cfg_app_digest(&cfg.apps[i], digest);
		config_release(&cfg);
	}
	for (i = 0; i < diags.n; i++)
		free(cfg_diag_format(&diags.items[i]));
	cfg_diags_release(&diags);
	return 0;
}
