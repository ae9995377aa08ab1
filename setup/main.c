/* radio-setup: cut the music library and jingles into AAC segments on IPFS. */
#include "cli.h"
#include "err.h"
#include "ipfs.h"
#include "log.h"
#include "setup_config.h"
#include "setup_run.h"

#include <getopt.h>
#include <libavutil/log.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG "config/setup.config.json"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_SKIPPED = 3 };

static void usage(FILE *f)
{
    fputs("usage: radio-setup [--config FILE] [--help] [--version]\n"
          "\n"
          "Cuts the music library and the station's jingles into fixed-length AAC\n"
          "segments, adds them to IPFS, and writes processed/manifest.json and\n"
          "processed/playlist.m3u. Re-running redoes only what changed.\n"
          "\n"
          "  --config FILE            setup config (default " DEFAULT_CONFIG ")\n"
          "  --print-config-reference print every config key as a Markdown table\n"
          "  --print-default-config   print a config file with every default\n"
          "  --check-config           validate the config and exit (0: valid, 2: not)\n"
          "  --help, --version\n"
          "\n"
          "Exit status: 0 done; 1 failed (processed/ left as it was, or complete when\n"
          "only the listener page could not be added); 2 bad usage or\n"
          "config; 3 done, but some source files were skipped, damaged or mostly\n"
          "silence, listed files not found, or names like audio files were links\n"
          "to nothing or not files (each one is logged).\n",
          f);
}

static void print_reference(FILE *f)
{
    fputs("setup.config.json:\n\n", f);
    cfg_print_reference(setup_config_keys, setup_config_nkeys, f);
    fputs("\nplaylist.config.json:\n\n", f);
    cfg_print_reference(playlist_config_keys, playlist_config_nkeys, f);
}

static int load_configs(const char *path, int explicit_path, struct setup_config *cfg,
                        struct playlist_config *pc, char *err, size_t errlen)
{
    const char *use, *pcuse;
    if (cli_load_config(path, explicit_path, setup_config_keys, setup_config_nkeys, cfg, &use, err, errlen) != 0 ||
        setup_config_check(cfg, use ? use : "defaults", err, errlen) != 0)
        return -1;
    if (!use)
        log_ev(LOG_NOTICE, "no config file; using built-in defaults", "config", path, NULL);
    if (cli_load_config(cfg->playlist_config, 0, playlist_config_keys, playlist_config_nkeys, pc, &pcuse, err,
                        errlen) != 0)
        return -1;
    if (!pcuse)
        log_ev(LOG_NOTICE, "no playlist config; using built-in defaults", "config", cfg->playlist_config, NULL);
    return playlist_config_check(pc, pcuse ? pcuse : "defaults", err, errlen);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    const struct cli_program prog = {"radio-setup", RADIO_VERSION, usage, print_reference,
                                     setup_config_keys, setup_config_nkeys};
    struct cli_args args = {DEFAULT_CONFIG, 0, 0};
    int c;
    while ((c = getopt_long(argc, argv, CLI_SHORT_OPTIONS, opts, NULL)) != -1) {
        int r = cli_handle(&prog, c, optarg, &args);
        if (r == CLI_NOT_SHARED) {
            usage(stderr);
            return EXIT_USAGE;
        }
        if (r != CLI_CONTINUE)
            return r;
    }
    const char *config = args.config;
    if (optind < argc) {
        fprintf(stderr, "radio-setup: unexpected argument: %s\n", argv[optind]);
        return EXIT_USAGE;
    }

