/* radio-healthmon: listen to the station through its gateways and report
 * whether it is live and audible. */
#include "analyze.h"
#include "cli.h"
#include "clock.h"
#include "err.h"
#include "health.h"
#include "hm_config.h"
#include "ipfs.h"
#include "log.h"
#include "monitor.h"
#include "server.h"

#include <errno.h>
#include <getopt.h>
#include <libavutil/log.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONFIG "config/healthmon.config.json"

/* --once reports the station's status; the others are the program's own. */
enum { EXIT_OK = 0, EXIT_DEGRADED = 1, EXIT_DOWN = 2, EXIT_USAGE = 2, EXIT_FAIL = 1 };

static void usage(FILE *f)
{
    fputs("usage: radio-healthmon [--config FILE] [--once] [--help] [--version]\n"
          "       radio-healthmon [--config FILE] --analyze SEGMENT...\n"
          "\n"
          "Listens to the station through its local and public gateways as a player\n"
          "would: playlist freshness and rules, segment integrity against their CIDs,\n"
          "decoding, loudness, silence and clipping. Serves GET /health (JSON) and\n"
          "GET /metrics (Prometheus) and writes health.json after every round.\n"
          "\n"
          "  --config FILE            healthmon config (default " DEFAULT_CONFIG ")\n"
          "  --once                   one round, print the health JSON, exit with its status\n"
          "  --analyze SEGMENT...     measure segment files as a round would, print JSON\n"
          "  --print-config-reference print every config key as a Markdown table\n"
          "  --print-default-config   print a config file with every default\n"
          "  --check-config           validate the config and exit (0: valid, 2: not)\n"
          "  --help, --version\n"
          "\n"
          "Exit status of --once: 0 ok, 1 degraded, 2 down. --analyze: 0 measured, 1 no\n"
          "file decoded. The daemon: 0 stopped by SIGTERM or SIGINT; 1 failed (e.g. cannot\n"
          "listen). Any mode: 2 bad usage or config (one line on stderr names the key and\n"
          "file).\n",
          f);
}

static int load_config(const char *path, int explicit_path, struct hm_config *cfg, char *err,
                       size_t errlen)
{
    const char *use;
    if (cli_load_config(path, explicit_path, hm_config_keys, hm_config_nkeys, cfg, &use, err, errlen) != 0)
        return -1;
    if (!use)
        log_ev(LOG_NOTICE, "no config file; using built-in defaults", "config", path, NULL);
    return hm_config_check(cfg, use ? use : "defaults", err, errlen);
}

/* Sleeps until mono time `until` or a stop signal (blocked in every
 * thread and taken here synchronously). Returns 1 if asked to stop. */
static int wait_or_stop(const struct clock *clk, const sigset_t *stop, double until)
{
    for (;;) {
        double left = until - clk->mono(clk->ctx);
        if (left <= 0)
            return 0;
        struct timespec ts = {(time_t)left, (long)((left - floor(left)) * 1e9)};
        int sig = sigtimedwait(stop, NULL, &ts);
        if (sig > 0) {
            log_ev(LOG_NOTICE, "stopping", "signal", strsignal(sig), NULL);
            return 1;
        }
        if (errno != EAGAIN && errno != EINTR)
            return 1;
    }
}

static int run_once(struct hm_monitor *m)
{
    const struct hm_round *r = hm_monitor_round(m);
    char err[ERR_MSG_MAX], *json = NULL;
    if (hm_monitor_output(m, NULL, &json, err, sizeof err) != 0)
        log_ev(LOG_ERROR, "cannot write health output", "error", err, NULL);
    if (!json) {
        fprintf(stderr, "radio-healthmon: out of memory\n");
        return EXIT_DOWN;
    }
    printf("%s\n", json);
    free(json);
    return r->status == HM_OK ? EXIT_OK : r->status == HM_DEGRADED ? EXIT_DEGRADED : EXIT_DOWN;
}

