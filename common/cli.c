#include "cli.h"

#include <unistd.h>

int cli_handle(const struct cli_program *p, int opt, const char *arg, struct cli_args *a)
{
    switch (opt) {
    case 'c':
        a->config = arg;
        a->explicit_config = 1;
        return CLI_CONTINUE;
    case 'C':
        a->check_only = 1;
        return CLI_CONTINUE;
    case 'h':
        p->usage(stdout);
        return 0;
    case 'V':
        printf("%s %s\n", p->name, p->version);
        return 0;
    case 'R':
        if (p->print_reference)
            p->print_reference(stdout);
        else
            cfg_print_reference(p->keys, p->nkeys, stdout);
        return 0;
    case 'D':
        cfg_print_defaults(p->keys, p->nkeys, stdout);
        return 0;
    default:
        return CLI_NOT_SHARED;
    }
}

int cli_load_config(const char *path, int explicit_path, const struct cfg_key *keys, size_t nkeys,
                    void *cfg, const char **used, char *err, size_t errlen)
{
    *used = explicit_path || access(path, F_OK) == 0 ? path : NULL;
    return cfg_load(*used, keys, nkeys, cfg, err, errlen);
}