    char err[ERR_MSG_MAX];
    if (sodium_init() < 0 || ipfs_global_init(err, sizeof err) != 0) {
        fprintf(stderr, "radio-setup: cannot initialise libraries\n");
        return EXIT_FAIL;
    }
    struct setup_config cfg = {0};
    struct playlist_config pc = {0};
    if (load_configs(config, args.explicit_config, &cfg, &pc, err, sizeof err) != 0) {
        fprintf(stderr, "radio-setup: %s\n", err);
        cfg_free(setup_config_keys, setup_config_nkeys, &cfg);
        cfg_free(playlist_config_keys, playlist_config_nkeys, &pc);
        return EXIT_USAGE;
    }
    if (args.check_only) {
        printf("%s: valid\n", config);
        cfg_free(setup_config_keys, setup_config_nkeys, &cfg);
        cfg_free(playlist_config_keys, playlist_config_nkeys, &pc);
        return EXIT_OK;
    }
    enum log_level lvl;
    if (log_level_parse(cfg.log_level, &lvl) == 0)
        log_set_level(lvl);
    /* Decoder chatter about a damaged file is summed up in our own
     * "skipping file" line; FFmpeg's own lines are kept for debugging. */
    av_log_set_level(lvl == LOG_DEBUG ? AV_LOG_WARNING : AV_LOG_FATAL);

    struct setup_result res;
    int rc = setup_run(&cfg, &pc, &res, err, sizeof err);
    int status = EXIT_OK;
    if (rc != 0) {
        log_ev(LOG_ERROR, "setup failed; processed/ left as it was", "error", err, NULL);
        status = res.bad_config ? EXIT_USAGE : EXIT_FAIL;
    } else {
        char damaged[16], unpinned[16], left_out[16], silent[16];
        snprintf(silent, sizeof silent, "%d", res.silent);
        snprintf(left_out, sizeof left_out, "%d", res.left_out);
        snprintf(damaged, sizeof damaged, "%d", res.damaged);
        snprintf(unpinned, sizeof unpinned, "%d", res.unpinned);
        char enc[16], cached[16], skipped[16], removed[16], reup[16], music[16], jingles[16], missing[16];
        snprintf(enc, sizeof enc, "%d", res.encoded);
        snprintf(cached, sizeof cached, "%d", res.cached);
        snprintf(skipped, sizeof skipped, "%d", res.skipped);
        snprintf(removed, sizeof removed, "%d", res.removed);
        snprintf(reup, sizeof reup, "%d", res.reuploaded);
        snprintf(music, sizeof music, "%d", res.music);
        snprintf(jingles, sizeof jingles, "%d", res.jingles);
        snprintf(missing, sizeof missing, "%d", res.missing);
        char art_made[16], art_errors[16];
        snprintf(art_made, sizeof art_made, "%d", res.artwork_made);
        snprintf(art_errors, sizeof art_errors, "%d", res.artwork_errors);
        int nothing = res.encoded == 0 && res.artwork_made == 0 && res.reuploaded == 0 && res.removed == 0 && res.unpinned == 0 &&
                      !res.playlist_written && !res.manifest_written && !res.page.added &&
                      !res.page.written;
        if (res.page_error[0])
            log_ev(LOG_ERROR, "listener page not added", "error", res.page_error, NULL);
        else if (res.page.absent)
            log_ev(LOG_WARN, "no listener page folder; none added", "page_dir", cfg.page_dir, NULL);
        else if (cfg.page_dir[0])
            log_ev(LOG_INFO, res.page.added ? "listener page added" : "listener page unchanged",
                   "cid", res.page.cid, NULL);
        int content_errors = res.skipped || res.missing || res.damaged || res.left_out || res.silent ||
                             res.artwork_errors;
        log_ev(content_errors ? LOG_WARN : LOG_INFO,
               nothing ? "setup done: nothing changed, nothing decoded, nothing uploaded"
                       : "setup done",
               "encoded", enc, "cached", cached, "skipped", skipped, "damaged", damaged, "silent", silent, "removed", removed,
               "unpinned", unpinned, "segments_readded", reup, "music", music, "jingles", jingles, "missing", missing, "left_out", left_out,
               "artwork_made", art_made, "artwork_errors", art_errors, "playlist",
               res.playlist_written ? "written" : "unchanged", "manifest",
               res.manifest_written ? "written" : "unchanged", NULL);
        if (content_errors)
            status = EXIT_SKIPPED;
        if (res.page_error[0])
            status = EXIT_FAIL;
    }
    cfg_free(setup_config_keys, setup_config_nkeys, &cfg);
    cfg_free(playlist_config_keys, playlist_config_nkeys, &pc);
    return status;
}
