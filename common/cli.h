/* The command line the three programs share: --config FILE, --help,
 * --version, --print-config-reference, --print-default-config and
 * --check-config, and loading a config file that may be absent. */
#ifndef RADIO_CLI_H
#define RADIO_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

#define CLI_COMMON_OPTIONS                                                                  \
    {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},             \
        {"version", no_argument, NULL, 'V'}, {"print-config-reference", no_argument, NULL, 'R'}, \
        {"print-default-config", no_argument, NULL, 'D'}, {"check-config", no_argument, NULL, 'C'}
#define CLI_SHORT_OPTIONS "c:hV"

struct cli_program {
    const char *name;                  /* "radio-setup", for --version */
    const char *version;
    void (*usage)(FILE *f);
    void (*print_reference)(FILE *f);  /* --print-config-reference; NULL: the keys' table */
    const struct cfg_key *keys;        /* --print-default-config (and the reference) */
    size_t nkeys;
};

struct cli_args {
    const char *config;                /* starts as the program's default path */
    int explicit_config;               /* named with --config */
    int check_only;                    /* --check-config */
};

enum { CLI_CONTINUE = -1, CLI_NOT_SHARED = -2 };

/* One getopt_long result: CLI_CONTINUE when it was a shared option and
 * parsing goes on, an exit status (0) when the program has done what was
 * asked (help, version, printing), CLI_NOT_SHARED for the program's own
 * options and for errors, which the program handles. */
int cli_handle(const struct cli_program *p, int opt, const char *arg, struct cli_args *a);

/* Loads the config at path into cfg. A file missing at a default path
 * means the built-in defaults (*used is then NULL); one the operator named
 * must exist. *used is the path read, for messages. */
int cli_load_config(const char *path, int explicit_path, const struct cfg_key *keys, size_t nkeys,
                    void *cfg, const char **used, char *err, size_t errlen);

#endif
