#include "watch.h"

#include "manifest.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void sig_of(const char *path, int64_t out[3])
{
    struct stat st;
    if (stat(path, &st) != 0) {
        out[0] = out[1] = out[2] = -1;
        return;
    }
    out[0] = (int64_t)st.st_ino;
    out[1] = (int64_t)st.st_size;
    out[2] = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

void watch_init(struct watch *w, const char *processed_dir)
{
    memset(w, 0, sizeof *w);
    snprintf(w->manifest, sizeof w->manifest, "%s/manifest.json", processed_dir);
    snprintf(w->playlist, sizeof w->playlist, "%s/playlist.m3u", processed_dir);
    snprintf(w->clock, sizeof w->clock, "%s/" CLOCK_FILE, processed_dir);
    watch_mark(w);
}

int watch_changed(const struct watch *w)
{
    int64_t now[3][3];
    sig_of(w->manifest, now[0]);
    sig_of(w->playlist, now[1]);
    sig_of(w->clock, now[2]);
    return memcmp(now, w->sig, sizeof now) != 0;
}

void watch_mark(struct watch *w)
{
    sig_of(w->manifest, w->sig[0]);
    sig_of(w->playlist, w->sig[1]);
    sig_of(w->clock, w->sig[2]);
}