static int run_daemon(struct hm_monitor *m, const struct hm_config *cfg, const sigset_t *stop)
{
    char err[ERR_MSG_MAX];
    struct hm_server *srv = NULL;
    if (cfg->listen[0]) {
        struct hm_server_opts so = {cfg->listen, cfg->cors_allow_origin, cfg->http_max_connections,
                                    cfg->http_connection_timeout_seconds};
        if (hm_server_start(&srv, &so, err, sizeof err) != 0) {
            log_ev(LOG_ERROR, "cannot start the HTTP server", "error", err, NULL);
            return EXIT_FAIL;
        }
        char port[16];
        snprintf(port, sizeof port, "%d", hm_server_port(srv));
        log_ev(LOG_INFO, "serving /health and /metrics", "listen", cfg->listen, "port", port, NULL);
        char *starting = hm_health_starting_json(m->clk.now(m->clk.ctx));
        if (starting)
            hm_server_publish(srv, starting, hm_health_http_status(HM_DOWN), "");
        free(starting);
    }
    const struct clock *clk = &m->clk;
    double next = clk->mono(clk->ctx);
    int write_failing = 0, late_streak = 0;
    do {
        hm_monitor_round(m);
        if (hm_monitor_output(m, srv, NULL, err, sizeof err) != 0) {
            /* Said once per failure streak: the HTTP answers stay current. */
            if (!write_failing)
                log_ev(LOG_ERROR, "cannot write health output", "error", err, NULL);
            write_failing = 1;
        } else {
            write_failing = 0;
        }
        next += cfg->interval_seconds;
        double now = clk->mono(clk->ctx);
        /* Slow gateways can stretch every round past the interval; say so
         * when it starts and when it ends, not every round. */
        if (next < now) {
            if (!late_streak++) {
                char late[32];
                snprintf(late, sizeof late, "%.3f", now - next);
                log_ev(LOG_WARN, "rounds take longer than the interval; each starts when the last ends",
                       "late_seconds", late, NULL);
            }
            next = now;
        } else if (late_streak) {
            log_ev(LOG_NOTICE, "rounds back on schedule", NULL);
            late_streak = 0;
        }
    } while (!wait_or_stop(clk, stop, next));
    hm_server_stop(srv);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        {"once", no_argument, NULL, 'o'},
        {"analyze", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    const struct cli_program prog = {"radio-healthmon", RADIO_VERSION, usage, NULL,
                                     hm_config_keys, hm_config_nkeys};
    struct cli_args args = {DEFAULT_CONFIG, 0, 0};
    int once = 0, analyze = 0;
    int c;
    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTIONS, opts, NULL)) != -1) {
        int r = cli_handle(&prog, c, optarg, &args);
        if (r == CLI_CONTINUE)
            continue;
        if (r != CLI_NOT_SHARED)
            return r;
        switch (c) {
        case 'o':
            once = 1;
            break;
        case 'a':
            analyze = 1;
            break;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (analyze && once) {
        fprintf(stderr, "radio-healthmon: --analyze and --once do not go together\n");
        return EXIT_USAGE;
    }
    if (analyze ? optind >= argc : optind < argc) {
        fprintf(stderr, analyze ? "radio-healthmon: --analyze needs segment files\n"
                                : "radio-healthmon: unexpected argument\n");
        return EXIT_USAGE;
    }

    char err[ERR_MSG_MAX];
    struct hm_config cfg = {0};
    const char *config = args.config;
    if (load_config(config, args.explicit_config, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "radio-healthmon: %s\n", err);
        cfg_free(hm_config_keys, hm_config_nkeys, &cfg);
        return EXIT_USAGE;
    }
    if (args.check_only) {
        printf("%s: valid\n", config);
        cfg_free(hm_config_keys, hm_config_nkeys, &cfg);
        return EXIT_OK;
    }
    enum log_level lvl;
    if (log_level_parse(cfg.log_level, &lvl) == 0)
        log_set_level(lvl);
    /* A damaged segment is summed up in our own report; FFmpeg's lines
     * about it are kept for debugging. */
    av_log_set_level(lvl == LOG_DEBUG ? AV_LOG_WARNING : AV_LOG_FATAL);

    if (analyze) {
        int rc = hm_analyze_files(&cfg, argv + optind, (size_t)(argc - optind), err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "radio-healthmon: %s\n", err);
        cfg_free(hm_config_keys, hm_config_nkeys, &cfg);
        return rc == 0 ? EXIT_OK : EXIT_FAIL;
    }

    if (sodium_init() < 0 || ipfs_global_init(err, sizeof err) != 0) {
        fprintf(stderr, "radio-healthmon: cannot initialise libraries\n");
        cfg_free(hm_config_keys, hm_config_nkeys, &cfg);
        return EXIT_FAIL;
    }
    /* The daemon takes stop signals synchronously in its round loop;
     * blocking them before any thread starts keeps them off the workers.
     * --once keeps the default: a signal simply ends it. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (!once)
        pthread_sigmask(SIG_BLOCK, &stop, NULL);
    /* A gateway closing a connection mid-answer must not kill us. */
    signal(SIGPIPE, SIG_IGN);

    struct hm_monitor m;
    int status;
    if (hm_monitor_init(&m, &cfg, &clock_system, err, sizeof err) != 0) {
        fprintf(stderr, "radio-healthmon: %s\n", err);
        status = EXIT_FAIL;
    } else {
        status = once ? run_once(&m) : run_daemon(&m, &cfg, &stop);
        hm_monitor_free(&m);
    }
    cfg_free(hm_config_keys, hm_config_nkeys, &cfg);
    return status;
}
