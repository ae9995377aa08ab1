#include "key_cmd.h"

#include "atomic.h"
#include "err.h"
#include "ipns_key.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int key_cmd_path(const struct streamer_config *cfg, char *out, size_t outlen, char *err, size_t errlen)
{
    if (cfg->station_key_file[0])
        return fs_path(out, outlen, err, errlen, "%s", cfg->station_key_file);
    return fs_path(out, outlen, err, errlen, "%s/station.key", cfg->state_dir);
}

static int print_name(const struct ipns_key *k, FILE *out)
{
    char name[IPNS_NAME_MAX], peer[IPNS_NAME_MAX];
    if (ipns_key_name(k->pk, name, sizeof name) != 0 || ipns_key_peer_id(k->pk, peer, sizeof peer) != 0)
        return -1;
    fprintf(out, "%s\n%s\n", name, peer);
    return 0;
}

static int cmd_name(const char *path, FILE *out, char *err, size_t errlen)
{
    struct ipns_key k;
    int created;
    if (fs_mkdirs_parent(path, err, errlen) != 0)
        return -1;
    if (ipns_key_open(path, &k, &created, err, errlen) != 0) {
        ipns_key_wipe(&k);
        return -1;
    }
    if (created)
        fprintf(stderr, "radio-streamer: created a new station key in %s\n", path);
    int rc = print_name(&k, out);
    ipns_key_wipe(&k);
    return rc;
}

static int cmd_export(const char *path, const char *file, const char *format, FILE *out, char *err, size_t errlen)
{
    enum ipns_key_format f;
    if (!format || strcmp(format, "libp2p") == 0)
        f = IPNS_KEY_LIBP2P;
    else if (strcmp(format, "pem") == 0)
        f = IPNS_KEY_PEM;
    else
        return err_set(err, errlen, "--format must be libp2p or pem");
    struct ipns_key k;
    if (ipns_key_load(path, &k, err, errlen) != 0)
        return -1;
    char buf[512];
    int n = ipns_key_export(&k, f, buf, sizeof buf);
    ipns_key_wipe(&k);
    int rc;
    if (n < 0)
        rc = err_set(err, errlen, "cannot encode the key");
    else if (strcmp(file, "-") == 0)
        rc = fwrite(buf, 1, (size_t)n, out) == (size_t)n ? 0 : err_set(err, errlen, "write failed");
    else
        rc = atomic_write_private(file, buf, (size_t)n, err, errlen);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

static int cmd_import(const char *path, const char *file, int force, FILE *out, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    if (atomic_read(file, IPNS_KEY_FILE_MAX, &data, &len, err, errlen) != 0)
        return -1;
    struct ipns_key k, old;
    int rc = ipns_key_parse(&k, data, len, err, errlen);
    sodium_memzero(data, len);
    free(data);
    if (rc != 0)
        return err_prefix(err, errlen, "%s", file);
    struct stat sb;
    if (lstat(path, &sb) == 0 && !force) {
        /* A key that cannot be read (mode, corruption) says why, as is. */
        if (ipns_key_load(path, &old, err, errlen) != 0) {
            ipns_key_wipe(&k);
            return -1;
        }
        int same = sodium_memcmp(old.sk, k.sk, sizeof k.sk) == 0;
        ipns_key_wipe(&old);
        if (!same) {
            ipns_key_wipe(&k);
            return err_set(err, errlen, "%s already holds a different station key (its name would change); "
                           "use --force to replace it", path);
        }
    }
    rc = fs_mkdirs_parent(path, err, errlen) == 0 && ipns_key_save(path, &k, err, errlen) == 0 ? 0 : -1;
    if (rc == 0)
        rc = print_name(&k, out);
    ipns_key_wipe(&k);
    return rc;
}

int key_cmd_run(const struct streamer_config *cfg, const struct key_cmd_opts *o, int argc, char **argv,
                FILE *out, char *err, size_t errlen)
{
    char path[4096];
    if (key_cmd_path(cfg, path, sizeof path, err, errlen) != 0)
        return -1;
    if (argc == 1 && strcmp(argv[0], "name") == 0)
        return cmd_name(path, out, err, errlen);
    if (argc == 2 && strcmp(argv[0], "export") == 0)
        return cmd_export(path, argv[1], o->format, out, err, errlen);
    if (argc == 2 && strcmp(argv[0], "import") == 0)
        return cmd_import(path, argv[1], o->force, out, err, errlen);
    return err_set(err, errlen, "usage: key name | key export FILE|- [--format libp2p|pem] | key import FILE [--force]");
}
