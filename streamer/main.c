/* radio-streamer: puts the station on air under an IPNS name. */
#include "cli.h"
#include "clock.h"
#include "err.h"
#include "ipfs.h"
#include "key_cmd.h"
#include "log.h"
#include "status_screen.h"
#include "streamer.h"
#include "streamer_config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG "config/streaming.config.json"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* The handler can only reach globals; main owns these. */
static struct streamer_signals g_sig = {0, 0, -1};
static int g_wake_write = -1;

static void on_signal(int signo)
{
    int saved = errno;
    if (signo == SIGHUP)
        g_sig.reload = 1;
    else
        g_sig.stop = 1;
    if (g_wake_write >= 0) {
        ssize_t ignored = write(g_wake_write, "x", 1);
        (void)ignored;
    }
    errno = saved;
}

static void usage(FILE *f)
{
    fputs("usage: radio-streamer [--config FILE] [--help] [--version]\n"
          "       radio-streamer [--config FILE] --status\n"
          "       radio-streamer [--config FILE] key name | key export FILE|- [--format libp2p|pem]\n"
          "                                      | key import FILE [--force]\n"
          "\n"
          "Plays the station: slides a window over the looping running order in\n"
          "processed/ by wall-clock time and republishes the live HLS playlist to\n"
          "an IPNS name. SIGHUP reloads processed/ at once; SIGTERM/SIGINT stop\n"
          "cleanly. State, the last playlist and status.json live in state_dir.\n"
          "\n"
          "  --config FILE            streamer config (default " DEFAULT_CONFIG ")\n"
          "  --print-config-reference print every config key as a Markdown table\n"
          "  --print-default-config   print a config file with every default\n"
          "  --check-config           validate the config and exit (0: valid, 2: not)\n"
          "  --status                 one screen of the station whose state_dir the config\n"
          "                           names: on air, what comes next, the last publish, any\n"
          "                           problem. Exit 0 on air, 1 off air, stale or not running\n"
          "  --help, --version\n"
          "\n"
          "The station key (ipns_mode station; see docs/identity.md):\n"
          "  key name                 print the station's IPNS name (k51...) and peer id\n"
          "                           form, creating the key on first use\n"
          "  key export FILE|-        write the key: libp2p protobuf, what Kubo's\n"
          "                           `ipfs key import NAME FILE` reads, or --format pem\n"
          "  key import FILE          make FILE (libp2p protobuf or PKCS#8 PEM) the\n"
          "                           station key; --force replaces a different one\n"
          "\n"
          "Exit status: 0 stopped cleanly; 1 could not start; 2 bad usage or config.\n"
          "With --status: 0 on air; 1 off air, stale or not running; 2 bad config.\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        {"format", required_argument, NULL, 'F'},
        {"force", no_argument, NULL, 'f'},
        {"status", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const struct cli_program prog = {"radio-streamer", RADIO_VERSION, usage, NULL,
                                     streamer_config_keys, streamer_config_nkeys};
    struct cli_args args = {DEFAULT_CONFIG, 0, 0};
    int c;
    struct key_cmd_opts kopts = {NULL, 0};
    int show_status = 0;
    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTIONS, opts, NULL)) != -1) {
        int r = cli_handle(&prog, c, optarg, &args);
        if (r == CLI_CONTINUE)
            continue;
        if (r != CLI_NOT_SHARED)
            return r;
        switch (c) {
        case 'F':
            kopts.format = optarg;
            break;
        case 'f':
            kopts.force = 1;
            break;
        case 's':
            show_status = 1;
            break;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    int key_cmd = optind < argc && strcmp(argv[optind], "key") == 0;
    if (optind < argc && !key_cmd) {
        fprintf(stderr, "radio-streamer: unexpected argument: %s\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (!key_cmd && (kopts.format || kopts.force)) {
        fprintf(stderr, "radio-streamer: %s only applies to the key command\n", kopts.format ? "--format" : "--force");
        return EXIT_USAGE;
    }
    char err[ERR_MSG_MAX];
    struct streamer_config cfg = {0};
    const char *config = args.config, *use;
    if (cli_load_config(config, args.explicit_config, streamer_config_keys, streamer_config_nkeys, &cfg, &use, err,
                        sizeof err) != 0 ||
        streamer_config_check(&cfg, use ? use : "defaults", err, sizeof err) != 0) {
        fprintf(stderr, "radio-streamer: %s\n", err);
        cfg_free(streamer_config_keys, streamer_config_nkeys, &cfg);
        return EXIT_USAGE;
    }
    if (key_cmd) {
        int rc = sodium_init() < 0 ? err_set(err, sizeof err, "cannot initialise libsodium")
                                   : key_cmd_run(&cfg, &kopts, argc - optind - 1, argv + optind + 1, stdout, err,
                                                 sizeof err);
        if (rc != 0)
            fprintf(stderr, "radio-streamer: %s\n", err);
        cfg_free(streamer_config_keys, streamer_config_nkeys, &cfg);
        return rc == 0 ? EXIT_OK : EXIT_FAIL;
    }
    if (show_status && !key_cmd) {
        enum status_verdict v = status_screen_run(&cfg, clock_system.now(clock_system.ctx), stdout);
        cfg_free(streamer_config_keys, streamer_config_nkeys, &cfg);
        return v == STATUS_ON_AIR ? EXIT_OK : EXIT_FAIL;
    }
    if (args.check_only) {
        printf("%s: valid\n", config);
        cfg_free(streamer_config_keys, streamer_config_nkeys, &cfg);
        return EXIT_OK;
    }
    enum log_level lvl;
    if (log_level_parse(cfg.log_level, &lvl) == 0)
        log_set_level(lvl);
    if (!use)
        log_ev(LOG_NOTICE, "no config file; using built-in defaults", "config", config, NULL);
    if (sodium_init() < 0 || ipfs_global_init(err, sizeof err) != 0) {
        fprintf(stderr, "radio-streamer: cannot initialise libraries\n");
        cfg_free(streamer_config_keys, streamer_config_nkeys, &cfg);
        return EXIT_FAIL;
    }
    int pipefd[2];
    if (pipe(pipefd) == 0) {
        fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
        fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
        g_sig.wake_fd = pipefd[0];
        g_wake_write = pipefd[1];
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = streamer_run(&cfg, &clock_system, &g_sig, err, sizeof err);
    if (rc != 0)
        log_ev(LOG_ERROR, "streamer could not start", "error", err, NULL);
    cfg_free(streamer_config_keys, streamer_config_nkeys, &cfg);
    return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
