/* Rounds: every gateway probed at once (one thread each, so a slow public
 * gateway never holds up the local one), the results judged, counted,
 * kept in the history and written out. */
#ifndef RADIO_HM_MONITOR_H
#define RADIO_HM_MONITOR_H

#include <stddef.h>

#include "clock.h"
#include "health.h"
#include "hm_config.h"
#include "probe.h"
#include "server.h"

struct hm_monitor {
    const struct hm_config *cfg;
    struct hm_probe_settings settings;
    struct clock clk;
    struct hm_gateway *gw;
    size_t ngw;
    struct hm_gateway_report *reports;
    struct hm_history *history;
    struct hm_audio_cache *audio_cache;
    struct hm_round round;
    unsigned long rounds_total[HM_DOWN + 1];
    int have_status;
    enum hm_severity last_status;
    long takeovers_seen;            /* the streamer's takeover count at the last round, -1 before */
};

int hm_monitor_init(struct hm_monitor *m, const struct hm_config *cfg, const struct clock *clk,
                    char *err, size_t errlen);
void hm_monitor_free(struct hm_monitor *m);

/* Runs one round and returns it (valid until the next round). */
const struct hm_round *hm_monitor_round(struct hm_monitor *m);

/* Writes health.json (if configured) and hands the documents to the HTTP
 * server (if any). Returns 0, or -1 if the file could not be written
 * (the server still gets the round). json_out, if given, receives the
 * JSON text for the caller to free. */
int hm_monitor_output(struct hm_monitor *m, struct hm_server *srv, char **json_out,
                      char *err, size_t errlen);

#endif
