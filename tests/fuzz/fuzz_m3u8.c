/* libFuzzer target: the bounded HLS playlist parser and healthmon's checks
 * on whatever it accepts, as a gateway's answer would reach them. Two
 * rounds per input (the second against what the first remembered) so the
 * sequence and URI comparisons run too. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "m3u8.h"
#include "playlist_check.h"
#include "problem.h"

#define FUZZ_NOW 1795000000.0
#define FUZZ_LATER 12.0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_round(const char *text, size_t len, double now, struct hm_playlist_memory *mem)
{
    struct m3u8_playlist pl;
    char err[256];
    if (m3u8_parse(text, len, &pl, err, sizeof err) != 0)
        return;
    const struct hm_playlist_limits lim = {3, 0.5, 3600};
    struct hm_playlist_facts f;
    struct hm_problems probs = {0};
    hm_playlist_check(&pl, now, now - FUZZ_NOW, &lim, mem, &f, &probs);
    for (size_t i = 0; i < pl.nsegs; i++)
        (void)hm_segment_pdt(&pl, i);
    m3u8_free(&pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hm_playlist_memory mem = {0};
    /* The second round sees the input minus its first line: a moved window. */
    const char *text = (const char *)data;
    one_round(text, size, FUZZ_NOW, &mem);
    const char *nl = memchr(text, '\n', size);
    size_t skip = nl ? (size_t)(nl - text) + 1 : 0;
    one_round(text + skip, size - skip, FUZZ_NOW + FUZZ_LATER, &mem);
    hm_playlist_memory_free(&mem);
    return 0;
}
